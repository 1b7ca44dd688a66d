"""Error pages and the one place where domain errors become HTTP answers.

JSON clients (``/api/``, ``/webhooks/``, or ``Accept: application/json``) get
``{"error": {"code", "message"}}``; browsers get a page in the base layout. No traceback
ever reaches a user; 5xx are logged with the request id.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def describe_error(exc: Exception) -> str:
    """One readable line: the database's own message, not SQLAlchemy's SQL dump."""
    original = getattr(exc, "orig", None)
    return (str(original or exc).splitlines() or [type(exc).__name__])[0]


def wants_json() -> bool:
    """True for API and webhook paths and for clients that prefer JSON."""
    if "/api/" in request.path or request.path.startswith(("/webhooks/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message: str):
    """Render ``message`` as JSON or as the error page, with ``status``."""
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Install handlers for HTTP errors and for anything unexpected."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            400: _("The request could not be understood."),
            403: _("You are not allowed to do that."),
            404: _("There is nothing at this address."),
            405: _("That action is not allowed here."),
            413: _("What you sent is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        message = messages.get(exc.code, exc.description or exc.name)
        if exc.code == 400 and exc.description and "CSRF" in exc.description:
            message = _("Your form expired. Reload the page and try again.")
        return error_response(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        return error_response(
            500,
            "internal_error",
            _("Something went wrong on our side. Reference: %(ref)s", ref=g.get("request_id", "-")),
        )
