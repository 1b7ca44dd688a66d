"""Ticket tables: the case, the order lines it is about, its append-only timeline, the
refunds asked for on it, the type-specific details of logistics claims and payment
disputes, and the policies the rules read (store return windows and approval thresholds,
carrier claim deadlines) — kept as data so a seller changes them without a release.

Money is :class:`~helpdesk.money.Amount` (exact ``Decimal``) beside an ISO 4217 currency;
instants are :class:`~helpdesk.dbtypes.UTCDateTime` (aware UTC).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chat.models import Conversation
from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent, Customer, Order, OrderLine, Refund, Store, Team
from helpdesk.money import Amount
from helpdesk.uploads import StoredFile

TICKET_TYPES = (
    "return", "refund", "exchange", "warranty", "logistics_claim", "order_change", "payment_dispute", "question",
)
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
OPEN_STATUSES = ("new", "open", "pending", "on_hold")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("chat", "email", "web_form", "marketplace_message", "api")
REASON_CODES = (
    "damaged", "defective", "wrong_item", "not_as_described", "size_or_fit", "changed_mind", "not_received",
    "arrived_late", "missing_parts", "customs", "duplicate_charge", "fraud", "other",
)
CLAIM_KINDS = ("lost", "damaged", "late", "customs_held")
CLAIM_OUTCOMES = ("pending", "accepted", "rejected", "paid")
DISPUTE_OUTCOMES = ("pending", "won", "lost", "accepted")
RESOLUTIONS = ("accepted", "rejected", "withdrawn")
REFUND_STATES = ("awaiting_approval", "approved", "rejected", "executing", "succeeded", "failed", "cancelled")
# Refund requests whose money is spoken for: asked for, approved or being made (not yet
# refunded, but no other refund may use it). A failed one whose outcome is unknown is
# counted too (see tickets.service.refunded_so_far).
RESERVED_REFUND_STATES = ("awaiting_approval", "approved", "executing")
# Ticket types whose lines take order quantities out of the buyer's hands (a second
# return of the same units is refused).
RETURNING_TYPES = ("return", "exchange")
# Cases that are not real buyers' cases: no survey is sent for them and reports leave them out.
EXCLUSIONS = ("spam", "merged", "internal", "test")


class Ticket(db.Model):
    """One after-sales case, about one order (``order_id`` is empty only for general
    questions).

    ``requested_amount`` / ``approved_amount`` are in ``currency`` (the order's).
    ``due_at`` is a hard deadline when the case has one: the evidence due date of a
    payment dispute, the carrier's claim deadline of a logistics claim. ``refund_state``
    mirrors the latest refund request (``failed`` shows "refund failed" in every list).
    ``resolution`` says how a solved case ended; a ``rejected`` or ``withdrawn`` return
    gives its units back (they may be returned again). ``excluded_as`` (one of
    :data:`EXCLUSIONS`) marks spam, a case merged into another, an internal case or an
    agent's test: no satisfaction survey, not counted in reports.
    """

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_status_assignee", "status", "assignee_id"),
        Index("ix_ticket_order_id", "order_id"),
        Index("ix_ticket_customer_id", "customer_id"),
        Index("ix_ticket_created_at", "created_at"),  # reports: tickets created in a date range
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    channel: Mapped[str] = mapped_column(String(30), default="web_form")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    reason_code: Mapped[str | None] = mapped_column(String(30))
    language: Mapped[str | None] = mapped_column(String(35))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    buyer_email: Mapped[str | None] = mapped_column(String(254))
    currency: Mapped[str | None] = mapped_column(String(3))
    requested_amount: Mapped[Decimal | None] = mapped_column(Amount)
    approved_amount: Mapped[Decimal | None] = mapped_column(Amount)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    resolution: Mapped[str | None] = mapped_column(String(20))
    refund_state: Mapped[str | None] = mapped_column(String(20))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warranty_ends_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    excluded_as: Mapped[str | None] = mapped_column(String(10))

    store: Mapped[Store | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    order: Mapped[Order | None] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    assignee: Mapped[Agent | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[Agent | None] = relationship(foreign_keys=[created_by_id])
    team: Mapped[Team | None] = relationship()
    lines: Mapped[list[TicketLine]] = relationship(back_populates="ticket", cascade="all, delete-orphan",
                                                   order_by="TicketLine.id")
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id")
    refunds: Mapped[list[TicketRefund]] = relationship(back_populates="ticket", order_by="TicketRefund.id")
    claim: Mapped[LogisticsClaim | None] = relationship(back_populates="ticket", cascade="all, delete-orphan")
    dispute: Mapped[PaymentDispute | None] = relationship(back_populates="ticket", cascade="all, delete-orphan")
    attachments: Mapped[list[TicketAttachment]] = relationship(back_populates="ticket",
                                                               order_by="TicketAttachment.id")

    @property
    def is_open(self) -> bool:
        """True while someone still has to act (new, open, pending, on hold)."""
        return self.status in OPEN_STATUSES

    @property
    def affected_lines(self) -> list[TicketLine]:
        """The order lines the case is about (not the replacement of an exchange)."""
        return [line for line in self.lines if line.role == "affected"]

    @property
    def replacement_lines(self) -> list[TicketLine]:
        """What an exchange sends in place of the returned units."""
        return [line for line in self.lines if line.role == "replacement"]


class TicketLine(db.Model):
    """``quantity`` units of one order line a case is about (``role="affected"``), or of
    the item an exchange sends instead (``role="replacement"``: ``sku``/``title`` of the
    new item, ``order_line_id`` empty)."""

    __tablename__ = "ticket_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    role: Mapped[str] = mapped_column(String(12), default="affected")
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"), index=True)
    quantity: Mapped[int]
    sku: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(500))

    ticket: Mapped[Ticket] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine | None] = relationship()


class TicketEvent(db.Model):
    """One entry of a ticket's timeline: who (``actor`` = ``agent``, ``buyer``,
    ``system``; ``agent_id`` for agents), when, what (``kind``) and its details
    (``payload``, JSON). ``internal`` marks what the buyer never sees (notes, approvals).

    Append-only: the ORM refuses to update or delete a row (see the mapper events below).
    """

    __tablename__ = "ticket_event"
    # reports: solves and reopenings in a date range
    __table_args__ = (Index("ix_ticket_event_kind_created_at", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    kind: Mapped[str] = mapped_column(String(30))
    internal: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    agent: Mapped[Agent | None] = relationship()


class TimelineIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a timeline entry."""


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _refuse_changes(_mapper, _connection, target):
    raise TimelineIsAppendOnly(f"ticket event {target.id} is part of the timeline and cannot change")


class TicketRefund(db.Model):
    """Money asked back on a ticket, and what became of it.

    ``amount`` (in ``currency``) is the total: ``lines`` (``[{"order_line_id", "quantity",
    "amount"}]``, amounts in the order currency) plus ``shipping_amount``, or a bare
    amount. ``state`` runs ``awaiting_approval`` → ``approved`` → ``executing`` →
    ``succeeded`` | ``failed``; one not made yet (waiting, approved, or failed with a known
    outcome) may be ``cancelled`` (``cancel_reason``). From the request until it is made,
    refused, failed for sure or cancelled its amount counts as refunded (so no other
    refund can use it); ``succeeded`` links the :class:`Refund` recorded from the
    marketplace's answer; ``failed`` keeps a sentence for people in ``error`` (the
    marketplace's raw answer is in the timeline entry's ``detail``).
    """

    __tablename__ = "ticket_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Amount)
    shipping_amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    outcome_unknown: Mapped[bool] = mapped_column(default=False)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="refunds")
    order: Mapped[Order] = relationship()
    refund: Mapped[Refund | None] = relationship()
    requested_by: Mapped[Agent | None] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[Agent | None] = relationship(foreign_keys=[approved_by_id])


class LogisticsClaim(db.Model):
    """A claim against a carrier for a lost, damaged, late or customs-held parcel.

    ``deadline`` comes from :class:`CarrierClaimRule` (the last moment the carrier takes
    the claim); ``declared_value`` and ``insured_amount`` are in ``currency``.
    Evidence files (photos of damage, proof of delivery) are the ticket's
    :class:`TicketAttachment` rows.
    """

    __tablename__ = "logistics_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"))
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    currency: Mapped[str | None] = mapped_column(String(3))
    declared_value: Mapped[Decimal | None] = mapped_column(Amount)
    insured: Mapped[bool] = mapped_column(default=False)
    insured_amount: Mapped[Decimal | None] = mapped_column(Amount)
    claim_reference: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20), default="pending")

    ticket: Mapped[Ticket] = relationship(back_populates="claim")


class PaymentDispute(db.Model):
    """A chargeback or marketplace dispute: ``evidence_due_at`` is the hard deadline for
    the seller's evidence; ``evidence`` lists what was gathered from the order
    (``[{"kind", "text"}]``: proof of delivery, tracking, messages)."""

    __tablename__ = "payment_dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    network_reason: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(100))
    evidence_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(20), default="pending")

    ticket: Mapped[Ticket] = relationship(back_populates="dispute")


class TicketAttachment(StoredFile, db.Model):
    """An evidence file on a ticket (a photo of damage, a proof of delivery, a PDF),
    uploaded by an agent or by the buyer (``uploader``); the stored file's columns are
    :class:`helpdesk.uploads.StoredFile`'s."""

    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    agent: Mapped[Agent | None] = relationship()


class TicketMacro(db.Model):
    """A named action an agent applies to a ticket in one click, defined by managers
    and admins: a ``reply`` to the buyer (may hold the placeholders of
    :data:`chat.macros.PLACEHOLDERS`), a ``status`` to set, ``tags`` to add, a
    ``priority`` to set. Empty parts are left alone."""

    __tablename__ = "ticket_macro"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    reply: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str | None] = mapped_column(String(20))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnPolicy(db.Model):
    """A seller's after-sales policy. The most specific row wins: the store's own
    (``store_id``), else its marketplace's (``marketplace``, e.g. ``"shopify"``), else the
    default row (both empty), else :data:`tickets.rules.DEFAULT_POLICY`.

    ``return_window_days`` counts whole days in the store's time zone from the day after
    delivery; ``approval_threshold`` (in ``threshold_currency``) is the refund above
    which a manager must approve; ``warranty_days`` runs from delivery (from the order
    date when delivery is unknown).
    """

    __tablename__ = "return_policy"
    __table_args__ = (UniqueConstraint("store_id", "marketplace"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    marketplace: Mapped[str | None] = mapped_column(String(20))
    return_window_days: Mapped[int]
    approval_threshold: Mapped[Decimal | None] = mapped_column(Amount)
    threshold_currency: Mapped[str | None] = mapped_column(String(3))
    warranty_days: Mapped[int] = mapped_column(default=730)


class CarrierClaimRule(db.Model):
    """How long a carrier takes claims: ``days`` after ``counted_from`` (``shipped`` or
    ``delivered``), per claim ``kind`` or for every kind (``kind`` empty). ``carrier`` is
    matched case-insensitively; ``"*"`` is the fallback for carriers without a rule."""

    __tablename__ = "carrier_claim_rule"
    __table_args__ = (UniqueConstraint("carrier", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(20))
    days: Mapped[int]
    counted_from: Mapped[str] = mapped_column(String(10), default="shipped")


class ApiToken(db.Model):
    """A bearer token for ``/api/v1`` acting as ``agent``. Only a SHA-256 of the token
    is stored; the token itself is shown once when it is made."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(default=False)

    agent: Mapped[Agent] = relationship()

    @staticmethod
    def digest(token: str) -> str:
        """The stored form of ``token`` (hex SHA-256)."""
        return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
