"""Who answers a chat: agent availability, a cap on concurrent chats, round-robin
assignment, and the queue of buyers waiting for an agent.

An agent is *online* when they chose ``available`` and a console page of theirs has been
heard from in the last :data:`ONLINE_WINDOW` (pages send a heartbeat every 30 seconds;
a closed laptop simply stops counting, in every process, with no clean-up needed).

Round-robin: a waiting conversation goes to the online agent with room (fewer open
assigned conversations than their ``max_chats``) who was assigned least recently. The
agent's row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions are
serialised by ``BEGIN IMMEDIATE``) while their load is counted, so two conversations
assigned at the same moment never push an agent over their cap.

Every function commits before it returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from chat.models import Conversation
from chat.service import ChatError
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.models import AVAILABILITY, Agent

ONLINE_WINDOW = timedelta(seconds=75)
MAX_CHATS_LIMIT = 50
QUEUE_ANNOUNCE_LIMIT = 200  # buyers told their position after each change; the rest on their next history


@dataclass(frozen=True)
class Assignment:
    """A conversation given to an agent by :func:`assign_waiting`."""

    conversation: Conversation
    agent: Agent


def online_clause(now: datetime):
    """SQL condition: the agent is active, chose ``available`` and was seen recently."""
    return and_(Agent.active.is_(True), Agent.availability == "available", Agent.last_seen_at >= now - ONLINE_WINDOW)


def waiting_clause():
    """SQL condition: an open conversation nobody holds in which the buyer has written."""
    return and_(Conversation.status == "open", Conversation.assignee_id.is_(None), Conversation.last_seq > 0)


def open_load(agent_id: int) -> int:
    """How many open conversations ``agent_id`` holds."""
    return db.session.scalar(
        select(func.count()).select_from(Conversation)
        .where(Conversation.assignee_id == agent_id, Conversation.status == "open")
    )


def heartbeat(agent: Agent, availability: object = None, max_chats: object = None) -> Agent:
    """Record that ``agent`` is at a console page; optionally change their availability
    (one of :data:`~helpdesk.models.AVAILABILITY`) and their cap on concurrent chats
    (1 to :data:`MAX_CHATS_LIMIT`).

    Raises:
        chat.service.ChatError: an unknown availability or a cap out of range.
    """
    if availability is not None:
        if availability not in AVAILABILITY:
            raise ChatError(f"availability must be one of: {', '.join(AVAILABILITY)}.")
        agent.availability = availability
    if max_chats is not None:
        if isinstance(max_chats, bool) or not isinstance(max_chats, int) or not 1 <= max_chats <= MAX_CHATS_LIMIT:
            raise ChatError(f"max_chats must be a whole number from 1 to {MAX_CHATS_LIMIT}.")
        agent.max_chats = max_chats
    agent.last_seen_at = utcnow()
    db.session.commit()
    return agent


def online_agents(now: datetime | None = None) -> int:
    """How many agents are online now."""
    return db.session.scalar(select(func.count()).select_from(Agent).where(online_clause(now or utcnow())))


def _try_assign(conversation_id: int, agent_id: int, now: datetime) -> bool:
    """Give the conversation to the agent if they still have room and nobody took it;
    the agent's row is locked while their load is counted."""
    agent = db.session.scalar(select(Agent).where(Agent.id == agent_id, online_clause(now)).with_for_update())
    if agent is None or open_load(agent.id) >= agent.max_chats:
        db.session.rollback()
        return False
    won = db.session.execute(
        update(Conversation).where(Conversation.id == conversation_id, Conversation.assignee_id.is_(None),
                                   Conversation.status == "open")
        .values(assignee_id=agent.id, updated_at=now)
    ).rowcount
    if won:
        agent.last_assigned_at = now
    db.session.commit()
    return bool(won)


def assign_waiting(limit: int = 100) -> list[Assignment]:
    """Hand waiting conversations (oldest first, at most ``limit``) to online agents with
    room, round-robin. Call it when a buyer writes, an agent becomes available, or a
    conversation is closed or handed back. Returns what was assigned, in order."""
    now = utcnow()
    waiting = db.session.scalars(
        select(Conversation.id).where(waiting_clause()).order_by(Conversation.created_at, Conversation.id).limit(limit)
    ).all()
    done: list[Assignment] = []
    for conversation_id in waiting:
        load = (select(func.count()).select_from(Conversation)
                .where(Conversation.assignee_id == Agent.id, Conversation.status == "open").scalar_subquery())
        candidates = db.session.scalars(
            select(Agent.id).where(online_clause(now), load < Agent.max_chats)
            .order_by(Agent.last_assigned_at.is_not(None), Agent.last_assigned_at, Agent.id)
        ).all()
        db.session.rollback()  # end the read before each candidate's locking transaction
        if not candidates:
            break
        for agent_id in candidates:
            if _try_assign(conversation_id, agent_id, now):
                done.append(Assignment(db.session.get(Conversation, conversation_id), db.session.get(Agent, agent_id)))
                break
    return done


def queue_positions(limit: int = QUEUE_ANNOUNCE_LIMIT) -> list[tuple[Conversation, int]]:
    """The waiting conversations with their place in the queue (1 = next), oldest first."""
    waiting = db.session.scalars(
        select(Conversation).where(waiting_clause()).order_by(Conversation.created_at, Conversation.id).limit(limit)
    ).all()
    return [(conversation, place) for place, conversation in enumerate(waiting, start=1)]


def queue_position(conversation: Conversation) -> int | None:
    """This conversation's place in the queue (1 = next), or ``None`` when it is not waiting."""
    if not (conversation.status == "open" and conversation.assignee_id is None and conversation.last_seq > 0):
        return None
    ahead = db.session.scalar(
        select(func.count()).select_from(Conversation).where(
            waiting_clause(),
            or_(Conversation.created_at < conversation.created_at,
                and_(Conversation.created_at == conversation.created_at, Conversation.id < conversation.id)),
        )
    )
    return ahead + 1
