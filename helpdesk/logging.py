"""Structured logging: one JSON object per line on stderr, with the request id."""
from __future__ import annotations

import logging
import sys
import uuid

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``method`` and ``path`` to records logged inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            record.method = request.method
            record.path = request.path
        return True


def configure_logging(level: str, fmt: str) -> None:
    """Send the root logger to stderr as JSON (``fmt="json"``) or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=False))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def assign_request_id() -> None:
    """``before_request`` hook: reuse a proxy's ``X-Request-ID`` (if sane) or make one."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
