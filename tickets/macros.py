"""Ticket macros: named actions managers and admins define, and agents apply to a
ticket in one click — a reply to the buyer with placeholders filled in (the canned
replies' placeholders, :mod:`chat.macros`), a status, tags to add, a priority.

Applying one is one transaction: each change it makes is recorded once on the timeline,
after a ``macro_applied`` entry naming it, and the domain events are sent after the
commit as for the same changes made by hand.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from chat.macros import fill_placeholders, order_placeholder_values
from chat.service import ChatError, clean_body
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.validation import InvalidInput, clean_name
from tickets import events, rules
from tickets.models import PRIORITIES, Ticket, TicketMacro
from tickets.service import (
    Actor,
    InvalidTicket,
    TicketNotFound,
    choice,
    clean_tags,
    clean_text,
    commit_and_emit,
    event_args,
    record,
    status_change,
)

MACRO_STATUSES = ("open", "pending", "on_hold", "solved")
MAX_REPLY = 5000


def _check_editor(actor: Actor) -> None:
    if actor.kind == "system":  # the server's operator, through `flask tickets macro-save`
        return
    if actor.agent is None or actor.agent.role not in ("manager", "admin"):
        raise rules.ApprovalNotAllowed("Only managers and admins can define macros.")


def save_macro(actor: Actor, *, name: object, reply: object = "", status: object = None, tags: object = None,
               priority: object = None, macro: TicketMacro | None = None, now: datetime | None = None) -> TicketMacro:
    """Create a macro (or change ``macro``); commits.

    Args:
        name: 1 to 120 characters, unique.
        reply: the message to the buyer (may hold ``{buyer_name}``, ``{order_number}``,
            ``{tracking_number}``, ``{tracking_link}``, ``{agent_name}``); empty for none.
        status: ``open``, ``pending``, ``on_hold``, ``solved`` or empty (left alone);
            ``pending`` needs a reply (it asks the buyer for something).
        tags: tags to add (list or comma-separated text).
        priority: one of :data:`tickets.models.PRIORITIES` or empty.

    Raises:
        rules.ApprovalNotAllowed: not a manager or admin (nor the system, for the CLI).
        InvalidTicket: bad field, a name already used, or a macro that does nothing.
    """
    _check_editor(actor)
    now = now or utcnow()
    try:
        name = clean_name(name if isinstance(name, str) else "", "The name", 120)
    except InvalidInput as exc:
        raise InvalidTicket(str(exc)) from None
    reply = clean_text(reply, "The reply", MAX_REPLY)
    status = choice(status, MACRO_STATUSES, "The status")
    tags = clean_tags(tags)
    priority = choice(priority, PRIORITIES, "The priority")
    if status == "pending" and not reply:
        raise InvalidTicket("A macro that asks the buyer for something (pending) needs a reply.")
    if not (reply or status or tags or priority):
        raise InvalidTicket("A macro must reply, set a status, add tags or set a priority.")
    clash = db.session.scalar(select(TicketMacro).where(TicketMacro.name == name))
    if clash is not None and clash is not macro:
        raise InvalidTicket(f"There is already a macro called “{name}”.")
    macro = macro or TicketMacro(created_at=now)
    macro.name, macro.reply, macro.status, macro.tags, macro.priority = name, reply, status, tags, priority
    macro.updated_at = now
    db.session.add(macro)
    db.session.commit()
    return macro


def delete_macro(actor: Actor, macro: TicketMacro) -> None:
    """Remove a macro (timelines keep its name where it was applied); commits.

    Raises:
        rules.ApprovalNotAllowed: not a manager or admin.
    """
    _check_editor(actor)
    db.session.delete(macro)
    db.session.commit()


def get_macro(macro_id: int) -> TicketMacro:
    """A macro by id.

    Raises:
        TicketNotFound: no such macro.
    """
    macro = db.session.get(TicketMacro, macro_id)
    if macro is None:
        raise TicketNotFound("There is no such macro.")
    return macro


def all_macros() -> list[TicketMacro]:
    """Every macro, by name."""
    return list(db.session.scalars(select(TicketMacro).order_by(TicketMacro.name)))


def apply_macro(ticket: Ticket, actor: Actor, macro: TicketMacro, *, now: datetime | None = None) -> Ticket:
    """Apply ``macro`` to ``ticket`` as ``actor`` (an agent); commits, then sends the
    events of its changes. The reply's placeholders are filled from the ticket (buyer,
    order, latest shipment) and the agent. A reply on a new ticket without a status
    of its own opens it, as a reply by hand does.

    Raises:
        rules.ApprovalNotAllowed: not an agent.
        rules.InvalidTransition: the ticket is closed, or the status cannot follow.
        InvalidTicket: the filled-in reply is too long.
    """
    now = now or utcnow()
    if not actor.is_agent:
        raise rules.ApprovalNotAllowed("Only agents can apply macros.")
    if ticket.status == "closed":
        raise rules.InvalidTransition("This request is closed; please open a new one.")
    buyer_name = ticket.customer.name if ticket.customer else (ticket.conversation.buyer_name
                                                                if ticket.conversation else None)
    text = ""
    if macro.reply:
        try:
            text = clean_body(fill_placeholders(macro.reply, order_placeholder_values(buyer_name, ticket.order,
                                                                                      actor.agent)))
        except ChatError as exc:
            raise InvalidTicket(str(exc)) from None
    record(ticket, actor, "macro_applied", {"macro": macro.id, "name": macro.name}, internal=True, now=now)
    sends: list[tuple] = []
    if text:
        record(ticket, actor, "message", {"body": text, "macro": macro.id,
                                          "requests_info": macro.status == "pending"}, now=now)
        sends.append((events.ticket_agent_replied, event_args(actor, now)))
    target = macro.status or ("open" if text and ticket.status == "new" else None)
    if target and target != ticket.status:
        sends += status_change(ticket, actor, target, now)
    tags = clean_tags([*ticket.tags, *macro.tags])
    for field, value in (("tags", tags), ("priority", macro.priority or ticket.priority)):
        if getattr(ticket, field) != value:
            record(ticket, actor, "field_changed", {"field": field, "from": getattr(ticket, field), "to": value},
                   internal=True, now=now)
            setattr(ticket, field, value)
    commit_and_emit(ticket, sends)
    return ticket
