"""Agent console: buyers, their orders, lines, shipments and refunds."""
from flask import Blueprint

bp = Blueprint("console", __name__)

from helpdesk.console import routes  # noqa: E402,F401
