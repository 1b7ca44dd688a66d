"""Agent login and logout (Flask-Login, CSRF-protected forms, rate-limited attempts)."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from helpdesk.auth import routes  # noqa: E402,F401
