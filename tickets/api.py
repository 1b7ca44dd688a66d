"""REST API ``/api/v1/tickets`` for agents and integrations.

Authentication: a signed-in agent's session (writes then need the CSRF token in the
``X-CSRFToken`` header, as any cookie-authenticated write does), or
``Authorization: Bearer <token>`` with a token from ``flask tickets token-create``.
Errors are JSON ``{"error": {"code", "message"}}`` with a 4xx status (502 when the
marketplace failed a refund); a refused request changes nothing.

Endpoints (JSON bodies):

* ``GET /tickets?status=&type=&assignee=me|<id>&unassigned=1&order_id=&page=&per_page=`` →
  ``{"tickets", "page", "pages"}`` (``status`` also takes ``open``; ``per_page`` 1–100,
  default 50; an unknown filter value or a bad page is a 400 naming the parameter)
* ``POST /tickets`` ``{"type", "order_id"?, "conversation"?, "subject", "description"?,
  "lines"?: [{"order_line_id", "quantity"}], "reason_code"?, "priority"?, "channel"?,
  "language"?, "tags"?, "requested_amount"?: "12.50", "replacement"?, "claim"?,
  "dispute"?, "override_policy"?, "override_reason"?}`` → 201 ticket
* ``GET /tickets/<id>`` → ticket with its timeline, refunds and evidence files
* ``PATCH /tickets/<id>`` ``{"priority"?, "tags"?, "reason_code"?}``
* ``POST /tickets/<id>/messages`` ``{"body", "internal"?}``
* ``POST /tickets/<id>/status`` ``{"status", "resolution"?, "message"?}``
* ``POST /tickets/<id>/assign`` ``{"agent_id"?, "team_id"?}``
* ``POST /tickets/<id>/refunds`` ``{"kind": "full"|"lines"|"shipping"|"amount", "lines"?,
  "amount"?, "include_shipping"?, "reason"?, "execute"?: true}``
* ``POST /tickets/<id>/refunds/<refund id>/approve`` ``{"approve"?: false to reject}``
* ``POST /tickets/<id>/refunds/<refund id>/execute``
* ``POST /tickets/<id>/refunds/<refund id>/cancel`` ``{"reason"}``
* ``POST /tickets/<id>/macros/<macro id>`` — apply a macro
* ``GET /macros`` → ``{"macros"}``

Field types are checked before anything else: a wrong type is a 400 ``invalid_input``
whose message names the field (``execute must be true or false``; ``tags must be a list
of strings``; ``lines must be a list of {"order_line_id", "quantity"} with positive whole
numbers``; amounts must be strings such as ``"12.50"``).
"""
from __future__ import annotations

import hmac

from flask import g, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from chat.models import Conversation
from helpdesk.dbtypes import utcnow
from helpdesk.errors import error_response
from helpdesk.extensions import csrf, db
from helpdesk.models import Order
from tickets import api_bp, evidence, macros, rules, service
from tickets.models import STATUSES, TICKET_TYPES, ApiToken, Ticket, TicketRefund
from tickets.service import Actor, InvalidTicket

PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_ID = 2**63


@api_bp.before_request
def authenticate():
    """Bearer token or agent session; a session's writes must carry the CSRF token."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
        row = None
        if 0 < len(token) <= 200:
            row = db.session.scalar(select(ApiToken).filter_by(token_hash=ApiToken.digest(token)))
        if row is None or row.revoked or not row.agent.active or not hmac.compare_digest(row.token_hash, ApiToken.digest(token)):
            return error_response(401, "unauthorized", "The API token is not valid.")
        row.last_used_at = utcnow()
        db.session.commit()
        g.actor = Actor.of_agent(row.agent, api=True)
        return None
    if not current_user.is_authenticated:
        return error_response(401, "unauthorized", "Sign in, or send an API token (Authorization: Bearer ...).")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    g.actor = Actor.of_agent(current_user._get_current_object())
    return None


@api_bp.errorhandler(rules.TicketRuleError)
def refused(exc: rules.TicketRuleError):
    """Every rule's refusal as JSON with its own code and status."""
    db.session.rollback()
    return error_response(exc.status, exc.code, str(exc))


def body() -> dict:
    """The JSON object sent.

    Raises:
        InvalidTicket: not a JSON object.
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidTicket("Send a JSON object.")
    return data


def _id(value, what: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_ID:
        raise InvalidTicket(f"{what} must be a positive whole number.")
    return value


def _flag(data: dict, key: str) -> bool:
    """``data[key]`` as a JSON boolean (absent or null: false).

    Raises:
        InvalidTicket: any other type (``"yes"``, ``1``).
    """
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidTicket(f"{key} must be true or false.")
    return value


def _strings(data: dict, key: str) -> list[str] | None:
    """``data[key]`` as a list of strings (absent or null: ``None``).

    Raises:
        InvalidTicket: not a list of strings.
    """
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidTicket(f"{key} must be a list of strings.")
    return value


def _lines(data: dict, key: str = "lines") -> list[dict] | None:
    """``data[key]`` as ``[{"order_line_id", "quantity"}]`` with positive whole numbers.

    Raises:
        InvalidTicket: any other shape (naming the field and the item).
    """
    value = data.get(key)
    if value is None:
        return None
    shape = f'{key} must be a list of {{"order_line_id", "quantity"}} with positive whole numbers'
    if not isinstance(value, list):
        raise InvalidTicket(shape + ".")
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"order_line_id", "quantity"} or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 < v < MAX_ID for v in item.values()):
            raise InvalidTicket(f"{shape} (item {index + 1} is not).")
    return value


def _text(data: dict, *keys: str) -> None:
    """Each of ``keys`` is absent, null or a string (amounts too: ``"12.50"``, never a
    JSON number, which may be a binary float).

    Raises:
        InvalidTicket: naming the first field of another type.
    """
    for key in keys:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InvalidTicket(f"{key} must be a string" + (' such as "12.50".' if "amount" in key else "."))


def _query_choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise InvalidTicket(f"{name} must be one of: {', '.join(allowed)}.")
    return value


def _query_int(name: str, *, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise InvalidTicket(f"{name} must be a whole number from {low} to {high:,}.")
    return int(value)


def refund_json(refund: TicketRefund) -> dict:
    """A refund request for JSON (amounts as exact decimal strings)."""
    return {
        "id": refund.id, "kind": refund.kind, "state": refund.state,
        "amount": service.amount_text(refund.amount, refund.currency), "currency": refund.currency,
        "shipping_amount": service.amount_text(refund.shipping_amount, refund.currency), "lines": refund.lines,
        "reason": refund.reason, "error": refund.error, "outcome_unknown": refund.outcome_unknown,
        "marketplace_refund": refund.refund.external_id if refund.refund else None,
        "requested_by": refund.requested_by_id, "approved_by": refund.approved_by_id,
        "created_at": refund.created_at.isoformat(), "updated_at": refund.updated_at.isoformat(),
    }


def ticket_json(ticket: Ticket, *, full: bool = False) -> dict:
    """A ticket for JSON; ``full`` adds lines, timeline, refunds, evidence files (with
    signed links), claim and dispute."""
    data = {
        "id": ticket.id, "type": ticket.type, "status": ticket.status, "priority": ticket.priority,
        "channel": ticket.channel, "subject": ticket.subject, "reason_code": ticket.reason_code,
        "language": ticket.language, "tags": ticket.tags, "store_id": ticket.store_id,
        "customer_id": ticket.customer_id, "order_id": ticket.order_id,
        "order_number": ticket.order.number if ticket.order else None,
        "currency": ticket.currency,
        "requested_amount": service.amount_text(ticket.requested_amount, ticket.currency or "XXX"),
        "approved_amount": service.amount_text(ticket.approved_amount, ticket.currency or "XXX"),
        "assignee_id": ticket.assignee_id, "team_id": ticket.team_id, "resolution": ticket.resolution,
        "refund_state": ticket.refund_state, "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
        "warranty_ends_on": ticket.warranty_ends_on.isoformat() if ticket.warranty_ends_on else None,
        "created_at": ticket.created_at.isoformat(), "updated_at": ticket.updated_at.isoformat(),
        "solved_at": ticket.solved_at.isoformat() if ticket.solved_at else None,
    }
    if full:
        data["description"] = ticket.description
        data["conversation"] = ticket.conversation.public_id if ticket.conversation else None
        data["lines"] = [{"id": l.id, "role": l.role, "order_line_id": l.order_line_id, "quantity": l.quantity,
                          "sku": l.sku, "title": l.title} for l in ticket.lines]
        data["events"] = [{"id": e.id, "at": e.created_at.isoformat(), "actor": e.actor, "agent_id": e.agent_id,
                           "kind": e.kind, "internal": e.internal, "payload": e.payload} for e in ticket.events]
        data["refunds"] = [refund_json(r) for r in ticket.refunds]
        data["attachments"] = [{"id": a.public_id, "name": a.filename, "content_type": a.content_type, "size": a.size,
                                "uploader": a.uploader, "url": evidence.evidence_url(a)} for a in ticket.attachments]
        if ticket.claim:
            c = ticket.claim
            data["claim"] = {"kind": c.kind, "carrier": c.carrier, "tracking_number": c.tracking_number,
                             "shipment_id": c.shipment_id, "deadline": c.deadline.isoformat() if c.deadline else None,
                             "declared_value": service.amount_text(c.declared_value, c.currency or "XXX"),
                             "insured": c.insured, "insured_amount": service.amount_text(c.insured_amount, c.currency or "XXX"),
                             "claim_reference": c.claim_reference, "outcome": c.outcome}
        if ticket.dispute:
            d = ticket.dispute
            data["dispute"] = {"evidence_due_at": d.evidence_due_at.isoformat(), "reference": d.reference,
                               "network_reason": d.network_reason, "evidence": d.evidence, "outcome": d.outcome}
    return data


def _ticket(ticket_id: int) -> Ticket:
    return service.get_ticket(ticket_id)


@api_bp.get("/tickets")
def list_tickets():
    """Tickets, newest change first, ``per_page`` (default 50) a page."""
    status = _query_choice("status", ("open", *STATUSES))
    kind = _query_choice("type", TICKET_TYPES)
    assignee = request.args.get("assignee") or None
    assignee_id = g.actor.agent_id if assignee == "me" else (
        _query_int("assignee", default=None, low=1, high=MAX_ID - 1) if assignee else None)
    unassigned = _query_choice("unassigned", ("0", "1")) == "1"
    order_id = _query_int("order_id", default=None, low=1, high=MAX_ID - 1)
    page = _query_int("page", default=1, low=1, high=MAX_PAGE)
    per_page = _query_int("per_page", default=PER_PAGE, low=1, high=MAX_PER_PAGE)
    stmt = service.tickets_query(status=status, type=kind, assignee_id=assignee_id, unassigned=unassigned,
                                 order_id=order_id)
    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return jsonify(tickets=[ticket_json(t) for t in result.items], page=page, pages=result.pages)


@api_bp.post("/tickets")
def create():
    """Open a ticket (see the module docstring for the fields)."""
    data = body()
    order = conversation = None
    order_id = _id(data.get("order_id"), "order_id")
    if order_id is not None:
        order = db.session.get(Order, order_id)
        if order is None:
            raise InvalidTicket("There is no order with that id.")
    if data.get("conversation") not in (None, ""):
        conversation = db.session.scalar(select(Conversation).filter_by(public_id=str(data["conversation"])[:32]))
        if conversation is None:
            raise InvalidTicket("There is no such conversation.")
    for key in ("replacement", "claim", "dispute"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise InvalidTicket(f"{key} must be an object.")
    _text(data, "type", "subject", "description", "reason_code", "priority", "channel", "language",
          "requested_amount", "override_reason")
    _text(data.get("claim") or {}, "declared_value", "insured_amount")
    ticket = service.create_ticket(
        g.actor, order=order, conversation=conversation, type=data.get("type"), subject=data.get("subject"),
        description=data.get("description"), lines=_lines(data), reason_code=data.get("reason_code"),
        priority=data.get("priority"), channel=data.get("channel") or "api", language=data.get("language"),
        tags=_strings(data, "tags"), requested_amount=data.get("requested_amount"),
        replacement=data.get("replacement"), claim=data.get("claim"), dispute=data.get("dispute"),
        override_policy=_flag(data, "override_policy"), override_reason=data.get("override_reason"),
    )
    return jsonify(ticket_json(ticket, full=True)), 201


@api_bp.get("/tickets/<id:ticket_id>")
def show(ticket_id: int):
    """One ticket with its lines, timeline (internal entries too) and refunds."""
    return jsonify(ticket_json(_ticket(ticket_id), full=True))


@api_bp.patch("/tickets/<id:ticket_id>")
def update(ticket_id: int):
    """Change priority, tags or reason code."""
    data = body()
    _text(data, "priority", "reason_code")
    ticket = service.update_fields(_ticket(ticket_id), g.actor, priority=data.get("priority"),
                                   tags=_strings(data, "tags"), reason_code=data.get("reason_code"))
    return jsonify(ticket_json(ticket, full=True))


@api_bp.post("/tickets/<id:ticket_id>/messages")
def message(ticket_id: int):
    """A reply to the buyer, or an internal note with ``"internal": true``."""
    data = body()
    _text(data, "body")
    internal = _flag(data, "internal")
    ticket = _ticket(ticket_id)
    service.add_message(ticket, g.actor, data.get("body"), internal=internal)
    return jsonify(ticket_json(ticket, full=True)), 201


@api_bp.post("/tickets/<id:ticket_id>/status")
def status(ticket_id: int):
    """Change the status (pending needs a ``message`` to the buyer)."""
    data = body()
    _text(data, "status", "resolution", "message")
    ticket = service.set_status(_ticket(ticket_id), g.actor, data.get("status"), resolution=data.get("resolution"),
                                message=data.get("message"))
    return jsonify(ticket_json(ticket, full=True))


@api_bp.post("/tickets/<id:ticket_id>/assign")
def assign(ticket_id: int):
    """Set the assignee and team (``null`` clears)."""
    data = body()
    ticket = service.assign(_ticket(ticket_id), g.actor, agent_id=_id(data.get("agent_id"), "agent_id"),
                            team_id=_id(data.get("team_id"), "team_id"))
    return jsonify(ticket_json(ticket, full=True))


@api_bp.post("/tickets/<id:ticket_id>/refunds")
def refund(ticket_id: int):
    """Ask for a refund; with ``"execute": true`` an approved one is made at once."""
    data = body()
    _text(data, "kind", "amount", "reason")
    lines, execute = _lines(data), _flag(data, "execute")
    include_shipping = _flag(data, "include_shipping")
    ticket = _ticket(ticket_id)
    made = service.request_refund(ticket, g.actor, kind=data.get("kind"), lines=lines, amount=data.get("amount"),
                                  include_shipping=include_shipping, reason=data.get("reason"))
    if execute and made.state == "approved":
        service.execute_refund(made, g.actor)
    return jsonify(refund_json(made)), 201


@api_bp.post("/tickets/<id:ticket_id>/refunds/<id:refund_id>/approve")
def approve(ticket_id: int, refund_id: int):
    """A manager approves (or, with ``"approve": false``, rejects) a refund."""
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    approve = data.get("approve", True)
    if not isinstance(approve, bool):
        raise InvalidTicket("approve must be true or false.")
    made = service.get_refund(_ticket(ticket_id), refund_id)
    service.approve_refund(made, g.actor, approve=approve)
    return jsonify(refund_json(made))


@api_bp.post("/tickets/<id:ticket_id>/refunds/<id:refund_id>/execute")
def execute(ticket_id: int, refund_id: int):
    """Make an approved refund through the marketplace (or retry a failed one)."""
    made = service.get_refund(_ticket(ticket_id), refund_id)
    service.execute_refund(made, g.actor)
    return jsonify(refund_json(made))


@api_bp.post("/tickets/<id:ticket_id>/refunds/<id:refund_id>/cancel")
def cancel(ticket_id: int, refund_id: int):
    """Cancel a refund that was not made (``{"reason"}`` required)."""
    data = body()
    _text(data, "reason")
    made = service.get_refund(_ticket(ticket_id), refund_id)
    service.cancel_refund(made, g.actor, reason=data.get("reason"))
    return jsonify(refund_json(made))


@api_bp.get("/macros")
def list_macros():
    """Every macro, by name."""
    return jsonify(macros=[{"id": m.id, "name": m.name, "reply": m.reply, "status": m.status, "tags": m.tags,
                            "priority": m.priority} for m in macros.all_macros()])


@api_bp.post("/tickets/<id:ticket_id>/macros/<id:macro_id>")
def apply_macro(ticket_id: int, macro_id: int):
    """Apply a macro to the ticket."""
    ticket = macros.apply_macro(_ticket(ticket_id), g.actor, macros.get_macro(macro_id))
    return jsonify(ticket_json(ticket, full=True))
