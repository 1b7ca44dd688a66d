"""The sync service: a record the rules refuse is named, the rest of its page is kept."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.marketplace.records import CustomerRecord, LineRecord, OrderRecord, Page, RefundLineRecord, RefundRecord
from helpdesk.marketplace.sync import import_pages
from helpdesk.models import Customer, Order, Store, SyncRun

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def record(number: str, email: str, refund_line: str | None = None) -> OrderRecord:
    refunds = ()
    if refund_line:
        refunds = (RefundRecord("r" + number, Decimal("5.00"), "damaged", WHEN, (RefundLineRecord(refund_line, 1),)),)
    return OrderRecord(
        external_id=number, number=f"#{number}", currency="EUR", subtotal=Decimal("10.00"), shipping=Decimal(0),
        tax=Decimal(0), total=Decimal("10.00"), financial_status="paid", fulfillment_status="unfulfilled",
        placed_at=WHEN, updated_at=WHEN, customer=CustomerRecord(None, "Kim", email, "KR"),
        lines=(LineRecord(f"{number}-1", "SKU", "Thing", 2, Decimal("5.00"), Decimal("10.00")),), refunds=refunds)


def test_a_refused_record_is_named_and_the_page_is_kept(app):
    store = Store(kind="shopify", name="S", base_url="http://s.invalid", default_currency="EUR")
    db.session.add(store)
    db.session.commit()
    page = Page(records=[record("1", "kim@example.kr", refund_line="1-1"), record("2", "kim@example.kr", refund_line="9-9"),
                         record("3", "KIM@example.kr ")])

    summary = import_pages(store, [page], source="test")

    assert (summary.created, summary.failed) == (2, 1)
    assert [(f.record, f.reason) for f in summary.failures] == [
        ("2", "order #2: refund r2 names line 9-9, which is not on order #2")]
    assert db.session.scalars(select(Order.number).order_by(Order.number)).all() == ["#1", "#3"]
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1  # one buyer, by e-mail
    run = db.session.get(SyncRun, summary.run_id)
    assert (run.status, run.created, run.failed) == ("completed", 2, 1)
    assert run.failures == [{"record": "2", "reason": "order #2: refund r2 names line 9-9, which is not on order #2"}]


def test_a_run_that_breaks_is_marked_failed_and_keeps_committed_pages(app):
    store = Store(kind="shopify", name="S", base_url="http://s.invalid", default_currency="EUR")
    db.session.add(store)
    db.session.commit()

    def pages():
        yield Page(records=[record("1", "a@example.kr")])
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        import_pages(store, pages(), source="test")

    run = db.session.scalar(select(SyncRun))
    assert (run.status, run.created, run.error) == ("failed", 1, "peer went away")
    assert db.session.scalars(select(Order.number)).all() == ["#1"]
