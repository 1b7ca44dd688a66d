"""The reports dashboard and its CSV downloads. Managers and admins see everyone's
figures; an agent sees only their own cases. The CSV holds exactly the cells of the
table on the page (text cells guarded by :func:`helpdesk.csvsafe.safe_cell`)."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from flask import make_response, render_template, request
from flask_babel import format_decimal, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from helpdesk.csvsafe import safe_cell
from helpdesk.dbtypes import utcnow
from helpdesk.errors import error_response
from helpdesk.models import MANAGER_ROLES
from helpdesk.reports import bp
from helpdesk.reports.queries import DIMENSIONS, REPORTS, InvalidRange, Range, Report, date_range
from helpdesk.templating import country, percent
from tickets.routes import ticket_type_label

DEFAULT_DAYS = 28
SECONDS_PER_HOUR = 3600
NONE_LABEL = _l("(none)")


@bp.after_request
def no_store(response):
    """Figures about agents and buyers stay out of shared and browser caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _value_label(key: str, value, names: dict) -> str:
    if value is None:
        return str(NONE_LABEL)
    if key == "type":
        return str(_l("Chat")) if value == "chat" else ticket_type_label(value)
    if key == "country":
        return country(value)
    return str(names.get(value, value))


def cell(kind: str, value) -> str:
    """A figure as shown (and exported): counts as integers, shares as percentages with
    one decimal, averages with two decimals, durations (seconds) in hours with one decimal,
    in the viewer's locale; empty when there is nothing to divide by."""
    if value is None:
        return ""
    if kind == "share":
        return percent(value)
    if kind == "average":
        return format_decimal(value, "#,##0.00")
    if kind == "hours":
        return format_decimal(Decimal(value) / SECONDS_PER_HOUR, "#,##0.0")
    return format_decimal(value, "#,##0")


def table(report: Report, span: Range, key: str, agent_id: int | None) -> tuple[list[str], list[list[str]], list]:
    """The report grouped by dimension ``key``: the header row, one row of shown cells per
    group (sorted by the group's name), and the exact value of the charted column per row."""
    figures = report.by_dimension(span, key, agent_id)
    names = DIMENSIONS[key].names(list(figures))
    labelled = sorted(((_value_label(key, value, names), row) for value, row in figures.items()),
                      key=lambda pair: pair[0].casefold())
    rows = [[label] + [cell(c.kind, row[c.key]) for c in report.columns] for label, row in labelled]
    return [str(DIMENSIONS[key].label)] + [str(c.label) for c in report.columns], rows, [
        row[report.chart] for _label, row in labelled]


def trend(report: Report, span: Range, agent_id: int | None) -> tuple[list[str], list[list[str]], list]:
    """The report per week (local Mondays): the header row, one row per week, and the
    exact value of the charted column per week."""
    figures = report.by_week(span, agent_id)
    empty = {c.key: 0 if c.kind == "count" else None for c in report.columns}
    weekly = [(monday, figures.get(index, empty)) for index, (monday, _start, _end) in enumerate(span.weeks)]
    rows = [[monday.isoformat()] + [cell(c.kind, row[c.key]) for c in report.columns] for monday, row in weekly]
    return [str(_l("Week of"))] + [str(c.label) for c in report.columns], rows, [
        row[report.chart] for _monday, row in weekly]


def _request_view():
    """The report, dimension, range and scope asked for; raises ``InvalidRange`` or ``KeyError``."""
    report = REPORTS[request.args.get("report", "csat")]
    key = request.args.get("by", "agent")
    if key not in DIMENSIONS:
        raise KeyError(key)
    today = utcnow().astimezone(get_timezone()).date()
    try:
        first = date.fromisoformat(request.args.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
        last = date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError:
        raise InvalidRange(str(_l("Dates must look like 2026-12-01."))) from None
    span = date_range(first, last, current_user.time_zone or "UTC")
    agent_id = None if current_user.role in MANAGER_ROLES else current_user.id
    return report, key, span, agent_id


def _refused(exc: Exception):
    if isinstance(exc, KeyError):
        return error_response(400, "bad_report", str(_l("There is no such report or grouping.")))
    return error_response(400, "bad_range", str(exc))


@bp.get("/")
@login_required
def dashboard():
    """The dashboard: ``?report=csat|volume|nps|sla_first_response|sla_next_response|sla_resolution&by=agent|team|type|store|marketplace|language|country&from=&to=``
    (local dates in the viewer's time zone, both included; default the last 28 days)."""
    try:
        report, key, span, agent_id = _request_view()
    except (InvalidRange, KeyError) as exc:
        return _refused(exc)
    headers, rows, values = table(report, span, key, agent_id)
    trend_headers, trend_rows, weekly = trend(report, span, agent_id)
    column = next(c for c in report.columns if c.key == report.chart)
    scale = 100 if column.kind == "share" else 1  # shares are drawn as percentages
    chart = {"label": str(column.label), "groups": [row[0] for row in rows], "weeks": [row[0] for row in trend_rows],
             "values": [None if v is None else float(v) * scale for v in values],
             "weekly": [None if v is None else float(v) * scale for v in weekly]}
    return render_template("reports/dashboard.html", report=report, reports=REPORTS, dimensions=DIMENSIONS, key=key,
                           span=span, headers=headers, rows=rows, trend_headers=trend_headers, trend_rows=trend_rows,
                           chart=chart, own_only=agent_id is not None)


@bp.get("/export.csv")
@login_required
def export():
    """The table of the dashboard (``part=table``) or its weekly trend (``part=trend``) as
    CSV (UTF-8 with a byte-order mark, so spreadsheets read accents and CJK)."""
    try:
        report, key, span, agent_id = _request_view()
    except (InvalidRange, KeyError) as exc:
        return _refused(exc)
    weekly = request.args.get("part") == "trend"
    headers, rows, _values = trend(report, span, agent_id) if weekly else table(report, span, key, agent_id)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in [headers, *rows]:
        writer.writerow([safe_cell(value) for value in row])
    response = make_response("\ufeff" + out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"{report.name}-{'weekly' if weekly else key}-{span.first}-{span.last}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
