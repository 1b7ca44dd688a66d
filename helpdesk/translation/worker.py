"""Where translation work runs: off the request path, one job at a time per process.

:func:`submit` queues a job for the app's translation worker, a Socket.IO background
task (``socketio.start_background_task``: a thread in threading mode, a greenlet under
gevent) started on first use. Jobs run inside an app context, in order; a failing job is
logged and the next one runs.

:func:`run_blocking` runs the CPU-bound part (importing argostranslate, a model's beam
search, language detection) so that it never stalls a gevent process: there it goes to
one native thread; with real threads it runs under a lock. Either way engine calls are
serialized per process (two beam searches at once on 2 cores only slow each other).
"""
from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from helpdesk.extensions import db

log = logging.getLogger(__name__)
_ENGINE_LOCK = threading.Lock()  # created before gevent patches, or in a threading process
_native_pool = None


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("threading"))


def run_blocking(func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)``, one call at a time per process, in a native thread under gevent.
    Exceptions propagate to the caller."""
    global _native_pool
    if _gevent_patched():
        if _native_pool is None:
            from gevent.threadpool import ThreadPool

            _native_pool = ThreadPool(1)
        return _native_pool.apply(func, args)
    with _ENGINE_LOCK:
        return func(*args)


class Worker:
    """The translation job queue of one app (``app.extensions["translation_worker"]``)."""

    def __init__(self, app: Flask):
        self.app = app
        self.socketio = app.extensions["socketio"]
        self.queue = self.socketio.server.eio.create_queue()
        self.pending = 0
        self.idle = threading.Condition()
        self.started = False
        self._start_lock = threading.Lock()

    def submit(self, func: Callable[..., Any], *args: Any) -> None:
        """Queue ``func(*args)``; it runs later in the worker, inside an app context."""
        with self._start_lock:
            if not self.started:
                self.socketio.start_background_task(self._run)
                self.started = True
        with self.idle:
            self.pending += 1
        self.queue.put((func, args))

    def _run(self) -> None:
        while True:
            func, args = self.queue.get()
            try:
                with self.app.app_context():
                    try:
                        func(*args)
                    except Exception:
                        db.session.rollback()
                        log.exception("translation job failed")
                    finally:
                        db.session.remove()
            finally:
                with self.idle:
                    self.pending -= 1
                    self.idle.notify_all()

    def drain(self, timeout: float = 60) -> bool:
        """Wait until every queued job has run (tests, the benchmark). True when done."""
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout=timeout)


_WORKERS_LOCK = threading.Lock()


def worker(app: Flask) -> Worker:
    """The app's translation worker, made on first use."""
    with _WORKERS_LOCK:
        if "translation_worker" not in app.extensions:
            app.extensions["translation_worker"] = Worker(app)
        return app.extensions["translation_worker"]
