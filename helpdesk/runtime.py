"""Process-level guards for serving the helpdesk.

Socket.IO keeps each connection's rooms in the memory of the process that holds it. Two
processes without a shared message queue would each deliver only to their own clients:
a buyer on one and an agent on the other would never hear each other. So a serving
process without ``SOCKETIO_MESSAGE_QUEUE`` takes an exclusive lock tied to the database,
and a second one refuses to start. The lock dies with its process (an ``flock`` on a
file beside the SQLite database; a session advisory lock on PostgreSQL), so a crash never
leaves a stale claim behind.
"""
from __future__ import annotations

import fcntl
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from helpdesk.extensions import db

ADVISORY_KEY = 0x68656C70_63686174  # "helpchat": one key per database
_held: list = []  # what keeps this process's lock alive


class SecondProcessRefused(RuntimeError):
    """Another process already serves the chat on this database without a message queue."""


MESSAGE = ("Another helpdesk process is already serving this database, and SOCKETIO_MESSAGE_QUEUE is not set: "
           "chat messages would not reach clients of the other process. Run one process, or set "
           "SOCKETIO_MESSAGE_QUEUE=redis://... on every process (see the README's production layout).")


def claim_single_process(app: Flask) -> bool:
    """Take this database's serving lock unless a message queue joins the processes.

    Returns:
        True when the lock was taken, False when none is needed (a message queue is set,
        or the database lives in memory).

    Raises:
        SecondProcessRefused: another live process holds the lock.
    """
    if app.config["SOCKETIO_MESSAGE_QUEUE"]:
        return False
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return False
        lock = open(Path(url.database).with_name(Path(url.database).name + ".serving-lock"), "a")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise SecondProcessRefused(MESSAGE) from None
        _held.append(lock)
        return True
    with app.app_context():
        connection = db.engine.connect()
    won = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
    connection.commit()  # the lock belongs to the session, not the transaction
    if not won:
        connection.close()
        raise SecondProcessRefused(MESSAGE)
    _held.append(connection)
    return True
