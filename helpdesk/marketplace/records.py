"""Normalised order records: what every connector turns a marketplace payload into.

Connectors parse; :mod:`helpdesk.marketplace.sync` stores. Amounts are ``Decimal``
quantised to the order currency's minor units; instants are aware UTC datetimes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


MAX_QUANTITY = 1_000_000


def _check_quantity(quantity: int, what: str) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise ValueError(f"{what} quantity {quantity!r} is not a whole number from 0 to {MAX_QUANTITY:,}")


def _check_instant(value: datetime | None, what: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{what} is missing or has no time zone")


@dataclass(frozen=True)
class CustomerRecord:
    """A buyer as one store knows them; ``external_id`` is the store's customer id."""

    external_id: str | None
    name: str
    email: str | None
    country: str | None = None
    country_name: str | None = None
    phone: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class LineRecord:
    """An order line; ``unit_price`` and ``line_total`` in the order currency."""

    external_id: str
    sku: str | None
    title: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal

    def __post_init__(self) -> None:
        _check_quantity(self.quantity, f"line {self.external_id}")


@dataclass(frozen=True)
class ShipmentRecord:
    """A fulfilment / parcel with its carrier tracking."""

    external_id: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    status: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class RefundLineRecord:
    """``quantity`` units of the order line whose marketplace id is ``line_external_id``."""

    line_external_id: str
    quantity: int
    amount: Decimal | None = None

    def __post_init__(self) -> None:
        _check_quantity(self.quantity, f"refunded line {self.line_external_id}")


@dataclass(frozen=True)
class RefundRecord:
    """A refund the marketplace recorded; ``amount`` is positive, in the order currency."""

    external_id: str
    amount: Decimal
    reason: str | None
    created_at: datetime
    lines: tuple[RefundLineRecord, ...] = ()

    def __post_init__(self) -> None:
        _check_instant(self.created_at, f"the date of refund {self.external_id}")


@dataclass(frozen=True)
class RefundRequest:
    """A refund to make on a marketplace: ``amount`` in total (in the order currency), of
    which ``shipping`` is shipping; ``lines`` name the refunded units by the marketplace's
    line ids (``amount`` per line, what those units are worth)."""

    amount: Decimal
    currency: str
    reason: str | None = None
    lines: tuple[RefundLineRecord, ...] = ()
    shipping: Decimal = Decimal(0)


@dataclass(frozen=True)
class OrderRecord:
    """One order, normalised. ``external_id`` is unique within its store."""

    external_id: str
    number: str
    currency: str
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal
    financial_status: str
    fulfillment_status: str
    placed_at: datetime
    updated_at: datetime
    customer: CustomerRecord | None
    cancelled_at: datetime | None = None
    discount: Decimal = Decimal(0)
    shipping_name: str | None = None
    shipping_country: str | None = None
    shipping_country_name: str | None = None
    shipping_address: dict | None = None
    lines: tuple[LineRecord, ...] = ()
    shipments: tuple[ShipmentRecord, ...] = ()
    refunds: tuple[RefundRecord, ...] = ()

    def __post_init__(self) -> None:
        _check_instant(self.placed_at, "the order date")
        _check_instant(self.updated_at, "the order's last update")

    def fingerprint(self) -> str:
        """SHA-256 of the record's content; equal records give equal fingerprints. The
        dataclass ``repr`` names every field in order, with ``Decimal`` and ``datetime``
        values in full, so it serves as the canonical form."""
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RecordError:
    """A record that could not be read: which one (``record``, the marketplace id or a
    CSV line reference, ``None`` when even that is unreadable) and why, in words."""

    record: str | None
    reason: str


@dataclass
class Page:
    """One page of a sync: the records read, the ones refused, and the cursor that
    resumes *after* this page (``None`` when this was the last page)."""

    records: list[OrderRecord] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    next_cursor: str | None = None
