"""Shared models: stores, buyers, agents, teams, and the orders pulled from marketplaces.

Money columns are :class:`~helpdesk.money.Amount` (exact ``Decimal``) beside an ISO 4217
``currency``; instants are :class:`~helpdesk.dbtypes.UTCDateTime` (aware UTC).
"""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.money import Amount
from helpdesk.text import search_key

AGENT_ROLES = ("agent", "manager", "admin")
#: Roles that see everyone's figures and close follow-ups (reports, surveys).
MANAGER_ROLES = ("manager", "admin")
AVAILABILITY = ("available", "away")


class Store(db.Model):
    """A seller's account on one marketplace.

    ``credentials_ref`` names where the API secret lives (``env:VARIABLE``), never the
    secret itself. ``identity_secret`` signs buyer identities for the chat widget (the
    store's server computes an HMAC of the buyer's id with it, see :mod:`chat.identity`). ``sync_cursor`` is the resume point of an interrupted sync (saved only
    after the page before it committed); ``synced_until`` is the ``updated_at`` high-water
    mark used for the next incremental sync.
    """

    __tablename__ = "store"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_url: Mapped[str | None] = mapped_column(String(500))
    credentials_ref: Mapped[str | None] = mapped_column(String(200))
    default_currency: Mapped[str] = mapped_column(String(3))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    identity_secret: Mapped[str | None] = mapped_column(String(200))
    sync_cursor: Mapped[str | None] = mapped_column(Text)
    synced_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="store")


class Team(db.Model):
    """A group of agents (e.g. "EU returns"); queues and reports group by it."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)

    agents: Mapped[list[Agent]] = relationship(back_populates="team")


class Agent(UserMixin, db.Model):
    """A person working the helpdesk: ``role`` is one of :data:`AGENT_ROLES`.

    ``languages`` is a list of BCP 47 tags the agent reads and writes; ``time_zone`` an
    IANA zone used to show times; ``locale`` the Babel locale of the agent console.

    Chat routing: ``availability`` (:data:`AVAILABILITY`) is what the agent chose; they
    only count as online while a console page keeps ``last_seen_at`` fresh (see
    :mod:`chat.routing`). ``max_chats`` caps the open conversations assigned to them;
    ``last_assigned_at`` orders the round-robin.
    """

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default="agent")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(35), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    availability: Mapped[str] = mapped_column(String(10), default="away")
    max_chats: Mapped[int] = mapped_column(default=5)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship(back_populates="agents")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive agents
        return self.active

    def get_id(self) -> str:
        """Flask-Login session id ``"<id>:<session token>"``; a new token signs out every
        session and remember-me cookie of this agent."""
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        """Store a salted hash (Werkzeug's scrypt) of ``password``, never the password, and
        end the agent's other sessions."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Rotate the session token: every session, remember-me cookie and chat connection
        of this agent stops working (sessions are signed cookies, so copies would not)."""
        self.session_token = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class Customer(db.Model):
    """A buyer. ``country`` is ISO 3166-1 alpha-2 (``None`` when the source gave none
    or named a region that has no code, such as "European Community"); the name as the
    marketplace gave it stays in ``country_name``. ``preferred_language`` is BCP 47.
    ``tier`` is the seller's own grouping of buyers (``"vip"``, ``"b2b"``...), which SLA
    policies can match."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    country_name: Mapped[str | None] = mapped_column(String(120))
    preferred_language: Mapped[str | None] = mapped_column(String(35))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    tier: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    accounts: Mapped[list[CustomerAccount]] = relationship(back_populates="customer", cascade="all, delete-orphan")

    def refresh_search_text(self) -> None:
        """Keep :attr:`search_text` (name and e-mail, folded by :func:`~helpdesk.text.search_key`) current."""
        self.search_text = search_key(f"{self.name} {self.email or ''}")
    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.placed_at.desc()")


class CustomerAccount(db.Model):
    """A buyer's id on one store (Shopify customer id, WooCommerce customer id, ...)."""

    __tablename__ = "customer_account"
    __table_args__ = (UniqueConstraint("store_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    external_id: Mapped[str] = mapped_column(String(100))

    customer: Mapped[Customer] = relationship(back_populates="accounts")
    store: Mapped[Store] = relationship()


class Order(db.Model):
    """An order as the marketplace reports it; ``(store_id, external_id)`` is unique.

    ``number`` is what the buyer sees ("#1001"). ``source_hash`` fingerprints the
    normalised record last applied, so a re-sync of an unchanged order writes nothing.
    """

    __tablename__ = "order"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        Index("ix_order_number", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Amount)
    discount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0), server_default="0")
    shipping: Mapped[Decimal] = mapped_column(Amount)
    tax: Mapped[Decimal] = mapped_column(Amount)
    total: Mapped[Decimal] = mapped_column(Amount)
    financial_status: Mapped[str] = mapped_column(String(40))
    fulfillment_status: Mapped[str] = mapped_column(String(40))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipping_name: Mapped[str | None] = mapped_column(String(300))
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    shipping_country_name: Mapped[str | None] = mapped_column(String(120))
    shipping_address: Mapped[dict | None] = mapped_column(JSON)
    source_hash: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped[Store] = relationship(back_populates="orders")
    customer: Mapped[Customer | None] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Refund.created_at"
    )

    @property
    def refunded_total(self) -> Decimal:
        """Sum of all refunds recorded on this order, in the order's currency."""
        return sum((r.amount for r in self.refunds), Decimal(0))


class OrderLine(db.Model):
    """One line of an order: ``quantity`` units of ``sku`` at ``unit_price``."""

    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    sku: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    line_total: Mapped[Decimal] = mapped_column(Amount)

    order: Mapped[Order] = relationship(back_populates="lines")


class Shipment(db.Model):
    """A parcel sent for an order, with the carrier's tracking details."""

    __tablename__ = "shipment"
    __table_args__ = (UniqueConstraint("order_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str | None] = mapped_column(String(40))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="shipments")


class Refund(db.Model):
    """Money given back on an order. ``origin`` is ``"marketplace"`` (synced) or
    ``"helpdesk"`` (issued by an agent); ``amount`` is in ``currency``."""

    __tablename__ = "refund"
    __table_args__ = (UniqueConstraint("order_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20), default="marketplace")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="refunds")
    lines: Mapped[list[RefundLine]] = relationship(back_populates="refund", cascade="all, delete-orphan")


class RefundLine(db.Model):
    """How many units of one order line a refund covers."""

    __tablename__ = "refund_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int]
    amount: Mapped[Decimal | None] = mapped_column(Amount)

    refund: Mapped[Refund] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class SyncRun(db.Model):
    """One run of an order sync or CSV import, with its counts and the records it
    could not take (``failures``: list of ``{"record": id, "reason": text}``)."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), index=True)
    source: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    failures: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)

    store: Mapped[Store] = relationship()

