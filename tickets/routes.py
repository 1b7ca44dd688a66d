"""Ticket pages: the agent's list, new-ticket form (from an order or a chat) and ticket
view with its actions; the buyer's "my requests" pages scoped to the buyer identified by
order number and e-mail. Thin: every rule is in :mod:`tickets.service` and
:mod:`tickets.rules`; a refusal re-shows the page with the message and a 4xx status.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from chat.routes import conversation_or_404
from helpdesk import buyer_language
from helpdesk.console.routes import ORDER_DETAIL
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db, limiter, talisman
from helpdesk.models import Agent, Order, Store, Team
from helpdesk.uploads import send_upload
from helpdesk.validation import InvalidInput, clean_language_tag
from tickets import bp, evidence, macros, rules, service
from tickets.models import (
    CHANNELS,
    CLAIM_KINDS,
    CLAIM_OUTCOMES,
    DISPUTE_OUTCOMES,
    PRIORITIES,
    REASON_CODES,
    RESOLUTIONS,
    TICKET_TYPES,
    Ticket,
    TicketMacro,
)
from tickets.service import Actor
from tickets.sla import queue
from tickets.sla import service as sla_service

PER_PAGE = 50
MAX_PAGE = 1_000_000
BUYER_TYPES = ("return", "refund", "exchange", "warranty", "logistics_claim", "order_change", "question")
BUYER_SESSION_KEY = "tickets_buyer"

TYPE_LABELS = {
    "return": _l("Return"), "refund": _l("Refund"), "exchange": _l("Exchange"), "warranty": _l("Warranty repair"),
    "logistics_claim": _l("Parcel lost, damaged, late or held in customs"), "order_change": _l("Change or cancel the order"),
    "payment_dispute": _l("Payment dispute"), "question": _l("Question"),
}
STATUS_LABELS = {
    "new": _l("received"), "open": _l("being handled"), "pending": _l("waiting for your answer"),
    "on_hold": _l("waiting for the carrier or marketplace"), "solved": _l("solved"), "closed": _l("closed"),
}
REFUND_LABELS = {
    "awaiting_approval": _l("waiting for a manager's approval"), "approved": _l("approved, not yet made"),
    "executing": _l("being made"), "succeeded": _l("refunded"), "failed": _l("refund failed"),
    "rejected": _l("rejected"), "cancelled": _l("cancelled"),
}

REASON_LABELS = {
    "damaged": _l("arrived damaged"), "defective": _l("does not work"), "wrong_item": _l("wrong item"),
    "not_as_described": _l("not as described"), "size_or_fit": _l("size or fit"), "changed_mind": _l("changed my mind"),
    "not_received": _l("not received"), "arrived_late": _l("arrived late"), "missing_parts": _l("parts missing"),
    "customs": _l("customs"), "duplicate_charge": _l("charged twice"), "fraud": _l("I did not place this order"),
    "other": _l("other reason"),
}
CLAIM_KIND_LABELS = {
    "lost": _l("lost"), "damaged": _l("damaged"), "late": _l("late"), "customs_held": _l("held in customs"),
}

SLA_METRIC_LABELS = {
    "first_response": _l("first response"), "next_response": _l("next response"),
    "periodic_update": _l("periodic update"), "resolution": _l("resolution"),
}


@bp.app_template_filter("sla_metric")
def sla_metric_label(value: str | None) -> str:
    """An SLA metric in words."""
    return str(SLA_METRIC_LABELS.get(value or "", value or ""))


@bp.app_template_filter("reason_label")
def reason_label(value: str | None) -> str:
    """A return or refund reason code in words."""
    return str(REASON_LABELS.get(value or "", (value or "").replace("_", " ")))


@bp.app_template_filter("claim_kind")
def claim_kind_label(value: str | None) -> str:
    """What happened to a parcel, in words."""
    return str(CLAIM_KIND_LABELS.get(value or "", (value or "").replace("_", " ")))


@bp.app_template_filter("ticket_type")
def ticket_type_label(value: str | None) -> str:
    """A ticket type in words."""
    return str(TYPE_LABELS.get(value or "", value or ""))


@bp.app_template_filter("ticket_status")
def ticket_status_label(value: str | None) -> str:
    """A ticket status in words the buyer understands."""
    return str(STATUS_LABELS.get(value or "", value or ""))


@bp.app_template_filter("refund_state")
def refund_state_label(value: str | None) -> str:
    """A refund request's state in words."""
    return str(REFUND_LABELS.get(value or "", value or ""))


@bp.app_template_filter("evidence_url")
def evidence_url(attachment) -> str:
    """A signed link to an evidence file."""
    return evidence.evidence_url(attachment)


@bp.after_request
def no_store(response):
    """Buyer and order data must not stay in shared or browser caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def agent_actor() -> Actor:
    return Actor.of_agent(current_user._get_current_object())


def ticket_or_404(ticket_id: int, for_buyer: int | None = None) -> Ticket:
    """The ticket (only this buyer's own, with ``for_buyer``), or a 404."""
    try:
        return service.get_ticket(ticket_id, for_buyer=for_buyer)
    except service.TicketNotFound:
        abort(404)


# ---------------------------------------------------------------- agent pages

@bp.get("/tickets/")
@login_required
def index():
    """The agent's queue: a view (see :data:`tickets.sla.queue.VIEWS`), filtered by type,
    store and language, sorted by the next SLA due; each row's SLA badge counts down in
    the agent's zone."""
    tab = request.args.get("tab", "open")
    tab = tab if tab in queue.VIEWS else "open"
    kind = request.args.get("type")
    kind = kind if kind in TICKET_TYPES else None
    store_id = request.args.get("store", type=int)
    stores = db.session.scalars(select(Store).order_by(Store.name)).all()
    store_id = store_id if any(s.id == store_id for s in stores) else None
    language = (request.args.get("language") or "").strip()
    try:
        language = clean_language_tag(language) if language else None
    except InvalidInput:
        language = None
    now = utcnow()
    stmt = queue.queue_query(tab, current_user, now=now, type=kind, store_id=store_id, language=language)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    result = db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)
    if result.pages and page > result.pages:
        result = db.paginate(stmt, page=result.pages, per_page=PER_PAGE, error_out=False)
    running = sla_service.next_due([ticket.id for ticket in result.items])
    rows = [(ticket, sla_badge(running.get(ticket.id), now)) for ticket in result.items]
    agents = db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.display_name)).all()
    filters = {"tab": tab, "type": kind, "store": store_id, "language": language}
    return render_template("tickets/index.html", result=result, rows=rows, tab=tab, tabs=queue.VIEWS, kind=kind,
                           types=TICKET_TYPES, stores=stores, store_id=store_id, language=language, agents=agents,
                           filters=filters, rules=queue.ASSIGNMENT_RULES)


def sla_badge(target, now) -> dict | None:
    """What the SLA badge shows for the ticket's running target due first:
    ``{"state": "breached"|"soon"|"ok"|"paused", "text", "due", "metric"}``, the time
    left (or overdue) in words of the agent's locale; ``None`` without a target."""
    if target is None:
        return None
    left = sla_service.left_seconds(target, now) if target.state == "paused" else (
        (target.due_at - now).total_seconds())
    words = format_timedelta(timedelta(seconds=abs(left)), granularity="minute", threshold=1.5)
    if target.state == "paused":
        state, text = "paused", _("paused, %(time)s left", time=words)
    elif left <= 0:
        state, text = "breached", _("overdue by %(time)s", time=words)
    else:
        state = "soon" if left <= queue.SOON.total_seconds() else "ok"
        text = _("%(time)s left", time=words)
    return {"state": state, "text": text, "due": target.due_at, "metric": target.metric}


@bp.post("/tickets/<id:ticket_id>/take")
@login_required
def take(ticket_id: int):
    """Take an unassigned ticket (409 when another agent was first)."""
    return _act(ticket_id, lambda t: queue.take(t.id, current_user._get_current_object(), now=utcnow()))


BULK_LIMIT = PER_PAGE


@bp.post("/tickets/bulk")
@login_required
def bulk():
    """One action on the chosen tickets: ``assign`` (``agent_id``, empty to unassign),
    ``auto_assign`` (``rule``), ``take``, or ``status`` (``status``: open, on hold,
    solved, closed). Each ticket is done on its own; the refusals are listed."""
    ids = request.form.getlist("ids")
    action = request.form.get("action")
    if not ids or len(ids) > BULK_LIMIT or not all(i.isascii() and i.isdigit() and len(i) < 12 for i in ids):
        abort(422, description=_("Choose between 1 and %(n)d tickets.", n=BULK_LIMIT))
    if action not in ("assign", "auto_assign", "take", "status"):
        abort(422, description=_("Choose an action."))
    actor, now = agent_actor(), utcnow()
    load = queue.open_load()
    refused = []
    for ticket_id in dict.fromkeys(int(i) for i in ids):
        try:
            if action == "take":
                queue.take(ticket_id, current_user._get_current_object(), now=now)
                continue
            ticket = service.get_ticket(ticket_id)
            if action == "assign":
                service.assign(ticket, actor, agent_id=request.form.get("agent_id"), now=now)
            elif action == "auto_assign":
                if queue.auto_assign(ticket, request.form.get("rule", ""), actor, now=now, load=load) is None:
                    refused.append(f"#{ticket_id}: {_('no agent to assign')}")
            else:
                service.set_status(ticket, actor, request.form.get("status"), now=now)
        except rules.TicketRuleError as exc:
            db.session.rollback()
            refused.append(f"#{ticket_id}: {exc}")
    if refused:
        flash(_("Not done: %(list)s", list="; ".join(refused)), "error")
    else:
        flash(_("Done for %(n)d tickets.", n=len(ids)))
    return redirect(url_for("tickets.index", **{k: v for k, v in request.args.items() if k in
                                                ("tab", "type", "store", "language", "page")}), 303)


def _new_form_context(order: Order | None, conversation, form, error: str | None = None) -> dict:
    return dict(order=order, conversation=conversation, form=form, error=error, types=TICKET_TYPES,
                priorities=PRIORITIES, channels=CHANNELS, reasons=REASON_CODES, claim_kinds=CLAIM_KINDS)


def _form_lines(form, order: Order | None) -> list[dict]:
    """``qty_<line id>`` fields with a quantity above 0 → ``[{"order_line_id", "quantity"}]``."""
    lines = []
    for line in order.lines if order else []:
        value = (form.get(f"qty_{line.id}") or "").strip()
        if value and value != "0":
            if not value.isdigit() or len(value) > 7:
                raise service.InvalidTicket(f"The quantity of “{line.title}” must be a whole number.")
            lines.append({"order_line_id": line.id, "quantity": int(value)})
    return lines


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new():
    """New ticket, from an order (``?order=<id>``) or a chat (``?conversation=<public id>``:
    its order and buyer carry over)."""
    conversation = None
    if request.args.get("conversation"):
        conversation = conversation_or_404(request.args["conversation"])
    order_id = request.args.get("order", type=int) if (request.args.get("order") or "").isdigit() and len(
        request.args.get("order", "")) < 18 else None
    order = db.session.get(Order, order_id) if order_id else (conversation.order if conversation else None)
    if request.args.get("order") and order is None:
        abort(404)
    form = request.form
    if request.method == "GET":
        return render_template("tickets/new.html", **_new_form_context(order, conversation, {}))
    try:
        ticket = service.create_ticket(
            agent_actor(), order=order, conversation=conversation, type=form.get("type"),
            subject=form.get("subject"), description=form.get("description"), lines=_form_lines(form, order),
            reason_code=form.get("reason_code"), priority=form.get("priority"), channel=form.get("channel"),
            language=form.get("language"), tags=form.get("tags"), requested_amount=form.get("requested_amount"),
            replacement={"sku": form.get("replacement_sku"), "title": form.get("replacement_title"),
                         "quantity": form.get("replacement_quantity")},
            claim={"kind": form.get("claim_kind"), "shipment_id": form.get("claim_shipment"),
                   "carrier": form.get("claim_carrier"), "tracking_number": form.get("claim_tracking"),
                   "declared_value": form.get("claim_declared_value"), "insured": form.get("claim_insured"),
                   "insured_amount": form.get("claim_insured_amount")},
            dispute={"evidence_due_at": form.get("dispute_due"), "reference": form.get("dispute_reference"),
                     "network_reason": form.get("dispute_reason")},
            override_policy=form.get("override_policy") == "on", override_reason=form.get("override_reason"),
        )
    except rules.TicketRuleError as exc:
        db.session.rollback()
        return render_template("tickets/new.html", **_new_form_context(order, conversation, form, str(exc))), exc.status
    flash(str(_l("Ticket %(id)s opened.", id=ticket.id)), "info")
    return redirect(url_for("tickets.show", ticket_id=ticket.id), 303)


def _show(ticket: Ticket, error: str | None = None, status: int = 200):
    order = None
    if ticket.order_id:
        order = db.session.scalar(select(Order).where(Order.id == ticket.order_id).options(*ORDER_DETAIL)
                                  .execution_options(populate_existing=True))
    agents = db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.display_name)).all()
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    if error:
        flash(error, "error")
    return render_template(
        "tickets/show.html", ticket=ticket, order=order, agents=agents, teams=teams, resolutions=RESOLUTIONS,
        macros=macros.all_macros(), evidence_types=evidence.EVIDENCE_TYPES,
        priorities=PRIORITIES, reasons=REASON_CODES, claim_outcomes=CLAIM_OUTCOMES, dispute_outcomes=DISPUTE_OUTCOMES,
        refunded=service.refunded_so_far(order) if order else None,
        sla_targets=sla_service.targets_of(ticket.id),
    ), status


@bp.get("/tickets/<id:ticket_id>")
@login_required
def show(ticket_id: int):
    """One ticket: details, the order with its lines, the timeline and the actions."""
    return _show(ticket_or_404(ticket_id))


def _act(ticket_id: int, action):
    """Run ``action(ticket)``; back to the ticket (303), or the page again with the
    refusal and its 4xx status (502 when the marketplace failed a refund)."""
    ticket = ticket_or_404(ticket_id)
    try:
        action(ticket)
    except rules.TicketRuleError as exc:
        db.session.rollback()
        db.session.expire_all()
        return _show(ticket_or_404(ticket_id), str(exc), exc.status)
    return redirect(url_for("tickets.show", ticket_id=ticket_id), 303)


@bp.post("/tickets/<id:ticket_id>/messages")
@login_required
def message(ticket_id: int):
    """A reply to the buyer, or an internal note."""
    return _act(ticket_id, lambda t: service.add_message(t, agent_actor(), request.form.get("body"),
                                                         internal=request.form.get("internal") == "on"))


@bp.post("/tickets/<id:ticket_id>/status")
@login_required
def status(ticket_id: int):
    """Request info (pending), hold, solve, reopen, close."""
    return _act(ticket_id, lambda t: service.set_status(t, agent_actor(), request.form.get("status"),
                                                        resolution=request.form.get("resolution"),
                                                        message=request.form.get("message")))


@bp.post("/tickets/<id:ticket_id>/assign")
@login_required
def assign(ticket_id: int):
    """Assignee and team."""
    return _act(ticket_id, lambda t: service.assign(t, agent_actor(), agent_id=request.form.get("agent_id"),
                                                    team_id=request.form.get("team_id")))


@bp.post("/tickets/<id:ticket_id>/fields")
@login_required
def fields(ticket_id: int):
    """Priority, tags, reason code."""
    return _act(ticket_id, lambda t: service.update_fields(t, agent_actor(), priority=request.form.get("priority"),
                                                           tags=request.form.get("tags", ""),
                                                           reason_code=request.form.get("reason_code")))


@bp.post("/tickets/<id:ticket_id>/claim")
@login_required
def claim(ticket_id: int):
    """A logistics claim's carrier reference and outcome."""
    return _act(ticket_id, lambda t: service.update_claim(t, agent_actor(),
                                                          claim_reference=request.form.get("claim_reference"),
                                                          outcome=request.form.get("outcome")))


@bp.post("/tickets/<id:ticket_id>/dispute")
@login_required
def dispute(ticket_id: int):
    """A payment dispute's outcome."""
    return _act(ticket_id, lambda t: service.update_dispute(t, agent_actor(), outcome=request.form.get("outcome")))


@bp.post("/tickets/<id:ticket_id>/macro")
@login_required
def apply_macro(ticket_id: int):
    """Apply the chosen macro (reply, status, tags, priority in one click)."""

    def action(ticket: Ticket):
        value = request.form.get("macro_id", "")
        if not value.isdigit() or len(value) > 18:
            raise service.InvalidTicket("Choose a macro.")
        macros.apply_macro(ticket, agent_actor(), macros.get_macro(int(value)))

    return _act(ticket_id, action)


def _uploaded_file() -> tuple[bytes, str]:
    """The multipart ``file`` field's bytes (at most the cap + 1 read) and name.

    Raises:
        service.InvalidTicket: no file chosen.
    """
    file = request.files.get("file")
    if file is None or not file.filename:
        raise service.InvalidTicket("Choose a file to add.")
    return file.stream.read(current_app.config["TICKET_EVIDENCE_MAX_BYTES"] + 1), file.filename


@bp.post("/tickets/<id:ticket_id>/evidence")
@login_required
def add_evidence(ticket_id: int):
    """An agent adds an evidence file (photo, proof of delivery, PDF)."""

    def action(ticket: Ticket):
        data, name = _uploaded_file()
        evidence.add_evidence(ticket, agent_actor(), data=data, filename=name)

    return _act(ticket_id, action)


@bp.get("/tickets/evidence/<public_id>")
@talisman(content_security_policy=None)  # send_upload sets its own, sandboxing one
def evidence_file(public_id: str):
    """An evidence file, for whoever holds its signed link (``?s=...``): images inline,
    PDFs as a download, sandboxed."""
    found = evidence.evidence_for_link(public_id, request.args.get("s"))
    if found is None:
        abort(404)
    return send_upload(found.storage_key, content_type=found.content_type, filename=found.filename)


@bp.post("/tickets/<id:ticket_id>/refunds")
@login_required
def refund(ticket_id: int):
    """Ask for a refund (full, chosen lines, shipping, or an amount); made at once when
    no approval is needed and "refund now" is ticked."""

    def action(ticket: Ticket):
        made = service.request_refund(
            ticket, agent_actor(), kind=request.form.get("kind"), lines=_form_lines(request.form, ticket.order),
            amount=request.form.get("amount"), include_shipping=request.form.get("include_shipping") == "on",
            reason=request.form.get("reason"))
        if request.form.get("execute") == "on" and made.state == "approved":
            service.execute_refund(made, agent_actor())

    return _act(ticket_id, action)


@bp.post("/tickets/<id:ticket_id>/refunds/<id:refund_id>/<any(approve, reject, execute, cancel):verb>")
@login_required
def refund_action(ticket_id: int, refund_id: int, verb: str):
    """Approve or reject (managers), make / retry, or cancel (with a reason) a refund."""

    def action(ticket: Ticket):
        made = service.get_refund(ticket, refund_id)
        if verb == "execute":
            service.execute_refund(made, agent_actor())
        elif verb == "cancel":
            service.cancel_refund(made, agent_actor(), reason=request.form.get("reason"))
        else:
            service.approve_refund(made, agent_actor(), approve=verb == "approve")

    return _act(ticket_id, action)


@bp.route("/tickets/macros/", methods=["GET", "POST"])
@bp.route("/tickets/macros/<id:macro_id>", methods=["GET", "POST"])
@login_required
def macro_pages(macro_id: int | None = None):
    """Macros: the list, and the form to add one or change ``macro_id`` (managers and
    admins; other agents see the list)."""
    macro = None
    if macro_id is not None:
        macro = db.session.get(TicketMacro, macro_id) or abort(404)
    form, error, status = request.form, None, 200
    if request.method == "POST":
        try:
            if form.get("delete") == "1" and macro is not None:
                macros.delete_macro(agent_actor(), macro)
                flash(str(_l("Macro deleted.")), "info")
            else:
                saved = macros.save_macro(agent_actor(), macro=macro, name=form.get("name"), reply=form.get("reply"),
                                          status=form.get("status"), tags=form.get("tags"),
                                          priority=form.get("priority"))
                flash(str(_l("Macro “%(name)s” saved.", name=saved.name)), "info")
            return redirect(url_for("tickets.macro_pages"), 303)
        except rules.TicketRuleError as exc:
            db.session.rollback()
            error, status = str(exc), exc.status
    return render_template("tickets/macros.html", macros=macros.all_macros(), macro=macro, form=form, error=error,
                           statuses=macros.MACRO_STATUSES, priorities=PRIORITIES,
                           can_edit=current_user.role in ("manager", "admin")), status


# ---------------------------------------------------------------- buyer pages

def buyer_id() -> int | None:
    """The customer id of the buyer identified in this browser session."""
    value = session.get(BUYER_SESSION_KEY)
    return value if isinstance(value, int) else None


def buyer_order_or_403(order_id: int) -> Order:
    """One of the identified buyer's own orders; another buyer's order is refused (403)."""
    customer_id = buyer_id()
    if customer_id is None:
        abort(401)
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(*ORDER_DETAIL))
    if order is None:
        abort(404)
    if order.customer_id != customer_id:
        abort(403)
    return order


@bp.route("/help/", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def buyer_start():
    """The buyer identifies with an order number and the e-mail on that order."""
    if request.method == "GET":
        if buyer_id() is not None:
            return redirect(url_for("tickets.buyer_requests"))
        return render_template("tickets/buyer_start.html", order_number=request.args.get("order", "")[:100])
    try:
        order = service.identify_buyer(request.form.get("order_number", ""), request.form.get("email", ""))
    except service.BuyerNotIdentified as exc:
        return render_template("tickets/buyer_start.html", order_number=request.form.get("order_number", "")[:100],
                               error=str(exc)), 404
    session[BUYER_SESSION_KEY] = order.customer_id
    return redirect(url_for("tickets.buyer_requests"), 303)


@bp.post("/help/signout")
def buyer_signout():
    """Forget the buyer in this browser."""
    session.pop(BUYER_SESSION_KEY, None)
    return redirect(url_for("tickets.buyer_start"), 303)


@bp.get("/help/requests")
def buyer_requests():
    """My requests, and my orders to open a new one on."""
    customer_id = buyer_id()
    if customer_id is None:
        return redirect(url_for("tickets.buyer_start"))
    tickets = db.session.scalars(service.tickets_query(customer_id=customer_id).limit(200)).all()
    orders = db.session.scalars(select(Order).where(Order.customer_id == customer_id)
                                .order_by(Order.placed_at.desc()).limit(50)).all()
    return render_template("tickets/buyer_requests.html", tickets=tickets, orders=orders)


@bp.route("/help/orders/<id:order_id>/new", methods=["GET", "POST"])
def buyer_new(order_id: int):
    """Open a request on one of my orders (only my own: another buyer's order is 403)."""
    order = buyer_order_or_403(order_id)
    if request.method == "GET":
        return render_template("tickets/buyer_new.html", order=order, types=BUYER_TYPES, reasons=REASON_CODES,
                               claim_kinds=CLAIM_KINDS, form={})
    form = request.form
    try:
        if form.get("type") not in BUYER_TYPES:
            raise service.InvalidTicket(_l("Choose what the request is about."))
        ticket = service.create_ticket(
            Actor.of_buyer(buyer_id()), order=order, type=form.get("type"), subject=form.get("subject"),
            description=form.get("description"), lines=_form_lines(form, order), reason_code=form.get("reason_code"),
            channel="web_form", language=buyer_language(),
            requested_amount=form.get("requested_amount"),
            replacement={"title": form.get("replacement_title"), "quantity": form.get("replacement_quantity")},
            claim={"kind": form.get("claim_kind")},
        )
    except rules.TicketRuleError as exc:
        db.session.rollback()
        return render_template("tickets/buyer_new.html", order=order, types=BUYER_TYPES, reasons=REASON_CODES,
                               claim_kinds=CLAIM_KINDS, form=form, error=str(exc)), exc.status
    return redirect(url_for("tickets.buyer_request", ticket_id=ticket.id), 303)


def buyer_ticket_or_404(ticket_id: int) -> Ticket:
    customer_id = buyer_id()
    if customer_id is None:
        abort(401)
    return ticket_or_404(ticket_id, for_buyer=customer_id)


@bp.get("/help/requests/<id:ticket_id>")
def buyer_request(ticket_id: int):
    """One of my requests: its status in words and the messages (never internal notes)."""
    return _buyer_request_page(buyer_ticket_or_404(ticket_id))


def _buyer_request_page(ticket: Ticket, error: str | None = None, status: int = 200):
    return render_template("tickets/buyer_request.html", ticket=ticket, error=error,
                           entries=[e for e in ticket.events if not e.internal],
                           files=evidence.visible_to_buyer(ticket),
                           takes_files=ticket.type in evidence.EVIDENCE_TYPES and ticket.status != "closed"), status


@bp.post("/help/requests/<id:ticket_id>/messages")
def buyer_message(ticket_id: int):
    """The buyer answers (a pending or solved request becomes open again)."""
    ticket = buyer_ticket_or_404(ticket_id)
    try:
        service.add_message(ticket, Actor.of_buyer(buyer_id()), request.form.get("body"))
    except rules.TicketRuleError as exc:
        db.session.rollback()
        return _buyer_request_page(ticket, str(exc), exc.status)
    return redirect(url_for("tickets.buyer_request", ticket_id=ticket_id), 303)


@bp.post("/help/requests/<id:ticket_id>/evidence")
@limiter.limit(lambda: current_app.config["CHAT_START_RATE_LIMIT"])
def buyer_evidence(ticket_id: int):
    """The buyer adds a photo or a PDF to their claim or dispute."""
    ticket = buyer_ticket_or_404(ticket_id)
    try:
        data, name = _uploaded_file()
        evidence.add_evidence(ticket, Actor.of_buyer(buyer_id()), data=data, filename=name)
    except rules.TicketRuleError as exc:
        db.session.rollback()
        db.session.expire_all()
        return _buyer_request_page(buyer_ticket_or_404(ticket_id), str(exc), exc.status)
    return redirect(url_for("tickets.buyer_request", ticket_id=ticket_id), 303)
