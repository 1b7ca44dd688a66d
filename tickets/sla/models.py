"""SLA tables: business-hours calendars, policies (ordered, first match wins) and each
ticket's targets with what became of them.

:class:`SlaTarget` is the stored truth reports read (one row per ticket, metric and
cycle): its targets, achieved times, paused time and breach flags are written as things
happen and never recomputed from history.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, UniqueConstraint, case
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent

METRICS = ("first_response", "next_response", "periodic_update", "resolution")
TARGET_STATES = ("active", "paused", "achieved", "cancelled")


class SlaCalendar(db.Model):
    """Business hours: ``time_zone`` (IANA), ``hours`` (seven texts, Monday first, such as
    ``"09:00-12:30, 13:30-18:00"``; empty is closed; ``"22:00-02:00"`` runs overnight),
    public holidays of ``holiday_country`` (ISO 3166-1 alpha-2) and
    ``holiday_subdivision`` (ISO 3166-2 part, e.g. ``"BY"``) from the ``holidays``
    library, and ``custom_holidays`` (ISO dates, ``"2024-12-24"``)."""

    __tablename__ = "sla_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    hours: Mapped[list[str]] = mapped_column(JSON, default=list)
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))
    custom_holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SlaPolicy(db.Model):
    """Targets for the tickets it matches; policies are tried by ``position`` (then id)
    and the first active match wins.

    Conditions are lists, empty meaning "any": ``types`` (ticket types), ``priorities``,
    ``store_ids``, ``marketplaces`` (store kinds such as ``"amazon"``), ``countries``
    (the buyer's, ISO alpha-2), ``languages`` (BCP 47 prefixes: ``"de"`` matches
    ``"de-AT"``) and ``tiers`` (the buyer's tier).

    Targets in seconds (``None``: not measured): ``first_response_seconds``,
    ``next_response_seconds``, ``periodic_update_seconds``, ``resolution_seconds``.
    ``business`` counts them in the business hours of ``calendar``; otherwise in
    calendar hours (24/7). ``warn_ratio`` (0–1) is the share of a target at which the
    warning fires; ``pause_on_hold`` also stops the clocks while on hold (pending always
    does); ``fresh_resolution_on_reopen`` gives a reopened ticket a whole new resolution
    target instead of what was left. Escalation on a breach: the team's managers are
    notified, ``escalate_raise_priority`` raises the priority one step, and
    ``escalate_to_agent`` takes the ticket over.
    """

    __tablename__ = "sla_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    priorities: Mapped[list[str]] = mapped_column(JSON, default=list)
    store_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    marketplaces: Mapped[list[str]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_response_seconds: Mapped[int | None]
    next_response_seconds: Mapped[int | None]
    periodic_update_seconds: Mapped[int | None]
    resolution_seconds: Mapped[int | None]
    business: Mapped[bool] = mapped_column(default=True)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendar.id"))
    warn_ratio: Mapped[float] = mapped_column(Float, default=0.75)
    pause_on_hold: Mapped[bool] = mapped_column(default=False)
    fresh_resolution_on_reopen: Mapped[bool] = mapped_column(default=True)
    escalate_raise_priority: Mapped[bool] = mapped_column(default=False)
    escalate_to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))

    calendar: Mapped[SlaCalendar | None] = relationship()
    escalate_to_agent: Mapped[Agent | None] = relationship()

    def target_for(self, metric: str) -> int | None:
        """The target of ``metric`` (one of :data:`METRICS`) in seconds, or ``None``."""
        return getattr(self, f"{metric}_seconds")


class SlaTarget(db.Model):
    """One SLA target of one ticket: ``metric`` (:data:`METRICS`) and ``cycle`` (0 first;
    ``next_response`` counts buyer messages awaiting an answer, ``periodic_update`` the
    agent updates, ``resolution`` the reopenings).

    ``target_seconds`` are business seconds of calendar ``calendar_id`` when
    ``business``, else elapsed seconds. ``due_at`` (and ``warn_at``, when the warning
    fires) move on resume; ``paused_seconds`` is the business time spent paused;
    ``elapsed_seconds`` is what the target took from start to achievement minus the
    paused time. ``breached_at`` is the instant the target was missed (its ``due_at``);
    ``warned_at``, ``breach_notified_at`` and ``escalated_at`` say when the scheduler
    fired each notice, once. ``state`` is one of :data:`TARGET_STATES`.
    """

    __tablename__ = "sla_target"
    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "cycle"),
        Index("ix_sla_target_state_due_at", "state", "due_at"),
        Index("ix_sla_target_state_warn_at", "state", "warn_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy.id"))
    metric: Mapped[str] = mapped_column(String(20))
    cycle: Mapped[int] = mapped_column(default=0)
    business: Mapped[bool] = mapped_column(default=True)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendar.id"))
    target_seconds: Mapped[int]
    warn_seconds: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(default=0)
    achieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elapsed_seconds: Mapped[int | None]
    breached: Mapped[bool] = mapped_column(default=False)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breach_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="active")

    policy: Mapped[SlaPolicy | None] = relationship()
    calendar: Mapped[SlaCalendar | None] = relationship()

    @hybrid_property
    def decided_at(self) -> datetime | None:
        """When the target was decided: its breach instant when missed, else its
        achievement (``None`` while running). Reports count a target on this instant."""
        return self.breached_at if self.breached else self.achieved_at

    @decided_at.inplace.expression
    @classmethod
    def _decided_at_expression(cls):
        return case((cls.breached, cls.breached_at), else_=cls.achieved_at)


# The SLA reports' range scan: targets of one metric decided in a date range.
Index("ix_sla_target_metric_decided_at", SlaTarget.metric, SlaTarget.decided_at)
