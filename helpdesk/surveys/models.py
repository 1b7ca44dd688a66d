"""Satisfaction surveys (CSAT, optional NPS) and the follow-ups low ratings create.

A :class:`Survey` is one question to one buyer about one solved ticket or one closed chat
(unique per ticket and per conversation: however often a ticket is solved again, it is
asked once). It keeps a copy of what reports group by (agent, team, ticket type, store,
marketplace, language, country) as it was when the case was solved, so a later
reassignment does not move a rating to another agent.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chat.models import Conversation
from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent, Team
from tickets.models import Ticket

LOW_REASONS = ("slow", "not_solved", "unfriendly", "policy", "product", "other")
FOLLOW_UP_STATES = ("open", "done")


class Survey(db.Model):
    """A CSAT question: 1–5 ``rating`` (4 and 5 count as satisfied), a ``reason`` picked
    on a low score (:data:`LOW_REASONS`), a free ``comment``, and on some surveys an NPS
    answer 0–10 (``asks_nps``, at most once a calendar quarter per buyer).

    Lifecycle, each step taken by a conditional UPDATE so two schedulers never repeat it:
    ``due_at`` (when to send; empty while the ticket is reopened) → ``send_claimed_at``
    (a sender took it) → ``sent_at`` → ``reminder_sent_at`` (once, if unanswered) →
    ``answered_at`` (first answer) / ``changed_at`` (last change). ``expires_at`` ends
    the link; ``nonce`` makes the link's token (see :mod:`helpdesk.surveys.tokens`).
    ``buyer_key`` is ``c:<customer id>`` or ``e:<e-mail>`` (the NPS quarter rule).
    """

    __tablename__ = "survey"
    __table_args__ = (
        Index("ix_survey_due_at", "due_at"),
        Index("ix_survey_sent_at", "sent_at"),
        Index("ix_survey_answered_at", "answered_at"),
        Index("ix_survey_buyer_key", "buyer_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    buyer_name: Mapped[str] = mapped_column(String(300), default="")
    buyer_key: Mapped[str] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(35))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    ticket_type: Mapped[str] = mapped_column(String(20))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    marketplace: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    asks_nps: Mapped[bool] = mapped_column(default=False)
    rating: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    nps: Mapped[int | None]
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket | None] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    agent: Mapped[Agent | None] = relationship()
    team: Mapped[Team | None] = relationship()
    follow_up: Mapped[SurveyFollowUp | None] = relationship(back_populates="survey")


class SurveyFollowUp(db.Model):
    """Work for the team lead after a rating of 1 or 2: the buyer's comment
    (``comment``, as written) and, when a translation engine could, ``translated``
    (in the agents' language; ``translation_note`` says why there is none). A manager
    closes it (``state="done"``) with a ``note``."""

    __tablename__ = "survey_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    translated: Mapped[str | None] = mapped_column(Text)
    translation_note: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str | None] = mapped_column(Text)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="follow_up")
    ticket: Mapped[Ticket | None] = relationship()
    team: Mapped[Team | None] = relationship()
    done_by: Mapped[Agent | None] = relationship()
