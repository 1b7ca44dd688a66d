"""SLA admin pages (``/admin/sla/``: calendars and policies, managers and admins only) and
the JSON API ``/api/v1/sla`` (same authentication as ``/api/v1/tickets``).

API (JSON bodies; errors ``{"error": {"code", "message"}}`` with a 4xx, nothing stored):

* ``GET /calendars`` · ``POST /calendars`` · ``GET|PUT /calendars/<id>`` — ``{"name",
  "time_zone", "hours": [7 texts, Monday first], "holiday_country"?, "holiday_subdivision"?,
  "custom_holidays"?: ["2024-12-24"]}``
* ``GET /policies`` (in the order tried) · ``POST /policies`` · ``GET|PUT /policies/<id>``
  — see :func:`tickets.sla.policies.apply_policy` for the fields
* ``GET /tickets/<id>/targets`` — the ticket's stored targets (what reports read)

Writes need a manager or admin.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.errors import error_response
from helpdesk.extensions import db
from helpdesk.models import Agent, Store
from tickets import api as tickets_api
from tickets.models import PRIORITIES, TICKET_TYPES, Ticket
from tickets.sla import policies, service
from tickets.sla.clock import WEEKDAYS
from tickets.sla.models import METRICS, SlaCalendar, SlaPolicy, SlaTarget

bp = Blueprint("sla", __name__, url_prefix="/admin/sla")
api_bp = Blueprint("sla_api", __name__, url_prefix="/api/v1/sla")
api_bp.before_request(tickets_api.authenticate)
MANAGERS = ("manager", "admin")


def calendar_json(row: SlaCalendar) -> dict:
    """A calendar for JSON."""
    return {"id": row.id, "name": row.name, "time_zone": row.time_zone, "hours": row.hours,
            "holiday_country": row.holiday_country, "holiday_subdivision": row.holiday_subdivision,
            "custom_holidays": row.custom_holidays}


def policy_json(row: SlaPolicy) -> dict:
    """A policy for JSON (targets in seconds)."""
    return {"id": row.id, "name": row.name, "position": row.position, "active": row.active,
            "conditions": {key: getattr(row, key) for key in ("types", "priorities", "store_ids", "marketplaces",
                                                               "countries", "languages", "tiers")},
            "targets": {metric: row.target_for(metric) for metric in METRICS},
            "business": row.business, "calendar_id": row.calendar_id, "warn_ratio": row.warn_ratio,
            "pause_on_hold": row.pause_on_hold, "fresh_resolution_on_reopen": row.fresh_resolution_on_reopen,
            "escalate_raise_priority": row.escalate_raise_priority, "escalate_to_agent_id": row.escalate_to_agent_id}


def target_json(row: SlaTarget) -> dict:
    """A ticket's SLA target for JSON (instants ISO 8601 UTC, durations in seconds)."""
    def iso(value):
        return value.isoformat() if value else None

    return {"id": row.id, "metric": row.metric, "cycle": row.cycle, "policy_id": row.policy_id,
            "business": row.business, "calendar_id": row.calendar_id, "target_seconds": row.target_seconds,
            "state": row.state, "started_at": iso(row.started_at), "due_at": iso(row.due_at),
            "paused_at": iso(row.paused_at), "paused_seconds": row.paused_seconds,
            "achieved_at": iso(row.achieved_at), "elapsed_seconds": row.elapsed_seconds, "breached": row.breached,
            "breached_at": iso(row.breached_at), "warned_at": iso(row.warned_at),
            "escalated_at": iso(row.escalated_at)}


# ---------------------------------------------------------------- API

def _api_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise policies.InvalidPolicy("Send a JSON object.")
    return data


def _api_manager() -> None:
    if g.actor.agent.role not in MANAGERS:
        abort(make_response(error_response(403, "forbidden", "Only managers and admins change SLA calendars and policies.")))


@api_bp.errorhandler(policies.InvalidPolicy)
def invalid(exc: policies.InvalidPolicy):
    """A refused calendar or policy: 422 with the reason, nothing stored."""
    db.session.rollback()
    return error_response(422, "invalid", str(exc))


def _save(row, apply, data: dict, to_json, status: int):
    apply(row, data)
    db.session.add(row)
    db.session.commit()
    return jsonify(to_json(row)), status


def _row(model, row_id: int):
    row = db.session.get(model, row_id)
    if row is None:
        abort(make_response(error_response(404, "not_found", "There is nothing with this id.")))
    return row


@api_bp.route("/calendars", methods=["GET", "POST"])
def api_calendars():
    """List calendars, or make one."""
    if request.method == "GET":
        return jsonify({"calendars": [calendar_json(r) for r in
                                      db.session.scalars(select(SlaCalendar).order_by(SlaCalendar.name))]})
    _api_manager()
    return _save(SlaCalendar(), policies.apply_calendar, _api_body(), calendar_json, 201)


@api_bp.route("/calendars/<id:calendar_id>", methods=["GET", "PUT"])
def api_calendar(calendar_id: int):
    """One calendar, or replace its settings."""
    row = _row(SlaCalendar, calendar_id)
    if request.method == "GET":
        return jsonify(calendar_json(row))
    _api_manager()
    return _save(row, policies.apply_calendar, _api_body(), calendar_json, 200)


@api_bp.route("/policies", methods=["GET", "POST"])
def api_policies():
    """Policies in the order tried, or make one."""
    if request.method == "GET":
        return jsonify({"policies": [policy_json(p) for p in policies.ordered()]})
    _api_manager()
    return _save(SlaPolicy(), policies.apply_policy, _api_body(), policy_json, 201)


@api_bp.route("/policies/<id:policy_id>", methods=["GET", "PUT"])
def api_policy(policy_id: int):
    """One policy, or replace its settings (targets already given to tickets stay)."""
    row = _row(SlaPolicy, policy_id)
    if request.method == "GET":
        return jsonify(policy_json(row))
    _api_manager()
    return _save(row, policies.apply_policy, _api_body(), policy_json, 200)


@api_bp.get("/tickets/<id:ticket_id>/targets")
def api_targets(ticket_id: int):
    """The ticket's SLA targets, as stored."""
    _row(Ticket, ticket_id)
    return jsonify({"targets": [target_json(r) for r in service.targets_of(ticket_id)]})


# ---------------------------------------------------------------- admin pages

def _manager() -> None:
    if current_user.role not in MANAGERS:
        abort(403)


def _page(status: int = 200, *, calendar: SlaCalendar | None = None, policy: SlaPolicy | None = None,
          form: dict | None = None):
    return render_template(
        "sla/admin.html", calendars=db.session.scalars(select(SlaCalendar).order_by(SlaCalendar.name)).all(),
        policies=policies.ordered(), calendar=calendar, policy=policy, form=form or {}, weekdays=WEEKDAYS,
        types=TICKET_TYPES, priorities=PRIORITIES, metrics=METRICS,
        stores=db.session.scalars(select(Store).order_by(Store.name)).all(),
        agents=db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.display_name)).all(),
    ), status


@bp.get("/")
@login_required
def admin():
    """Calendars and policies (in the order tried), with forms to add or change them."""
    _manager()
    calendar = db.session.get(SlaCalendar, request.args.get("calendar", type=int) or 0)
    policy = db.session.get(SlaPolicy, request.args.get("policy", type=int) or 0)
    return _page(calendar=calendar, policy=policy)


def _form() -> dict:
    data = request.form.to_dict()
    for key in ("types", "priorities", "store_ids"):
        data[key] = request.form.getlist(key)
    for flag in ("active", "business", "pause_on_hold", "fresh_resolution_on_reopen", "escalate_raise_priority"):
        data[flag] = flag in request.form
    return data


@bp.post("/calendars")
@bp.post("/calendars/<id:calendar_id>")
@login_required
def save_calendar(calendar_id: int | None = None):
    """Add or change a calendar; a refusal shows the form again with the reason (422)."""
    _manager()
    row = db.session.get(SlaCalendar, calendar_id) if calendar_id else SlaCalendar()
    if row is None:
        abort(404)
    try:
        policies.apply_calendar(row, request.form.to_dict())
    except policies.InvalidPolicy as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(422, calendar=row if calendar_id else None, form=request.form.to_dict())
    db.session.add(row)
    db.session.commit()
    flash(_("Calendar saved."))
    return redirect(url_for("sla.admin"), 303)


@bp.post("/policies")
@bp.post("/policies/<id:policy_id>")
@login_required
def save_policy(policy_id: int | None = None):
    """Add or change a policy; a refusal shows the form again with the reason (422)."""
    _manager()
    row = db.session.get(SlaPolicy, policy_id) if policy_id else SlaPolicy()
    if row is None:
        abort(404)
    try:
        policies.apply_policy(row, _form())
    except policies.InvalidPolicy as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(422, policy=row if policy_id else None, form=request.form.to_dict())
    db.session.add(row)
    db.session.commit()
    flash(_("Policy saved."))
    return redirect(url_for("sla.admin"), 303)
