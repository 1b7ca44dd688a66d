"""The WooCommerce connector and the sync, against the sandbox marketplace over real HTTP.

The sandbox serves WooCommerce's documented sample orders 727 and 723
(``wc-v3-orders-list.json``) and the refunds of 723 (``wc-v3-order-refunds-list.json``).
Tests that need more orders add copies made by :func:`derive_woo`, which changes only
id, number and the modification date.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from helpdesk.marketplace.base import MarketplaceAuthError, MarketplaceError
from helpdesk.marketplace.records import RecordError
from helpdesk.marketplace.sync import sync_store
from tests.helpdesk.marketplace.support import (
    WOO_ORDERS_PATH,
    derive_woo,
    row_counts,
    stored_order,
    stored_orders,
    sync_runs,
)

UTC = timezone.utc
REFUNDS_723 = f"{WOO_ORDERS_PATH}/723/refunds"
LIST_QUERY = {"page": "1", "per_page": "100", "orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
BOTH_COUNTS = {"orders": 2, "lines": 4, "shipments": 0, "refunds": 2, "refund_lines": 1, "customers": 2, "accounts": 1}


@pytest.fixture
def woo_shop(sandbox, woo_orders, woo_refunds):
    """The sandbox serving the two sample orders and the refunds of 723."""
    return sandbox(woo_orders=[woo_orders[727], woo_orders[723]], woo_refunds=woo_refunds)


def test_sync_stores_sample_orders_727_and_723_with_refunds_and_buyers(woo_shop, make_store, sleeps):
    store = make_store("woocommerce", woo_shop.url)

    summary = sync_store(store, sleep=sleeps.append)

    assert summary.as_dict() == {"created": 2, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    # oldest first; only 723 lists refunds, so only its refunds are fetched
    assert woo_shop.paths() == [WOO_ORDERS_PATH, REFUNDS_723]
    assert woo_shop.queries() == [LIST_QUERY, {}]
    assert sleeps == []
    assert row_counts() == BOTH_COUNTS

    order = stored_order(store, "723")
    assert (order.number, order.currency) == ("723", "USD")
    assert (order.subtotal, order.shipping, order.tax, order.total) == (
        Decimal("29.00"), Decimal("10.00"), Decimal("0.00"), Decimal("39.00"))
    # "completed" with 19.00 of 39.00 refunded
    assert (order.financial_status, order.fulfillment_status) == ("partially_refunded", "fulfilled")
    assert order.placed_at == datetime(2017, 3, 21, 19, 16, 0, tzinfo=UTC)  # the *_gmt dates
    assert order.updated_at == datetime(2017, 3, 21, 19, 54, 51, tzinfo=UTC)
    assert (order.shipping_name, order.shipping_country, order.shipping_country_name) == ("João Silva", "BR", "Brazil")
    assert order.shipping_address == {
        "first_name": "João", "last_name": "Silva", "address_1": "Av. Brasil, 432", "city": "Rio de Janeiro",
        "state": "RJ", "postcode": "12345-000", "country": "BR",
    }
    assert [(l.external_id, l.sku, l.title, l.quantity, l.unit_price, l.line_total) for l in order.lines] == [
        ("311", None, "Woo Album #2", 1, Decimal("9.00"), Decimal("9.00")),
        ("313", None, "Woo Ninja", 1, Decimal("20.00"), Decimal("20.00")),
    ]
    assert order.shipments == []
    assert [(r.external_id, r.amount, r.currency, r.reason, r.created_at) for r in order.refunds] == [
        ("724", Decimal("9.00"), "USD", None, datetime(2017, 3, 21, 19, 55, 37, tzinfo=UTC)),
        ("726", Decimal("10.00"), "USD", None, datetime(2017, 3, 21, 20, 7, 11, tzinfo=UTC)),
    ]
    refund_724, refund_726 = order.refunds
    # WooCommerce's quantity -1 and total -9.00 become a positive refund of line 311
    assert [(rl.order_line.external_id, rl.quantity, rl.amount) for rl in refund_724.lines] == [
        ("311", 1, Decimal("9.00"))]
    assert refund_726.lines == []
    assert order.refunded_total == Decimal("19.00")
    buyer = order.customer
    assert (buyer.name, buyer.email, buyer.country, buyer.phone) == (
        "João Silva", "joao.silva@example.com", "BR", "(11) 1111-1111")
    assert [(a.store_id, a.external_id) for a in buyer.accounts] == [(store.id, "26")]

    guest = stored_order(store, "727")
    assert (guest.number, guest.currency) == ("727", "USD")
    assert (guest.subtotal, guest.shipping, guest.tax, guest.total) == (
        Decimal("18.00"), Decimal("10.00"), Decimal("1.35"), Decimal("29.35"))
    assert (guest.financial_status, guest.fulfillment_status) == ("paid", "unfulfilled")
    assert guest.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert guest.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert [(l.external_id, l.sku, l.title, l.quantity, l.unit_price, l.line_total) for l in guest.lines] == [
        ("315", None, "Woo Single #1", 2, Decimal("3.00"), Decimal("6.00")),
        # the API sends "Ship Your Idea &ndash; Color: ..."; the entity is decoded
        ("316", "Bar3", "Ship Your Idea \u2013 Color: Black, Size: M Test", 1, Decimal("12.00"), Decimal("12.00")),
    ]
    assert guest.refunds == []
    # customer_id 0 is a guest checkout: no store account, but still a buyer, found by e-mail
    assert guest.customer is not None
    assert (guest.customer.name, guest.customer.email, guest.customer.country, guest.customer.phone) == (
        "John Doe", "john.doe@example.com", "US", "(555) 555-5555")
    assert guest.customer.accounts == []

    assert store.synced_until == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert store.sync_cursor is None


def test_pagination_reads_every_page_announced_in_x_wp_totalpages(
    sandbox, make_store, woo_orders, woo_refunds, sleeps
):
    # a third order: a copy of the real 727 with only id, number and modification date changed
    copy_728 = derive_woo(woo_orders[727], order_id=728, modified_gmt="2017-03-23T10:00:00")
    shop = sandbox(woo_orders=[woo_orders[727], woo_orders[723], copy_728], woo_refunds=woo_refunds)
    store = make_store("woocommerce", shop.url)
    created_after_each_page = []

    summary = sync_store(store, page_size=1, sleep=sleeps.append,
                         progress=lambda s: created_after_each_page.append(s.created))

    assert summary.as_dict() == {"created": 3, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    assert created_after_each_page == [1, 2, 3]
    assert shop.paths() == [WOO_ORDERS_PATH, REFUNDS_723, WOO_ORDERS_PATH, WOO_ORDERS_PATH]
    list_queries = [q for q, p in zip(shop.queries(), shop.paths()) if p == WOO_ORDERS_PATH]
    assert list_queries == [{**LIST_QUERY, "per_page": "1", "page": str(n)} for n in (1, 2, 3)]
    assert [o.external_id for o in stored_orders(store)] == ["723", "727", "728"]
    # both guest orders of john.doe@example.com belong to one buyer
    assert stored_order(store, "727").customer_id == stored_order(store, "728").customer_id
    assert row_counts() == {"orders": 3, "lines": 6, "shipments": 0, "refunds": 2, "refund_lines": 1,
                            "customers": 2, "accounts": 1}


def test_429_is_waited_then_the_page_is_read(woo_shop, make_store, sleeps):
    store = make_store("woocommerce", woo_shop.url)
    woo_shop.faults["rate_limit"] = 1

    summary = sync_store(store, sleep=sleeps.append)

    assert sleeps == [2.0]
    assert woo_shop.paths() == [WOO_ORDERS_PATH, WOO_ORDERS_PATH, REFUNDS_723]
    assert woo_shop.queries()[:2] == [LIST_QUERY, LIST_QUERY]
    assert summary.as_dict() == {"created": 2, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    assert row_counts() == BOTH_COUNTS


def test_malformed_records_are_reported_and_the_rest_of_the_page_stored(
    sandbox, make_store, woo_orders, woo_refunds, sleeps
):
    # copies of 727 (id, number, modified changed) made malformed on purpose, sorted
    # between 723 and 727 so they sit in the middle of the page
    bad_total = derive_woo(woo_orders[727], order_id=728, modified_gmt="2017-03-22T08:00:00")
    bad_total["total"] = "abc"
    no_currency = derive_woo(woo_orders[727], order_id=729, modified_gmt="2017-03-22T09:00:00")
    del no_currency["currency"]
    shop = sandbox(woo_orders=[woo_orders[727], woo_orders[723], bad_total, no_currency], woo_refunds=woo_refunds)
    store = make_store("woocommerce", shop.url)

    summary = sync_store(store, sleep=sleeps.append)

    assert shop.paths() == [WOO_ORDERS_PATH, REFUNDS_723]
    assert (summary.created, summary.updated, summary.skipped, summary.failed) == (2, 0, 0, 2)
    assert summary.failures == [
        RecordError("728", "WooCommerce order 728: 'abc' is not an amount of money."),
        RecordError("729", "WooCommerce order 729: required field 'currency' is missing"),
    ]
    assert [(o.external_id, o.total) for o in stored_orders(store)] == [
        ("723", Decimal("39.00")), ("727", Decimal("29.35"))]
    [run] = sync_runs(store)
    assert (run.status, run.created, run.failed) == ("completed", 2, 2)
    assert [f["record"] for f in run.failures] == ["728", "729"]


def test_resync_is_idempotent(woo_shop, make_store, sleeps):
    store = make_store("woocommerce", woo_shop.url)
    sync_store(store, sleep=sleeps.append)
    written = {o.external_id: (o.id, o.synced_at) for o in stored_orders(store)}

    again = sync_store(store, full=True, sleep=sleeps.append)

    assert again.as_dict() == {"created": 0, "updated": 0, "skipped": 2, "failed": 0, "failures": []}
    assert row_counts() == BOTH_COUNTS
    assert {o.external_id: (o.id, o.synced_at) for o in stored_orders(store)} == written


def test_incremental_sync_sends_modified_after_and_updates_only_the_changed_order(woo_shop, make_store, sleeps):
    store = make_store("woocommerce", woo_shop.url)
    sync_store(store, sleep=sleeps.append)
    assert store.synced_until == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    before = {o.external_id: o.synced_at for o in stored_orders(store)}

    # Order 723 gets a parcel later: the Shipment Tracking extension's order meta, and a
    # newer modification date (a real change to the served order).
    changed = next(o for o in woo_shop.catalogue.woo_orders if o["id"] == 723)
    changed["meta_data"].append({
        "id": 13200,
        "key": "_wc_shipment_tracking_items",
        "value": [{"tracking_provider": "Correios", "custom_tracking_provider": "", "custom_tracking_link": "",
                   "tracking_number": "RB123456785BR", "date_shipped": "1490227200",
                   "tracking_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90"}],
    })
    changed["date_modified_gmt"] = "2017-03-23T14:05:00"
    woo_shop.requests.clear()

    summary = sync_store(store, sleep=sleeps.append)

    # modified_after is exclusive, so the connector asks from one second before the mark
    assert woo_shop.queries()[0] == {**LIST_QUERY, "modified_after": "2017-03-22T19:28:07+00:00"}
    assert woo_shop.paths() == [WOO_ORDERS_PATH, REFUNDS_723]
    assert summary.as_dict() == {"created": 0, "updated": 1, "skipped": 1, "failed": 0, "failures": []}
    after = {o.external_id: o for o in stored_orders(store)}
    assert after["727"].synced_at == before["727"]
    assert after["723"].synced_at > before["723"]
    assert after["723"].updated_at == datetime(2017, 3, 23, 14, 5, tzinfo=UTC)
    assert [(s.external_id, s.carrier, s.tracking_number, s.status, s.shipped_at) for s in after["723"].shipments] == [
        ("a1b2c3d4e5f60718293a4b5c6d7e8f90", "Correios", "RB123456785BR", "shipped",
         datetime(2017, 3, 23, tzinfo=UTC))]
    assert row_counts() == {**BOTH_COUNTS, "shipments": 1}  # refunds not doubled
    assert store.synced_until == datetime(2017, 3, 23, 14, 5, tzinfo=UTC)


def test_wrong_consumer_secret_raises_auth_error_and_stores_nothing(woo_shop, make_store, sleeps):
    store = make_store("woocommerce", woo_shop.url, secret="ck_sandbox_4f1c2b:cs_wrong")

    with pytest.raises(MarketplaceAuthError, match=r"woocommerce refused the credentials \(HTTP 401\)"):
        sync_store(store, sleep=sleeps.append)

    assert len(woo_shop.requests) == 1
    assert sleeps == []
    assert row_counts() == dict.fromkeys(BOTH_COUNTS, 0)
    assert (store.synced_until, store.sync_cursor) == (None, None)
    assert [r.status for r in sync_runs(store)] == ["failed"]


def test_interrupted_sync_resumes_at_the_saved_page(woo_shop, make_store, sleeps):
    store = make_store("woocommerce", woo_shop.url)
    woo_shop.faults["fail_from"] = 3  # page 1 and 723's refunds answer, page 2 does not

    with pytest.raises(MarketplaceError, match="woocommerce answered HTTP 500"):
        sync_store(store, page_size=1, sleep=sleeps.append)

    assert [o.external_id for o in stored_orders(store)] == ["723"]
    assert store.sync_cursor == "2|"  # page 2, no modified_after
    assert sleeps == [1, 2, 4, 8, 16]

    woo_shop.faults["fail_from"] = None
    woo_shop.requests.clear()
    summary = sync_store(store, page_size=1, sleep=sleeps.append)

    assert woo_shop.queries() == [{**LIST_QUERY, "per_page": "1", "page": "2"}]
    assert summary.as_dict() == {"created": 1, "updated": 0, "skipped": 0, "failed": 0, "failures": []}
    assert row_counts() == BOTH_COUNTS
    assert store.sync_cursor is None
