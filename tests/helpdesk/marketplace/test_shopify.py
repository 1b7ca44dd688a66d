"""The Shopify connector and the sync, against the sandbox marketplace over real HTTP.

The sandbox serves Shopify's own sample order #1001 (``python-api_order.json``) with
its sample refund (``python-api_refund.json``). Tests that need more orders add copies
of it made by :func:`derive_shopify`, which changes only id, name and updated_at.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from helpdesk.marketplace.base import MarketplaceAuthError, MarketplaceError, MissingCredentials
from helpdesk.marketplace.records import RecordError
from helpdesk.marketplace.sync import sync_store
from tests.helpdesk.marketplace.support import (
    SHOPIFY_ENV,
    SHOPIFY_ORDERS_PATH,
    derive_shopify,
    row_counts,
    stored_order,
    stored_orders,
    sync_runs,
)

UTC = timezone.utc
ORDER_ID = "450789469"
TRACKING_URL = (
    "http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber1=1Z2345"
    "&TypeOfInquiryNumber=T&AcceptUPSLicenseAgreement=yes&submit=Track"
)
FIRST_PAGE_QUERY = {"limit": "250", "status": "any", "order": "updated_at asc"}


def with_copies(first: dict, bare: dict, count: int) -> list[dict]:
    """``first`` (the real #1001) plus ``count`` copies of the real order: ids 450789470…,
    names #1002…, updated one day apart from 2008-01-11 (16:00 UTC). Nothing else differs."""
    return [first] + [
        derive_shopify(bare, order_id=450789469 + n, number=1001 + n, updated_at=f"2008-01-{10 + n}T11:00:00-05:00")
        for n in range(1, count + 1)
    ]


def decode_page_info(token: str) -> dict:
    """The sandbox's page_info token is base64url JSON: ``{"updated_at_min", "after"}``."""
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def test_sync_stores_sample_order_1001_with_lines_fulfillment_refund_and_buyer(
    sandbox, make_store, shopify_order_refunded, sleeps
):
    shop = sandbox(shopify_orders=[shopify_order_refunded])
    store = make_store("shopify", shop.url)

    summary = sync_store(store, sleep=sleeps.append)

    assert summary.as_dict() == {"created": 1, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    assert shop.paths() == [SHOPIFY_ORDERS_PATH]
    assert shop.queries() == [FIRST_PAGE_QUERY]
    assert sleeps == []
    assert row_counts() == {"orders": 1, "lines": 3, "shipments": 1, "refunds": 1, "refund_lines": 2,
                            "customers": 1, "accounts": 1}

    order = stored_order(store, ORDER_ID)
    assert order.number == "#1001"
    assert order.currency == "USD"
    assert (order.subtotal, order.tax, order.total, order.shipping) == (
        Decimal("398.00"), Decimal("11.94"), Decimal("409.94"), Decimal("0.00"))
    assert (order.financial_status, order.fulfillment_status) == ("authorized", "unfulfilled")
    assert order.placed_at == order.updated_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.cancelled_at is None
    assert (order.shipping_name, order.shipping_country, order.shipping_country_name) == (
        "Bob Norman", "US", "United States")
    assert order.shipping_address == {
        "name": "Bob Norman", "address1": "Chestnut Street 92", "city": "Louisville", "province": "Kentucky",
        "zip": "40202", "country": "United States", "country_code": "US", "phone": "555-625-1199",
    }

    assert [(l.external_id, l.position, l.sku, l.title, l.quantity, l.unit_price, l.line_total)
            for l in order.lines] == [
        ("466157049", 0, "IPOD2008GREEN", "IPod Nano - 8gb - green", 1, Decimal("199.00"), Decimal("199.00")),
        ("518995019", 1, "IPOD2008RED", "IPod Nano - 8gb - red", 1, Decimal("199.00"), Decimal("199.00")),
        ("703073504", 2, "IPOD2008BLACK", "IPod Nano - 8gb - black", 1, Decimal("199.00"), Decimal("199.00")),
    ]

    [shipment] = order.shipments
    assert (shipment.external_id, shipment.carrier, shipment.tracking_number, shipment.tracking_url,
            shipment.status, shipment.shipped_at, shipment.delivered_at) == (
        "255858046", None, "1Z2345", TRACKING_URL, "failure", datetime(2014, 1, 22, 20, 58, 27, tzinfo=UTC), None)

    [refund] = order.refunds
    assert (refund.external_id, refund.amount, refund.currency, refund.reason, refund.origin, refund.created_at) == (
        "509562969", Decimal("209.00"), "USD", "it broke during shipping", "marketplace",
        datetime(2016, 6, 20, 17, 35, 6, tzinfo=UTC))
    # the sample's refund_line_items carry no subtotal, so no per-line amount is invented
    assert sorted((rl.order_line.external_id, rl.order_line.sku, rl.quantity, rl.amount) for rl in refund.lines) == [
        ("466157049", "IPOD2008GREEN", 1, None),
        ("703073504", "IPOD2008BLACK", 1, None),
    ]
    assert order.refunded_total == Decimal("209.00")

    buyer = order.customer
    assert (buyer.name, buyer.email, buyer.country, buyer.country_name, buyer.phone) == (
        "Bob Norman", "bob.norman@hostmail.com", "US", "United States", "555-625-1199")
    assert [(a.store_id, a.external_id) for a in buyer.accounts] == [(store.id, "207119551")]

    assert store.synced_until == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert store.sync_cursor is None
    [run] = sync_runs(store)
    assert (run.status, run.source, run.created, run.failed, run.error) == ("completed", "shopify sync", 1, 0, None)


def test_cursor_pagination_follows_link_header_page_info(
    sandbox, make_store, shopify_order_refunded, shopify_order, sleeps
):
    shop = sandbox(shopify_orders=with_copies(shopify_order_refunded, shopify_order, 4))
    store = make_store("shopify", shop.url)
    created_after_each_page = []

    summary = sync_store(store, page_size=2, sleep=sleeps.append,
                         progress=lambda s: created_after_each_page.append(s.created))

    assert summary.as_dict() == {"created": 5, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    assert created_after_each_page == [2, 4, 5]
    assert shop.paths() == [SHOPIFY_ORDERS_PATH] * 3
    first, second, third = shop.queries()
    assert first == {"limit": "2", "status": "any", "order": "updated_at asc"}
    # Shopify refuses any filter besides limit on a page_info request
    assert set(second) == set(third) == {"limit", "page_info"}
    assert second["limit"] == third["limit"] == "2"
    assert decode_page_info(second["page_info"])["after"] == ["2008-01-11T16:00:00+00:00", 450789470]
    assert decode_page_info(third["page_info"])["after"] == ["2008-01-13T16:00:00+00:00", 450789472]
    assert [(o.external_id, o.number) for o in stored_orders(store)] == [
        ("450789469", "#1001"), ("450789470", "#1002"), ("450789471", "#1003"),
        ("450789472", "#1004"), ("450789473", "#1005"),
    ]
    assert row_counts() == {"orders": 5, "lines": 15, "shipments": 5, "refunds": 1, "refund_lines": 2,
                            "customers": 1, "accounts": 1}
    assert store.synced_until == datetime(2008, 1, 14, 16, 0, tzinfo=UTC)
    assert sleeps == []


def test_429_retry_after_is_waited_then_the_page_is_read(
    sandbox, make_store, shopify_order_refunded, shopify_order, sleeps
):
    shop = sandbox(shopify_orders=with_copies(shopify_order_refunded, shopify_order, 4))
    store = make_store("shopify", shop.url)

    def throttle_after_first_page(summary):
        if summary.created == 2:
            shop.faults["rate_limit"] = 2  # the next two requests answer 429, Retry-After: 2.0

    summary = sync_store(store, page_size=2, sleep=sleeps.append, progress=throttle_after_first_page)

    assert sleeps == [2.0, 2.0]
    assert summary.as_dict() == {"created": 5, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    queries = shop.queries()
    assert len(queries) == 5
    # page 2 asked three times with the same page_info (429, 429, 200), then page 3
    assert queries[1] == queries[2] == queries[3]
    assert set(queries[1]) == {"limit", "page_info"}
    assert queries[4]["page_info"] != queries[1]["page_info"]
    assert [o.number for o in stored_orders(store)] == ["#1001", "#1002", "#1003", "#1004", "#1005"]


def test_malformed_records_are_reported_and_the_rest_of_the_page_stored(
    sandbox, make_store, shopify_order_refunded, shopify_order, sleeps
):
    orders = with_copies(shopify_order_refunded, shopify_order, 3)
    orders[1]["total_price"] = "abc"  # deliberately malformed copies, in the middle of the page
    del orders[2]["currency"]
    shop = sandbox(shopify_orders=orders)
    store = make_store("shopify", shop.url)

    summary = sync_store(store, sleep=sleeps.append)

    assert len(shop.requests) == 1  # one page holding all four
    assert (summary.created, summary.updated, summary.skipped, summary.failed) == (2, 0, 0, 2)
    assert summary.failures == [
        RecordError("450789470", "Shopify order 450789470: 'abc' is not an amount of money."),
        RecordError("450789471", "Shopify order 450789471: required field 'currency' is missing"),
    ]
    assert [(o.external_id, o.total) for o in stored_orders(store)] == [
        ("450789469", Decimal("409.94")), ("450789472", Decimal("409.94"))]
    [run] = sync_runs(store)
    assert (run.status, run.created, run.failed) == ("completed", 2, 2)
    assert run.failures == [
        {"record": "450789470", "reason": "Shopify order 450789470: 'abc' is not an amount of money."},
        {"record": "450789471", "reason": "Shopify order 450789471: required field 'currency' is missing"},
    ]


def test_resync_is_idempotent(sandbox, make_store, shopify_order_refunded, shopify_order, sleeps):
    shop = sandbox(shopify_orders=with_copies(shopify_order_refunded, shopify_order, 4))
    store = make_store("shopify", shop.url)
    sync_store(store, page_size=2, sleep=sleeps.append)
    counts = row_counts()
    written = {o.external_id: (o.id, o.synced_at) for o in stored_orders(store)}

    again = sync_store(store, full=True, page_size=2, sleep=sleeps.append)

    assert again.as_dict() == {"created": 0, "updated": 0, "skipped": 5, "failed": 0, "failures": []}
    assert row_counts() == counts == {"orders": 5, "lines": 15, "shipments": 5, "refunds": 1, "refund_lines": 2,
                                      "customers": 1, "accounts": 1}
    # skipped means not written: same rows, same synced_at
    assert {o.external_id: (o.id, o.synced_at) for o in stored_orders(store)} == written
    assert [r.status for r in sync_runs(store)] == ["completed", "completed"]


def test_incremental_sync_asks_from_the_high_water_mark_and_updates_only_the_changed_order(
    sandbox, make_store, shopify_order_refunded, shopify_order, sleeps
):
    shop = sandbox(shopify_orders=with_copies(shopify_order_refunded, shopify_order, 2))
    store = make_store("shopify", shop.url)
    sync_store(store, sleep=sleeps.append)
    assert store.synced_until == datetime(2008, 1, 12, 16, 0, tzinfo=UTC)
    before = {o.external_id: o.synced_at for o in stored_orders(store)}

    # The shop records the refund's effect on #1001 later: a real change with a newer updated_at.
    changed = shop.catalogue.shopify_orders[0]
    changed["financial_status"] = "partially_refunded"
    changed["updated_at"] = "2008-01-15T09:30:00-05:00"
    shop.requests.clear()

    summary = sync_store(store, sleep=sleeps.append)

    assert shop.queries() == [{**FIRST_PAGE_QUERY, "updated_at_min": "2008-01-12T16:00:00+00:00"}]
    # updated_at_min is inclusive: #1003 (at the mark) comes back unchanged and is skipped
    assert summary.as_dict() == {"created": 0, "updated": 1, "skipped": 1, "failed": 0, "failures": []}
    after = {o.external_id: o for o in stored_orders(store)}
    assert after[ORDER_ID].financial_status == "partially_refunded"
    assert after[ORDER_ID].updated_at == datetime(2008, 1, 15, 14, 30, tzinfo=UTC)
    assert after[ORDER_ID].synced_at > before[ORDER_ID]
    assert after["450789470"].synced_at == before["450789470"]
    assert after["450789471"].synced_at == before["450789471"]
    assert row_counts() == {"orders": 3, "lines": 9, "shipments": 3, "refunds": 1, "refund_lines": 2,
                            "customers": 1, "accounts": 1}
    assert store.synced_until == datetime(2008, 1, 15, 14, 30, tzinfo=UTC)


def test_wrong_token_raises_auth_error_and_changes_nothing(
    sandbox, make_store, shopify_order_refunded, shopify_order, sleeps, monkeypatch
):
    shop = sandbox(shopify_orders=[shopify_order_refunded])
    store = make_store("shopify", shop.url)
    sync_store(store, sleep=sleeps.append)
    counts, mark = row_counts(), store.synced_until
    shop.catalogue.shopify_orders.append(
        derive_shopify(shopify_order, order_id=450789470, number=1002, updated_at="2008-01-11T11:00:00-05:00"))
    monkeypatch.setenv(SHOPIFY_ENV, "shpat_revoked_token")
    shop.requests.clear()

    with pytest.raises(MarketplaceAuthError, match=r"shopify refused the credentials \(HTTP 401\)"):
        sync_store(store, sleep=sleeps.append)

    assert len(shop.requests) == 1  # a 401 is not retried
    assert sleeps == []
    assert row_counts() == counts
    assert [o.external_id for o in stored_orders(store)] == [ORDER_ID]
    assert (store.synced_until, store.sync_cursor) == (mark, None)
    runs = sync_runs(store)
    assert [r.status for r in runs] == ["completed", "failed"]
    assert runs[1].error.startswith("shopify refused the credentials (HTTP 401)")
    assert (runs[1].created, runs[1].updated) == (0, 0)


def test_unset_credentials_variable_is_named_and_nothing_is_requested(
    sandbox, make_store, shopify_order_refunded, monkeypatch
):
    shop = sandbox(shopify_orders=[shopify_order_refunded])
    store = make_store("shopify", shop.url)
    monkeypatch.delenv(SHOPIFY_ENV)

    with pytest.raises(MissingCredentials, match=f"Environment variable {SHOPIFY_ENV} .* is not set"):
        sync_store(store)

    assert shop.requests == []
    assert row_counts()["orders"] == 0


def test_interrupted_sync_keeps_committed_pages_and_resumes_from_saved_page_info(
    sandbox, make_store, shopify_order_refunded, shopify_order, sleeps
):
    shop = sandbox(shopify_orders=with_copies(shopify_order_refunded, shopify_order, 4))
    store = make_store("shopify", shop.url)
    shop.faults["fail_from"] = 3  # the marketplace goes down after two pages

    with pytest.raises(MarketplaceError, match="shopify answered HTTP 500"):
        sync_store(store, page_size=2, sleep=sleeps.append)

    assert sleeps == [1, 2, 4, 8, 16]  # 5xx retried with back-off, then given up
    queries = shop.queries()
    assert len(queries) == 2 + 6
    failed_page_info = queries[2]["page_info"]
    assert all(q == {"limit": "2", "page_info": failed_page_info} for q in queries[2:])
    # the two committed pages are stored; the cursor points after the 4th order
    assert [o.number for o in stored_orders(store)] == ["#1001", "#1002", "#1003", "#1004"]
    assert store.sync_cursor == failed_page_info
    assert decode_page_info(store.sync_cursor) == {"updated_at_min": None,
                                                   "after": ["2008-01-13T16:00:00+00:00", 450789472]}
    assert store.synced_until is None  # no complete run yet
    [run] = sync_runs(store)
    assert (run.status, run.created) == ("failed", 4)
    assert "HTTP 500" in run.error

    shop.faults["fail_from"] = None
    shop.requests.clear()
    sleeps.clear()
    summary = sync_store(store, page_size=2, sleep=sleeps.append)

    assert shop.queries() == [{"limit": "2", "page_info": failed_page_info}]
    assert summary.as_dict() == {"created": 1, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    assert sleeps == []
    assert [o.number for o in stored_orders(store)] == ["#1001", "#1002", "#1003", "#1004", "#1005"]
    assert row_counts() == {"orders": 5, "lines": 15, "shipments": 5, "refunds": 1, "refund_lines": 2,
                            "customers": 1, "accounts": 1}
    assert store.sync_cursor is None
    assert store.synced_until == datetime(2008, 1, 14, 16, 0, tzinfo=UTC)
    assert [r.status for r in sync_runs(store)] == ["failed", "completed"]
