"""Machine translation of buyers' ticket messages, the way the chat does it.

A subscriber of :data:`tickets.events.ticket_buyer_replied` and of
:data:`tickets.events.ticket_created` when the buyer opened the ticket (the description is
their first message, kept with the ``created`` timeline entry): after the buyer's words are
committed, the translation worker (:mod:`helpdesk.translation.worker`) translates it into
the language of the ticket's assignee (else ``TRANSLATION_AGENT_LANGUAGE``) and stores a
:class:`TicketEventTranslation` beside the untouched timeline entry. The agent's ticket
page shows it under the original, or the marker "No translation for pt→en" when no model
has the pair. Nothing here can delay or lose the message: the work runs after the commit,
off the request, and a failure is stored as a marker (or logged by the worker).
"""
from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import ForeignKey, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.translation.engines import translation_code
from helpdesk.translation.models import StoredTranslation
from helpdesk.translation.service import agent_language, detect, store_translation, translation_fields
from helpdesk.translation.worker import worker
from tickets.events import ticket_buyer_replied, ticket_created
from tickets.models import Ticket, TicketEvent

RECENT_MESSAGES = 20  # a buyer's latest messages looked at on each reply (earlier ones missed are retried)


class TicketEventTranslation(StoredTranslation, db.Model):
    """A buyer's ticket message (a ``message`` :class:`~tickets.models.TicketEvent`, or the
    ``created`` entry of a ticket the buyer opened: its description) in another language; the timeline entry stays as written. One per entry and ``lang``;
    columns of :class:`~helpdesk.translation.models.StoredTranslation`."""

    __tablename__ = "ticket_event_translation"
    __table_args__ = (UniqueConstraint("event_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_event.id"), index=True)


def _buyer_texts(ticket: Ticket) -> list[tuple[int, str]]:
    """``(entry id, text)`` of the buyer's latest messages, newest first; the ``created``
    entry stands for the description."""
    entries = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.actor == "buyer",
                                  TicketEvent.kind.in_(("message", "created")), TicketEvent.internal.is_(False))
        .order_by(TicketEvent.id.desc()).limit(RECENT_MESSAGES))
    return [(e.id, ticket.description if e.kind == "created" else e.payload.get("body") or "") for e in entries]


def translate_ticket(ticket_id: int) -> list[TicketEventTranslation]:
    """Translate the buyer's latest messages on the ticket (the description of a ticket they
    opened included) that have no translation into the agents' language yet (a marker is
    retried: a model may have been installed). Runs in the translation worker; no transaction stays open while the detector or the
    engine works.

    Returns:
        The translations and markers stored by this run.
    """
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return []
    target = agent_language(ticket.assignee)
    reads = {translation_code(tag) for tag in (ticket.assignee.languages if ticket.assignee else None) or [target]}
    fallback = ticket.language
    texts = _buyer_texts(ticket)
    done = set(db.session.scalars(select(TicketEventTranslation.event_id).where(
        TicketEventTranslation.lang == target, TicketEventTranslation.status == "translated",
        TicketEventTranslation.event_id.in_([event_id for event_id, _ in texts]))))
    todo = [(event_id, body) for event_id, body in texts if event_id not in done]
    db.session.rollback()
    stored = []
    for event_id, body in reversed(todo):
        source = detect(body, fallback).language if body.strip() else None
        if source is None or translation_code(source) in reads:
            continue
        fields = translation_fields(body, source, target)
        if fields is not None:
            row = store_translation(TicketEventTranslation, {"event_id": event_id, "lang": target}, fields)
            stored += [row] if row is not None else []
    return stored


def schedule(ticket: Ticket) -> None:
    """Queue :func:`translate_ticket` for ``ticket`` on the translation worker."""
    worker(current_app._get_current_object()).submit(translate_ticket, ticket.id)


def _on_buyer_reply(ticket: Ticket, **_event) -> None:
    schedule(ticket)


def _on_created(ticket: Ticket, *, actor: str, **_event) -> None:
    if actor == "buyer" and ticket.description:
        schedule(ticket)


def event_translations(ticket: Ticket) -> dict[int, list[TicketEventTranslation]]:
    """The stored translations of ``ticket``'s timeline entries, by entry id (for the
    agent's ticket page; a template global)."""
    rows = db.session.scalars(select(TicketEventTranslation).join(TicketEvent, TicketEvent.id ==
                                                                 TicketEventTranslation.event_id)
                              .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEventTranslation.id))
    found: dict[int, list[TicketEventTranslation]] = {}
    for row in rows:
        found.setdefault(row.event_id, []).append(row)
    return found


def init_app(app: Flask) -> None:
    """Listen to buyers' ticket replies and give templates :func:`event_translations`."""
    ticket_buyer_replied.connect(_on_buyer_reply)
    ticket_created.connect(_on_created)
    app.add_template_global(event_translations)
