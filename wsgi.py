"""WSGI entry point: ``gunicorn wsgi:app`` (or ``flask --app wsgi run`` in development).

A serving process without ``SOCKETIO_MESSAGE_QUEUE`` refuses to start beside another one
on the same database (see :mod:`helpdesk.runtime`); CLI commands such as ``flask db
upgrade`` import this module too and are not serving, so they take no lock.
"""
import sys

import click

from helpdesk import create_app
from helpdesk.runtime import SecondProcessRefused, claim_single_process
from helpdesk.scheduler import start_in_process

app = create_app()

_command = click.get_current_context(silent=True)
_serving = _command is None or (_command.command.name == "run" and _command.parent is not None
                                and _command.parent.parent is None)  # `flask run`, not `flask scheduler run`
if _serving:
    try:
        claim_single_process(app)
    except SecondProcessRefused as exc:
        print(f"Refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
    start_in_process(app)
