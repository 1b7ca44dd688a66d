"""``GET /healthz``: is the database reachable?"""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """``{"status": "ok"}`` when ``SELECT 1`` answers; 503 with the reason otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(exc.orig) if getattr(exc, "orig", None) else exc.__class__.__name__
        return jsonify(status="unavailable", reason=f"database unreachable: {reason.splitlines()[0]}"), 503
    return jsonify(status="ok")
