"""Storing normalised records: idempotent upserts, resumable syncs, reported failures.

* Upsert by ``(store, external_id)``; an order whose fingerprint did not change is
  skipped without a write, so running a sync twice changes nothing.
* Each page commits on its own; the store's cursor is saved in the same transaction,
  so an interrupted sync resumes after the last committed page.
* Each record is applied inside a savepoint: a record the database refuses is reported
  (which record, why) and the rest of the page still commits.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from helpdesk.dbtypes import utcnow
from helpdesk.errors import describe_error
from helpdesk.money import quantise
from helpdesk.extensions import db
from helpdesk.marketplace.base import MarketplaceError, connector_class, resolve_secret
from helpdesk.marketplace.records import (
    CustomerRecord,
    OrderRecord,
    Page,
    RecordError,
    RefundRecord,
)
from helpdesk.models import (
    Customer,
    CustomerAccount,
    Order,
    OrderLine,
    Refund,
    RefundLine,
    Shipment,
    Store,
    SyncRun,
)

log = logging.getLogger(__name__)


class RecordRejected(ValueError):
    """A record that reads fine but cannot be applied (a refund of a line not on the order)."""


@dataclass
class SyncSummary:
    """Counts of one sync or import run."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[RecordError] = field(default_factory=list)
    run_id: int | None = None

    def as_dict(self) -> dict:
        """JSON-ready counts plus the failures as ``{"record", "reason"}`` objects."""
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": self.failed,
            "failures": [{"record": f.record, "reason": f.reason} for f in self.failures],
        }


def normalise_email(email: str | None) -> str | None:
    """Trimmed, lower-cased e-mail, or ``None`` when empty."""
    value = (email or "").strip().lower()
    return value or None


@dataclass
class Known:
    """What a batch of records may touch, loaded in three queries instead of three per
    record: the store's orders by marketplace id (with lines, shipments and refunds), its
    customer accounts by marketplace customer id, and buyers by e-mail. Rows created
    while applying the batch are added, so two orders of a new buyer find one Customer."""

    orders: dict[str, Order]
    accounts: dict[str, CustomerAccount]
    customers_by_email: dict[str, Customer]

    @classmethod
    def load(cls, store: Store, records: Iterable[OrderRecord]) -> Known:
        """Load what ``records`` refer to in ``store``."""
        records = list(records)
        order_ids = [r.external_id for r in records]
        account_ids = {r.customer.external_id for r in records if r.customer and r.customer.external_id}
        emails = {e for r in records if r.customer and (e := normalise_email(r.customer.email))}
        fresh = {"populate_existing": True}
        orders = db.session.scalars(
            select(Order)
            .where(Order.store_id == store.id, Order.external_id.in_(order_ids))
            .options(selectinload(Order.lines), selectinload(Order.shipments),
                     selectinload(Order.refunds).selectinload(Refund.lines))
            .execution_options(**fresh)
        ) if order_ids else []
        accounts = db.session.scalars(
            select(CustomerAccount)
            .where(CustomerAccount.store_id == store.id, CustomerAccount.external_id.in_(account_ids))
            .options(selectinload(CustomerAccount.customer))
            .execution_options(**fresh)
        ) if account_ids else []
        customers = db.session.scalars(
            select(Customer).where(Customer.email.in_(emails)).execution_options(**fresh)
        ) if emails else []
        return cls(
            orders={o.external_id: o for o in orders},
            accounts={a.external_id: a for a in accounts},
            customers_by_email={c.email: c for c in customers},
        )


def resolve_customer(store: Store, record: CustomerRecord | None, known: Known) -> Customer | None:
    """Find or create the buyer behind ``record``: by the store's customer id, then by
    e-mail (one buyer across stores), else a new Customer. ``None`` for guest orders."""
    if record is None:
        return None
    email = normalise_email(record.email)
    account = known.accounts.get(record.external_id) if record.external_id else None
    customer = account.customer if account else None
    if customer is None and email:
        customer = known.customers_by_email.get(email)
    if customer is None:
        customer = Customer(email=email, name=record.name or "")
        db.session.add(customer)
        if email:
            known.customers_by_email[email] = customer
    if record.external_id and account is None:
        account = CustomerAccount(customer=customer, store_id=store.id, external_id=record.external_id)
        db.session.add(account)
        known.accounts[record.external_id] = account
    customer.name = record.name or customer.name
    customer.email = customer.email or email
    customer.country = record.country or customer.country
    customer.country_name = record.country_name or customer.country_name
    customer.phone = record.phone or customer.phone
    customer.preferred_language = customer.preferred_language or record.language
    customer.refresh_search_text()
    return customer


def _by_external_id(items) -> dict:
    return {item.external_id: item for item in items}


def _apply_refund(order: Order, record: RefundRecord) -> None:
    lines = _by_external_id(order.lines)
    refund = _by_external_id(order.refunds).get(record.external_id)
    if refund is None:
        refund = Refund(external_id=record.external_id, origin="marketplace")
        order.refunds.append(refund)
    refund.amount = record.amount
    refund.currency = order.currency
    refund.reason = record.reason
    refund.created_at = record.created_at
    refund.lines.clear()
    for item in record.lines:
        line = lines.get(item.line_external_id)
        if line is None:
            raise RecordRejected(
                f"refund {record.external_id} names line {item.line_external_id}, which is not on order {order.number}"
            )
        if not 0 <= item.quantity <= line.quantity:  # WooCommerce refunds an amount with quantity 0
            raise RecordRejected(
                f"refund {record.external_id} returns {item.quantity} of line {item.line_external_id}, "
                f"which has {line.quantity}"
            )
        refund.lines.append(RefundLine(order_line=line, quantity=item.quantity, amount=item.amount))
    if record.amount < 0:
        raise RecordRejected(f"refund {record.external_id} has a negative amount {record.amount}")
    if order.refunded_total > order.total:
        raise RecordRejected(
            f"refunds of order {order.number} would come to {quantise(order.refunded_total, order.currency)} "
            f"{order.currency}, more than its total {quantise(order.total, order.currency)}"
        )


def apply_order(store: Store, record: OrderRecord, known: Known | None = None) -> str:
    """Insert or update one order and its lines, shipments and refunds, in the session;
    the caller flushes (and commits).

    Children are matched by their marketplace ids and updated in place, so their row ids
    stay stable for tickets that point at them.

    Args:
        known: rows loaded for a whole batch (:class:`Known`); loaded for this one record
            when ``None``.

    Returns:
        ``"created"``, ``"updated"`` or ``"skipped"`` (unchanged fingerprint).

    Raises:
        RecordRejected: the record contradicts itself (see :func:`_apply_refund`).
    """
    known = known or Known.load(store, [record])
    fingerprint = record.fingerprint()
    order = known.orders.get(record.external_id)
    if order is not None and (order.source_hash == fingerprint or record.updated_at < order.updated_at):
        return "skipped"  # unchanged, or an older copy than the one stored (a late webhook)
    outcome = "updated" if order is not None else "created"
    with db.session.no_autoflush:
        customer = resolve_customer(store, record.customer, known)
        order = _fill_order(order or Order(store=store, external_id=record.external_id), customer, record, fingerprint)
        known.orders[record.external_id] = order
        for refund in record.refunds:
            _apply_refund(order, refund)
    return outcome


def _fill_order(order: Order, customer: Customer | None, record: OrderRecord, fingerprint: str) -> Order:
    """Copy ``record`` onto ``order`` and upsert its lines and shipments."""
    db.session.add(order)
    order.number = record.number
    order.customer = customer
    order.currency = record.currency
    order.subtotal, order.shipping, order.tax, order.total = record.subtotal, record.shipping, record.tax, record.total
    order.discount = record.discount
    order.financial_status = record.financial_status
    order.fulfillment_status = record.fulfillment_status
    order.placed_at, order.updated_at, order.cancelled_at = record.placed_at, record.updated_at, record.cancelled_at
    order.shipping_name = record.shipping_name
    order.shipping_country = record.shipping_country
    order.shipping_country_name = record.shipping_country_name
    order.shipping_address = record.shipping_address
    order.source_hash = fingerprint
    order.synced_at = utcnow()
    lines = _by_external_id(order.lines)
    for position, item in enumerate(record.lines):
        line = lines.get(item.external_id)
        if line is None:
            line = OrderLine(external_id=item.external_id)
            order.lines.append(line)
        line.position, line.sku, line.title = position, item.sku, item.title
        line.quantity, line.unit_price, line.line_total = item.quantity, item.unit_price, item.line_total
    shipments = _by_external_id(order.shipments)
    for item in record.shipments:
        shipment = shipments.get(item.external_id)
        if shipment is None:
            shipment = Shipment(external_id=item.external_id)
            order.shipments.append(shipment)
        shipment.carrier, shipment.tracking_number, shipment.tracking_url = item.carrier, item.tracking_number, item.tracking_url
        shipment.status, shipment.shipped_at, shipment.delivered_at = item.status, item.shipped_at, item.delivered_at
    return order


def apply_refund(store: Store, order_external_id: str, record: RefundRecord) -> Order | None:
    """Record a refund (from a webhook) on an order already stored; ``None`` when the
    order is not stored yet (the caller fetches it). Flushes, does not commit."""
    order = db.session.scalar(select(Order).filter_by(store_id=store.id, external_id=order_external_id))
    if order is None:
        return None
    _apply_refund(order, record)
    order.synced_at = utcnow()
    db.session.flush()
    return order


def import_pages(
    store: Store,
    pages: Iterable[Page],
    *,
    source: str,
    save_cursor: bool = False,
    skipped: int = 0,
    progress: Callable[[SyncSummary], None] | None = None,
) -> SyncSummary:
    """Apply pages of records to ``store``, committing page by page.

    Args:
        store: where the orders belong.
        pages: from a connector's ``iter_pages`` or the CSV reader.
        source: what is being read, for the run log ("shopify sync", a file name).
        save_cursor: store each page's ``next_cursor`` on the store (resumable syncs).
        skipped: records the reader already set aside (CSV stock adjustments), counted in.
        progress: called after each page with the running totals.

    Returns:
        The run's :class:`SyncSummary`; also written to a :class:`SyncRun` row.

    Raises:
        MarketplaceError: the marketplace failed mid-way. Committed pages stay; the run is
            marked failed with the message (so is it on any other error, which is re-raised).
    """
    run = SyncRun(store=store, source=source[:300])
    db.session.add(run)
    db.session.commit()
    summary = SyncSummary(run_id=run.id, skipped=skipped)
    try:
        for page in pages:
            for error in page.errors:
                summary.failed += 1
                summary.failures.append(error)
            _apply_page(store, page.records, summary)
            if save_cursor:
                store.sync_cursor = page.next_cursor
            db.session.commit()
            if progress:
                progress(summary)
    except Exception as exc:
        db.session.rollback()
        _finish(run, summary, status="failed", error=describe_error(exc))
        raise
    _finish(run, summary, status="completed")
    return summary


APPLY_ERRORS = (RecordRejected, SQLAlchemyError, ValueError)


def _apply_page(store: Store, records: list[OrderRecord], summary: SyncSummary) -> None:
    """Apply a page in one savepoint and one flush; if the database or a rule refuses
    anything, roll the page back and apply it record by record, each in its own savepoint,
    so the bad record is named and the others are kept."""
    savepoint = db.session.begin_nested()
    try:
        known = Known.load(store, records)
        outcomes = [apply_order(store, record, known) for record in records]
        db.session.flush()
        savepoint.commit()
    except APPLY_ERRORS:
        savepoint.rollback()
    else:
        for outcome in outcomes:
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        return
    for record in records:
        savepoint = db.session.begin_nested()
        try:
            outcome = apply_order(store, record)
            db.session.flush()
            savepoint.commit()
        except APPLY_ERRORS as exc:
            savepoint.rollback()
            summary.failed += 1
            summary.failures.append(RecordError(record.external_id, f"order {record.number}: {describe_error(exc)}"))
            continue
        setattr(summary, outcome, getattr(summary, outcome) + 1)


def _finish(run: SyncRun, summary: SyncSummary, *, status: str, error: str | None = None) -> None:
    run.created, run.updated, run.skipped, run.failed = summary.created, summary.updated, summary.skipped, summary.failed
    run.failures = summary.as_dict()["failures"][:1000]
    run.status, run.error, run.finished_at = status, error, utcnow()
    db.session.commit()
    log.info(
        "sync finished",
        extra={"store_id": run.store_id, "run_id": run.id, "status": status, "orders_created": summary.created,
               "orders_updated": summary.updated, "orders_skipped": summary.skipped, "orders_failed": summary.failed},
    )


def make_connector(store: Store, **kwargs):
    """Build the registered connector for ``store`` with its resolved secret.

    Raises:
        UnknownMarketplace, MissingCredentials: see :mod:`.base`.
    """
    cls = connector_class(store.kind)
    if not store.base_url:
        raise MarketplaceError(f"Store {store.name!r} has no base URL to sync from.")
    return cls(store.base_url, resolve_secret(store.credentials_ref), **kwargs)


def sync_store(store: Store, *, full: bool = False, progress=None, **connector_kwargs) -> SyncSummary:
    """Pull orders from ``store``'s marketplace: resume an interrupted run from its cursor,
    else fetch orders updated since the last complete run (everything when ``full``).

    After a complete run ``synced_until`` becomes the newest ``updated_at`` stored for the
    store (the next incremental sync's ``updated_at_min``, inclusive) and the cursor clears.
    """
    connector = make_connector(store, **connector_kwargs)
    cursor = None if full else store.sync_cursor
    since = None if full else store.synced_until
    summary = import_pages(
        store,
        connector.iter_pages(since=since, cursor=cursor),
        source=f"{store.kind} sync",
        save_cursor=True,
        progress=progress,
    )
    newest = db.session.scalar(select(func.max(Order.updated_at)).where(Order.store_id == store.id))
    store.synced_until = max(filter(None, [newest, store.synced_until]), default=None)
    store.sync_cursor = None
    db.session.commit()
    return summary
