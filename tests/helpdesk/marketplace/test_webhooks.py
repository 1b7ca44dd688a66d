"""``POST /webhooks/<kind>/<store_id>`` through the Flask test client.

Bodies are the real sample payloads. Where a webhook needs the marketplace (a refund of
an order not stored yet, WooCommerce refunds), the sandbox serves it over real HTTP.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpdesk.marketplace.support import WEBHOOK_SECRET, row_counts, sign, stored_order

UTC = timezone.utc
ORDER_ID = "450789469"
EMPTY = {"orders": 0, "lines": 0, "shipments": 0, "refunds": 0, "refund_lines": 0, "customers": 0, "accounts": 0}


def inner_object_bytes(path: Path, key: str) -> bytes:
    """The bytes of the object under ``key`` in a ``{"key": {...}}`` sample file, exactly as
    the file holds them (Shopify's indentation, blank lines inside empty lists)."""
    raw = path.read_bytes()
    start = raw.index(b"{", raw.index(f'"{key}"'.encode()))
    end = raw.rindex(b"}", 0, raw.rindex(b"}")) + 1
    body = raw[start:end]
    assert json.loads(body) == json.loads(raw)[key]
    return body


@pytest.fixture
def order_bytes(sample_data) -> bytes:
    """Shopify's sample order #1001, as an orders/create webhook body."""
    return inner_object_bytes(sample_data / "shopify" / "python-api_order.json", "order")


@pytest.fixture
def refund_bytes(sample_data) -> bytes:
    """Shopify's sample refund 509562969, as a refunds/create webhook body."""
    return inner_object_bytes(sample_data / "shopify" / "python-api_refund.json", "refund")


def shopify_post(client, store_id: int, topic: str, raw: bytes, *, secret: str = WEBHOOK_SECRET,
                 signature: str | None = None, kind: str = "shopify"):
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature or sign(secret, raw)}
    return client.post(f"/webhooks/{kind}/{store_id}", data=raw, headers=headers, content_type="application/json")


def woo_post(client, store_id: int, topic: str, raw: bytes, *, signature: str | None = None):
    headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature or sign(WEBHOOK_SECRET, raw)}
    return client.post(f"/webhooks/woocommerce/{store_id}", data=raw, headers=headers, content_type="application/json")


@pytest.fixture
def shopify_store(sandbox, make_store, shopify_order_refunded):
    """A Shopify store whose API is the sandbox serving #1001 with its refund."""
    shop = sandbox(shopify_orders=[shopify_order_refunded])
    return shop, make_store("shopify", shop.url)


@pytest.fixture
def woo_store(sandbox, make_store, woo_orders, woo_refunds):
    shop = sandbox(woo_orders=[woo_orders[727], woo_orders[723]], woo_refunds=woo_refunds)
    return shop, make_store("woocommerce", shop.url)


# --------------------------------------------------------------------------- Shopify


def test_signed_orders_create_stores_the_order(client, shopify_store, order_bytes):
    shop, store = shopify_store

    response = shopify_post(client, store.id, "orders/create", order_bytes)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "created", "order": ORDER_ID}
    assert shop.requests == []  # the body carries the whole order
    order = stored_order(store, ORDER_ID)
    assert (order.number, order.total, order.tax, order.subtotal) == (
        "#1001", Decimal("409.94"), Decimal("11.94"), Decimal("398.00"))
    assert [l.sku for l in order.lines] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert [s.tracking_number for s in order.shipments] == ["1Z2345"]
    assert (order.customer.name, order.customer.email, order.customer.country) == (
        "Bob Norman", "bob.norman@hostmail.com", "US")
    assert row_counts() == {**EMPTY, "orders": 1, "lines": 3, "shipments": 1, "customers": 1, "accounts": 1}

    # the marketplace retries deliveries: the same webhook again changes nothing
    again = shopify_post(client, store.id, "orders/create", order_bytes)
    assert again.get_json() == {"status": "skipped", "order": ORDER_ID}
    assert row_counts()["orders"] == 1


BAD_SIGNATURE = {"code": "bad_signature", "message": "The webhook signature does not match this store's secret."}


@pytest.mark.parametrize("how, error", [
    ("other secret", BAD_SIGNATURE),
    ("body changed after signing", BAD_SIGNATURE),
    ("not base64 at all", BAD_SIGNATURE),
    ("no signature header", {"code": "missing_signature", "message": "The X-Shopify-Hmac-Sha256 header is missing."}),
])
def test_bad_signature_is_refused_with_401_and_nothing_stored(client, shopify_store, order_bytes, how, error):
    _, store = shopify_store
    if how == "other secret":
        response = shopify_post(client, store.id, "orders/create", order_bytes, secret="not-the-store-secret")
    elif how == "body changed after signing":
        tampered = order_bytes.replace(b'"409.94"', b'"0.01"', 1)
        assert tampered != order_bytes
        response = shopify_post(client, store.id, "orders/create", tampered,
                                signature=sign(WEBHOOK_SECRET, order_bytes))
    elif how == "not base64 at all":
        response = shopify_post(client, store.id, "orders/create", order_bytes, signature="ü\u202e<script>")
    else:
        response = client.post(f"/webhooks/shopify/{store.id}", data=order_bytes, content_type="application/json",
                               headers={"X-Shopify-Topic": "orders/create"})

    assert response.status_code == 401
    assert response.get_json() == {"error": error}
    assert row_counts() == EMPTY


def test_signature_is_checked_over_the_raw_bytes_not_a_reserialisation(client, shopify_store, order_bytes):
    _, store = shopify_store
    # The sample file's own bytes differ from any re-serialisation of the same JSON
    # (2-space indent, "[\n\n        ]" empty lists), so their HMACs differ.
    reserialised = [json.dumps(json.loads(order_bytes)).encode(),
                    json.dumps(json.loads(order_bytes), separators=(",", ":")).encode()]
    raw_signature = sign(WEBHOOK_SECRET, order_bytes)
    for body in reserialised:
        assert body != order_bytes
        assert sign(WEBHOOK_SECRET, body) != raw_signature

    refused = shopify_post(client, store.id, "orders/create", order_bytes,
                           signature=sign(WEBHOOK_SECRET, reserialised[0]))
    accepted = shopify_post(client, store.id, "orders/create", order_bytes, signature=raw_signature)

    assert refused.status_code == 401
    assert accepted.status_code == 200
    assert accepted.get_json() == {"status": "created", "order": ORDER_ID}


def test_unknown_store_is_404_with_a_message_and_nothing_stored(client, shopify_store, order_bytes):
    _, store = shopify_store
    missing = store.id + 1000

    response = shopify_post(client, missing, "orders/create", order_bytes)

    assert response.status_code == 404
    assert response.get_json() == {"error": {
        "code": "unknown_store", "message": f"No shopify store with id {missing} is set up in this helpdesk."}}
    assert row_counts() == EMPTY


def test_kind_not_matching_the_store_is_404(client, shopify_store, order_bytes):
    _, store = shopify_store

    response = shopify_post(client, store.id, "orders/create", order_bytes, kind="woocommerce")

    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "unknown_store", "message": f"No woocommerce store with id {store.id} is set up in this helpdesk."}
    assert row_counts() == EMPTY


@pytest.mark.parametrize("body, message", [
    (b'{"id": 450789469, "currency": "USD", ', "The webhook body is not valid JSON."),
    (b"\xff\xfe not utf-8", "The webhook body is not valid JSON."),
    (b'[{"id": 450789469}]', "The webhook body must be a JSON object."),
])
def test_unreadable_body_with_a_valid_signature_is_400(client, shopify_store, body, message):
    _, store = shopify_store

    response = shopify_post(client, store.id, "orders/create", body)

    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": "bad_json", "message": message}}
    assert row_counts() == EMPTY


def test_order_body_missing_a_required_field_is_422(client, shopify_store, shopify_order):
    _, store = shopify_store
    del shopify_order["total_price"]
    raw = json.dumps(shopify_order).encode()

    response = shopify_post(client, store.id, "orders/create", raw)

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "malformed_payload"
    assert "'total_price'" in response.get_json()["error"]["message"]
    assert row_counts() == EMPTY


def test_refunds_create_adds_the_refund_to_a_stored_order(client, shopify_store, order_bytes, refund_bytes):
    shop, store = shopify_store
    assert shopify_post(client, store.id, "orders/create", order_bytes).status_code == 200
    assert stored_order(store, ORDER_ID).refunds == []

    response = shopify_post(client, store.id, "refunds/create", refund_bytes)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "updated", "order": ORDER_ID}
    assert shop.requests == []  # the order was already stored: nothing fetched
    [refund] = stored_order(store, ORDER_ID).refunds
    assert (refund.external_id, refund.amount, refund.currency, refund.reason, refund.created_at) == (
        "509562969", Decimal("209.00"), "USD", "it broke during shipping", datetime(2016, 6, 20, 17, 35, 6, tzinfo=UTC))
    assert sorted((rl.order_line.external_id, rl.quantity) for rl in refund.lines) == [
        ("466157049", 1), ("703073504", 1)]

    # a duplicate delivery updates the same refund in place
    assert shopify_post(client, store.id, "refunds/create", refund_bytes).status_code == 200
    assert row_counts() == {**EMPTY, "orders": 1, "lines": 3, "shipments": 1, "refunds": 1, "refund_lines": 2,
                            "customers": 1, "accounts": 1}


def test_refunds_create_for_an_order_not_stored_fetches_the_order(client, shopify_store, refund_bytes):
    shop, store = shopify_store

    response = shopify_post(client, store.id, "refunds/create", refund_bytes)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "created", "order": ORDER_ID}
    assert shop.paths() == [f"/admin/api/2025-07/orders/{ORDER_ID}.json"]
    order = stored_order(store, ORDER_ID)
    assert (order.number, order.total) == ("#1001", Decimal("409.94"))
    assert [(r.external_id, r.amount) for r in order.refunds] == [("509562969", Decimal("209.00"))]
    assert row_counts() == {**EMPTY, "orders": 1, "lines": 3, "shipments": 1, "refunds": 1, "refund_lines": 2,
                            "customers": 1, "accounts": 1}


def test_a_refund_the_fetched_order_does_not_list_yet_is_kept(client, sandbox, make_store, shopify_order,
                                                               refund_bytes):
    shop = sandbox(shopify_orders=[shopify_order])  # the marketplace's copy has no refund yet
    store = make_store("shopify", shop.url)

    response = shopify_post(client, store.id, "refunds/create", refund_bytes)

    assert response.status_code == 200, response.get_json()
    order = stored_order(store, ORDER_ID)
    assert [(r.external_id, r.amount) for r in order.refunds] == [("509562969", Decimal("209.00"))]
    assert sorted((rl.order_line.external_id, rl.quantity) for rl in order.refunds[0].lines) == [
        ("466157049", 1), ("703073504", 1)]


def test_refund_of_an_order_the_marketplace_does_not_know_is_502(client, sandbox, make_store, refund_bytes):
    shop = sandbox(shopify_orders=[])
    store = make_store("shopify", shop.url)

    response = shopify_post(client, store.id, "refunds/create", refund_bytes)

    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "marketplace_error"
    assert error["message"].startswith("shopify answered HTTP 404")
    assert shop.paths() == [f"/admin/api/2025-07/orders/{ORDER_ID}.json"]
    assert row_counts() == EMPTY


# --------------------------------------------------------------------------- WooCommerce


def test_woocommerce_signed_order_updated_stores_the_order(client, woo_store, woo_orders):
    shop, store = woo_store
    raw = json.dumps(woo_orders[727]).encode()

    response = woo_post(client, store.id, "order.updated", raw)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "created", "order": "727"}
    assert shop.requests == []  # 727 lists no refunds
    order = stored_order(store, "727")
    assert (order.total, order.tax, order.shipping) == (Decimal("29.35"), Decimal("1.35"), Decimal("10.00"))
    assert [l.title for l in order.lines] == ["Woo Single #1", "Ship Your Idea \u2013 Color: Black, Size: M Test"]
    assert (order.customer.email, order.customer.accounts) == ("john.doe@example.com", [])


def test_woocommerce_raw_body_with_escapes_and_other_key_order_is_verified_on_its_bytes(client, woo_store, woo_orders):
    shop, store = woo_store
    # The real order 723, sent the way another JSON encoder might: keys in reverse order,
    # extra whitespace, non-ASCII written as \u escapes ("Jo\u00e3o").
    order = dict(reversed(list(woo_orders[723].items())))
    raw = json.dumps(order, indent=3, separators=(" ,", " :  "), ensure_ascii=True).encode("ascii")
    assert b'"first_name" :  "Jo\\u00e3o"' in raw
    reserialised = json.dumps(json.loads(raw)).encode()
    assert reserialised != raw
    assert sign(WEBHOOK_SECRET, reserialised) != sign(WEBHOOK_SECRET, raw)
    assert sign(WEBHOOK_SECRET, json.dumps(woo_orders[723], ensure_ascii=False).encode()) != sign(WEBHOOK_SECRET, raw)

    refused = woo_post(client, store.id, "order.updated", raw, signature=sign(WEBHOOK_SECRET, reserialised))
    assert refused.status_code == 401
    assert shop.requests == []

    response = woo_post(client, store.id, "order.updated", raw)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "created", "order": "723"}
    assert shop.paths() == ["/wp-json/wc/v3/orders/723/refunds"]
    order = stored_order(store, "723")
    assert (order.customer.name, order.shipping_name) == ("João Silva", "João Silva")
    assert [(r.external_id, r.amount) for r in order.refunds] == [("724", Decimal("9.00")), ("726", Decimal("10.00"))]
    assert order.total == Decimal("39.00")


def test_woocommerce_ping_on_webhook_creation_answers_200(client, woo_store):
    _, store = woo_store
    # WooCommerce's WC_Webhook::deliver_ping() posts only "webhook_id=<id>", with no
    # signature and no topic header, and refuses to activate the webhook unless it gets 200.
    response = client.post(f"/webhooks/woocommerce/{store.id}", data=b"webhook_id=12",
                           content_type="application/x-www-form-urlencoded",
                           headers={"User-Agent": "WooCommerce/9.0.0 Hookshot (WordPress/6.5)"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ping"}
    assert row_counts() == EMPTY


def test_woocommerce_signed_ping_answers_200(client, woo_store):
    _, store = woo_store
    raw = b"webhook_id=12"

    response = client.post(f"/webhooks/woocommerce/{store.id}", data=raw,
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-WC-Webhook-Signature": sign(WEBHOOK_SECRET, raw)})

    assert response.status_code == 200
    assert response.get_json() == {"status": "ping"}
    assert row_counts() == EMPTY


def test_woocommerce_bad_signature_is_401(client, woo_store, woo_orders):
    _, store = woo_store
    raw = json.dumps(woo_orders[727]).encode()

    response = woo_post(client, store.id, "order.updated", raw, signature=sign("other-secret", raw))

    assert response.status_code == 401
    assert row_counts() == EMPTY


@pytest.mark.parametrize("body, headers", [
    (b"webhook_id=12&order=727", {}),
    (b"webhook_id=12", {"X-WC-Webhook-Topic": "order.updated"}),
])
def test_only_an_exact_unsigned_ping_skips_the_signature(client, woo_store, body, headers):
    _, store = woo_store

    response = client.post(f"/webhooks/woocommerce/{store.id}", data=body, headers=headers,
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "missing_signature"  # these must be signed


def test_refund_naming_a_line_not_on_the_order_is_422_and_changes_nothing(
    client, shopify_store, order_bytes, shopify_refund
):
    _, store = shopify_store
    assert shopify_post(client, store.id, "orders/create", order_bytes).status_code == 200
    counts = row_counts()
    shopify_refund["refund_line_items"][0]["line_item_id"] = 999999999  # not a line of #1001

    response = shopify_post(client, store.id, "refunds/create", json.dumps(shopify_refund).encode())

    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "rejected",
        "message": "refund 509562969 names line 999999999, which is not on order #1001",
    }
    assert row_counts() == counts
    assert stored_order(store, ORDER_ID).refunds == []


def test_store_without_webhook_secret_is_409(client, sandbox, make_store, order_bytes):
    shop = sandbox()
    store = make_store("shopify", shop.url, webhook_secret=None)

    response = shopify_post(client, store.id, "orders/create", order_bytes)

    assert response.status_code == 409
    assert response.get_json()["error"] == {
        "code": "no_webhook_secret", "message": "Store shopify test shop has no webhook secret configured."}
    assert row_counts() == EMPTY


# --------------------------------------------------------------------------- hostile but signed bodies


def shopify_variant(order: dict, **changes) -> bytes:
    body = {**order, **changes}
    return json.dumps(body).encode()


@pytest.mark.parametrize("change, status, fragment", [
    ({"total_price": "1e400"}, 422, "'1e400' is not an amount of money"),
    ({"total_price": "1" + "0" * 30}, 422, "too large an amount"),
    ({"line_items": [{"id": 1, "title": "x", "price": "1.00", "quantity": 10**30}]}, 422, "is not a whole number from 0"),
    ({"created_at": None}, 422, "the order date is missing"),
    ({"currency": "EURO"}, 422, "Unknown currency code 'EURO'"),
])
def test_signed_but_impossible_orders_are_422_and_change_nothing(client, shopify_store, shopify_order, change,
                                                                 status, fragment):
    _, store = shopify_store
    response = shopify_post(client, store.id, "orders/create", shopify_variant(shopify_order, **change))
    assert response.status_code == status
    assert fragment in response.get_json()["error"]["message"]
    assert row_counts() == EMPTY


def test_deeply_nested_json_is_400(client, shopify_store):
    _, store = shopify_store
    response = shopify_post(client, store.id, "orders/create", b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"


def test_a_store_id_beyond_any_database_id_is_404(client):
    response = client.post("/webhooks/shopify/99999999999999999999", data=b"{}")
    assert response.status_code == 404


def test_an_older_copy_of_an_order_does_not_overwrite_a_newer_one(client, shopify_store, shopify_order):
    _, store = shopify_store
    newer = shopify_variant(shopify_order, updated_at="2024-05-02T10:00:00+00:00", financial_status="paid")
    older = shopify_variant(shopify_order, updated_at="2024-05-01T10:00:00+00:00", financial_status="voided")
    assert shopify_post(client, store.id, "orders/updated", newer).get_json()["status"] == "created"
    assert shopify_post(client, store.id, "orders/updated", older).get_json()["status"] == "skipped"
    assert stored_order(store, ORDER_ID).financial_status == "paid"


@pytest.mark.parametrize("amount, fragment", [
    ("500.00", "refunds of order #1001 would come to 500.00 USD, more than its total 409.94"),
    ("-3.00", "has a negative amount -3.00"),
])
def test_refunds_beyond_the_total_or_negative_are_refused(client, shopify_store, order_bytes, shopify_refund,
                                                          amount, fragment):
    _, store = shopify_store
    assert shopify_post(client, store.id, "orders/create", order_bytes).status_code == 200
    refund = {**shopify_refund, "id": 777, "refund_line_items": []}
    refund["transactions"] = [{**refund["transactions"][0], "amount": amount}]
    before = row_counts()
    response = shopify_post(client, store.id, "refunds/create", json.dumps(refund).encode())
    assert response.status_code == 422
    assert fragment in response.get_json()["error"]["message"]
    assert row_counts() == before


def test_discounts_are_kept(client, shopify_store, shopify_order, woo_store, woo_orders):
    _, store = shopify_store
    shopify_post(client, store.id, "orders/create", shopify_variant(shopify_order, total_discounts="10.00"))
    assert stored_order(store, ORDER_ID).discount == Decimal("10.00")
    _, woo = woo_store
    raw = json.dumps({**woo_orders[727], "discount_total": "1.50"}).encode()
    assert woo_post(client, woo.id, "order.updated", raw).status_code == 200
    assert stored_order(woo, "727").discount == Decimal("1.50")
