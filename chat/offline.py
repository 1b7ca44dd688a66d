"""Messages left while nobody is online: a buyer who writes when no agent is available
leaves a message that becomes a ticket (type ``question``, channel ``chat``, tagged
``offline-chat``) holding the conversation, so the team answers it from the ticket queue
even if the buyer never comes back to the chat. The conversation itself stays in the
chat queue and is assigned as soon as an agent comes online.
"""
from __future__ import annotations

from sqlalchemy import select

from chat.models import Conversation, Message
from helpdesk.extensions import db
from tickets.models import OPEN_STATUSES, Ticket
from tickets.service import Actor, create_ticket

SUBJECT_LENGTH = 120  # characters of the message used as the ticket's subject


def subject_from(body: str) -> str:
    """The first line of ``body`` cut to :data:`SUBJECT_LENGTH` characters (with "…")."""
    line = " ".join((body.strip().splitlines() or [""])[0].split())
    return line if len(line) <= SUBJECT_LENGTH else line[:SUBJECT_LENGTH - 1].rstrip() + "…"


def leave_message(conversation: Conversation, message: Message) -> Ticket | None:
    """Turn the buyer's message into a ticket, unless the conversation already has an
    open one; commits. Returns the new ticket, or ``None``."""
    if open_ticket(conversation) is not None:
        return None
    subject = subject_from(message.body) or "Message left in the chat"
    return create_ticket(Actor("system"), order=None, type="question", subject=subject,
                         description=message.body or subject, conversation=conversation, channel="chat",
                         tags=["offline-chat"])


def open_ticket(conversation: Conversation) -> Ticket | None:
    """The conversation's open ticket, if any."""
    return db.session.scalar(select(Ticket).where(Ticket.conversation_id == conversation.id,
                                                  Ticket.status.in_(OPEN_STATUSES)).limit(1))
