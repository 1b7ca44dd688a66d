"""``GET /healthz``: is the database reachable?"""
import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.errors import describe_error
from helpdesk.extensions import db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """``{"status": "ok"}`` when ``SELECT 1`` answers; 503 with the reason otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        # The details (host, port, file) go to the log, not to whoever asks.
        log.error("health check failed", extra={"error": describe_error(exc)})
        kind = type(getattr(exc, "orig", None) or exc).__name__
        return jsonify(status="unavailable", reason=f"database unreachable ({kind})"), 503
    return jsonify(status="ok")
