"""Fixtures for the marketplace connector and webhook tests.

The marketplace is the project's own sandbox (:func:`create_sandbox_app`) served over
real HTTP by the ``serve`` fixture; it serves the real public sample payloads from
``../shared/data/shopify/`` and ``../shared/data/woocommerce/`` (fresh deep copies per
test, so a test may change what it serves). Helpers are in ``support.py``.
"""
from __future__ import annotations

import copy
import json

import pytest

from helpdesk.extensions import db
from helpdesk.marketplace.sandbox import Catalogue, create_sandbox_app
from helpdesk.models import Store
from tests.helpdesk.marketplace.support import (
    SHOPIFY_ENV,
    SHOPIFY_TOKEN,
    WEBHOOK_SECRET,
    WOO_ENV,
    WOO_KEY,
    WOO_SECRET,
    Sandbox,
)


@pytest.fixture(scope="session")
def _shopify_files(sample_data):
    folder = sample_data / "shopify"
    order = json.loads((folder / "python-api_order.json").read_text(encoding="utf-8"))["order"]
    refund = json.loads((folder / "python-api_refund.json").read_text(encoding="utf-8"))["refund"]
    return order, refund


@pytest.fixture
def shopify_order(_shopify_files) -> dict:
    """Shopify's sample order #1001 (id 450789469) as ``python-api_order.json`` holds it
    (without refunds)."""
    return copy.deepcopy(_shopify_files[0])


@pytest.fixture
def shopify_refund(_shopify_files) -> dict:
    """Shopify's sample refund 509562969 of order 450789469 (``python-api_refund.json``)."""
    return copy.deepcopy(_shopify_files[1])


@pytest.fixture
def shopify_order_refunded(_shopify_files) -> dict:
    """Order #1001 with its sample refund attached, as Shopify's Order resource lists its
    refunds (a copy of its own, independent of ``shopify_order``)."""
    order, refund = copy.deepcopy(_shopify_files)
    order["refunds"] = [refund]
    return order


@pytest.fixture(scope="session")
def _woo_files(sample_data):
    folder = sample_data / "woocommerce"
    orders = json.loads((folder / "wc-v3-orders-list.json").read_text(encoding="utf-8"))
    refunds: dict[int, list[dict]] = {}
    for refund in json.loads((folder / "wc-v3-order-refunds-list.json").read_text(encoding="utf-8")):
        # a refund names its order only through its "up" link: .../wc/v3/orders/723
        order_id = int(refund["_links"]["up"][0]["href"].rsplit("/", 1)[1])
        refunds.setdefault(order_id, []).append(refund)
    return orders, refunds


@pytest.fixture
def woo_orders(_woo_files) -> dict[int, dict]:
    """WooCommerce's sample orders by id: 727 (guest) and 723 (customer 26, refunded twice)."""
    return {order["id"]: order for order in copy.deepcopy(_woo_files[0])}


@pytest.fixture
def woo_refunds(_woo_files) -> dict[int, list[dict]]:
    """The sample refunds by order id: ``{723: [refund 726, refund 724]}``."""
    return copy.deepcopy(_woo_files[1])


@pytest.fixture
def sandbox(serve):
    """``sandbox(shopify_orders=[...], woo_orders=[...], woo_refunds={...}) -> Sandbox``,
    served over HTTP on a free local port."""

    def start(*, shopify_orders=(), woo_orders=(), woo_refunds=None) -> Sandbox:
        catalogue = Catalogue(
            shopify_orders=list(shopify_orders), woo_orders=list(woo_orders), woo_refunds=dict(woo_refunds or {})
        )
        app = create_sandbox_app(catalogue, shopify_token=SHOPIFY_TOKEN, woo_key=WOO_KEY, woo_secret=WOO_SECRET)
        return Sandbox(app=app, url=serve(app).url)

    return start


@pytest.fixture
def make_store(app, monkeypatch):
    """``make_store(kind, base_url, secret=None, webhook_secret=...) -> Store``.

    The API secret is put in the environment and the store points at it with an
    ``env:NAME`` credentials reference; by default it is the sandbox's valid secret.
    """

    def make(kind: str, base_url: str | None, *, secret: str | None = None, webhook_secret=WEBHOOK_SECRET,
             name: str | None = None) -> Store:
        env = SHOPIFY_ENV if kind == "shopify" else WOO_ENV
        if secret is None:
            secret = SHOPIFY_TOKEN if kind == "shopify" else f"{WOO_KEY}:{WOO_SECRET}"
        monkeypatch.setenv(env, secret)
        store = Store(kind=kind, name=name or f"{kind} test shop", base_url=base_url, credentials_ref=f"env:{env}",
                      default_currency="USD", webhook_secret=webhook_secret)
        db.session.add(store)
        db.session.commit()
        return store

    return make


@pytest.fixture
def sleeps() -> list[float]:
    """Recorder for the connectors' ``sleep=``: pass ``sleep=sleeps.append``."""
    return []
