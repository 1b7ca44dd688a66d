"""SLA admin pages (calendars, policies) and ``/api/v1/sla``."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sla", __name__, url_prefix="/admin/sla")
api_bp = Blueprint("sla_api", __name__, url_prefix="/api/v1/sla")
