"""Manager reports: CSAT and volumes (and any report added to
:data:`helpdesk.reports.queries.REPORTS`) by agent, team, ticket type, store,
marketplace, buyer language and country, over a date range in the viewer's time zone,
with weekly trends, charts (Chart.js, served locally) and CSV downloads.

* :mod:`helpdesk.reports.queries` — ranges, dimensions, the reports (exact figures);
* :mod:`helpdesk.reports.routes` — the dashboard and its CSV (the same cells as the page).
"""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from helpdesk.reports import routes  # noqa: E402,F401
