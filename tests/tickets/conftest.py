"""Fixtures for tickets: orders stored through the real sync path, and orders served by
the sandbox marketplace over real HTTP (synced into the helpdesk through the real
connectors), so refunds go through the connectors' real refund calls."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from helpdesk.extensions import db
from helpdesk.marketplace.records import CustomerRecord, LineRecord, OrderRecord, ShipmentRecord
from helpdesk.marketplace.sandbox import Catalogue, create_sandbox_app, shopify_order, woo_order
from helpdesk.marketplace.sync import apply_order, sync_store
from helpdesk.models import Order, Store
from tests.helpdesk.marketplace.support import SHOPIFY_ENV, SHOPIFY_TOKEN, WOO_ENV, WOO_KEY, WOO_SECRET, Sandbox

PLACED = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def order_record(number: str, *, currency: str = "EUR", lines=(("MUG", "Blue mug", 2, "12.50"),),
                 shipping: str = "0", delivered_at: datetime | None = None, shipped: bool = True,
                 email: str = "ana@example.pt", customer_id: str = "7", financial_status: str = "paid",
                 placed_at: datetime = PLACED) -> OrderRecord:
    """An order with ``lines`` ``(sku, title, quantity, unit price)``; total = lines +
    shipping; one shipment (delivered at ``delivered_at`` when given) unless ``shipped``
    is False."""
    records = tuple(
        LineRecord(f"{number}-{i}", sku, title, quantity, Decimal(price), Decimal(price) * quantity)
        for i, (sku, title, quantity, price) in enumerate(lines, 1)
    )
    subtotal = sum((line.line_total for line in records), Decimal(0))
    shipments = (ShipmentRecord(f"{number}-s", "DHL", f"JD0002{number}", None, "delivered" if delivered_at else "in_transit",
                                placed_at + timedelta(days=1), delivered_at),) if shipped else ()
    return OrderRecord(
        external_id=number, number=f"#{number}", currency=currency, subtotal=subtotal, shipping=Decimal(shipping),
        tax=Decimal(0), total=subtotal + Decimal(shipping), financial_status=financial_status,
        fulfillment_status="fulfilled" if shipped else "unfulfilled", placed_at=placed_at, updated_at=placed_at,
        customer=CustomerRecord(customer_id, "Ana Sousa", email, "PT"), lines=records, shipments=shipments,
    )


@pytest.fixture
def store(app):
    """A Shopify-kind store in Europe/Berlin with no marketplace behind it (rules tests)."""
    row = Store(kind="shopify", name="Berlin shop", base_url="https://berlin.example", default_currency="EUR",
                time_zone="Europe/Berlin")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def make_order(store):
    """``make_order(number, **order_record kwargs) -> Order`` stored with the sync's apply_order."""

    def make(number: str, *, into: Store | None = None, **kwargs) -> Order:
        target = into or store
        apply_order(target, order_record(number, **kwargs))
        db.session.commit()
        return db.session.query(Order).filter_by(store_id=target.id, external_id=number).one()

    return make


@pytest.fixture
def market(serve, monkeypatch, app):
    """``market(kind, record) -> (Sandbox, Store, Order)``: the sandbox serves ``record`` in
    ``kind``'s format (shopify or woocommerce) over HTTP; a store points at it and the
    order is pulled with the real sync."""

    def start(kind: str, record: OrderRecord, *, time_zone: str = "Europe/Berlin"):
        catalogue = Catalogue()
        if kind == "shopify":
            catalogue.shopify_orders.append(shopify_order(record))
        else:
            order, refunds = woo_order(record)
            catalogue.woo_orders.append(order)
            catalogue.woo_refunds[order["id"]] = refunds
        sandbox_app = create_sandbox_app(catalogue, shopify_token=SHOPIFY_TOKEN, woo_key=WOO_KEY, woo_secret=WOO_SECRET)
        sandbox = Sandbox(app=sandbox_app, url=serve(sandbox_app).url)
        env = SHOPIFY_ENV if kind == "shopify" else WOO_ENV
        monkeypatch.setenv(env, SHOPIFY_TOKEN if kind == "shopify" else f"{WOO_KEY}:{WOO_SECRET}")
        shop = Store(kind=kind, name=f"{kind} sandbox", base_url=sandbox.url, credentials_ref=f"env:{env}",
                     default_currency=record.currency, time_zone=time_zone)
        db.session.add(shop)
        db.session.commit()
        summary = sync_store(shop, sleep=lambda s: None)
        assert summary.failed == 0, summary.failures
        order = db.session.query(Order).filter_by(store_id=shop.id).one()
        return sandbox, shop, order

    return start


def identify(client, number="#1001", email="ana@example.pt"):
    """Identify the test client as the buyer of order ``number`` (the /help/ form)."""
    client.application.config["WTF_CSRF_ENABLED"] = False
    return client.post("/help/", data={"order_number": number, "email": email})


@pytest.fixture
def no_csrf(app):
    """Forms without CSRF tokens for the test (turned back on after)."""
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True
