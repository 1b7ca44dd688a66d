"""Helpers shared by the marketplace tests: constants and plain functions. The fixtures
that use them are in ``conftest.py``.

Derived orders: where a test needs more orders than the real samples hold, it copies a
real payload with :func:`derive_shopify` / :func:`derive_woo`, which change only the
order's identity (id, name/number) and its update time, nothing else.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.marketplace.sandbox import Catalogue
from helpdesk.models import Customer, CustomerAccount, Order, OrderLine, Refund, RefundLine, Shipment, Store, SyncRun

SHOPIFY_TOKEN = "shpat_sandbox_0123456789abcdef"
WOO_KEY = "ck_sandbox_4f1c2b"
WOO_SECRET = "cs_sandbox_9e8d7c"
SHOPIFY_ENV = "TEST_SHOPIFY_ACCESS_TOKEN"
WOO_ENV = "TEST_WOO_CREDENTIALS"
WEBHOOK_SECRET = "whsec_helpdesk_test_secret"
SHOPIFY_ORDERS_PATH = "/admin/api/2025-07/orders.json"
WOO_ORDERS_PATH = "/wp-json/wc/v3/orders"


def derive_shopify(order: dict, *, order_id: int, number: int, updated_at: str) -> dict:
    """A copy of a real Shopify order with only ``id``, ``name``/``order_number`` and
    ``updated_at`` changed."""
    derived = copy.deepcopy(order)
    derived["id"] = order_id
    derived["name"] = f"#{number}"
    derived["order_number"] = number
    derived["updated_at"] = updated_at
    return derived


def derive_woo(order: dict, *, order_id: int, modified_gmt: str) -> dict:
    """A copy of a real WooCommerce order with only ``id``, ``number`` and its
    modification date (``date_modified_gmt`` and its site-local twin) changed."""
    derived = copy.deepcopy(order)
    derived["id"] = order_id
    derived["number"] = str(order_id)
    derived["date_modified_gmt"] = modified_gmt
    derived["date_modified"] = modified_gmt
    return derived


@dataclass
class Sandbox:
    """A running sandbox marketplace: its Flask app, URL, request log and fault switches."""

    app: Flask
    url: str

    @property
    def catalogue(self) -> Catalogue:
        return self.app.config["CATALOGUE"]

    @property
    def faults(self) -> dict:
        return self.app.config["FAULTS"]

    @property
    def requests(self) -> list[str]:
        """Every request the sandbox received, as logged: ``path?query`` (percent-encoded)."""
        return self.app.config["REQUESTS"]

    def paths(self) -> list[str]:
        return [urlsplit(r).path for r in self.requests]

    def queries(self) -> list[dict[str, str]]:
        """Each request's query string decoded to ``{name: value}``."""
        out = []
        for logged in self.requests:
            parsed = parse_qs(urlsplit(logged).query, keep_blank_values=True)
            assert all(len(v) == 1 for v in parsed.values()), logged
            out.append({k: v[0] for k, v in parsed.items()})
        return out


COUNTED = {
    "orders": Order,
    "lines": OrderLine,
    "shipments": Shipment,
    "refunds": Refund,
    "refund_lines": RefundLine,
    "customers": Customer,
    "accounts": CustomerAccount,
}


def row_counts() -> dict[str, int]:
    """Rows in each order-related table, counted in the database."""
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def stored_orders(store: Store) -> list[Order]:
    """The store's orders as the database holds them now, by external id."""
    db.session.expire_all()
    return list(db.session.scalars(select(Order).filter_by(store_id=store.id).order_by(Order.external_id)))


def stored_order(store: Store, external_id: str) -> Order | None:
    db.session.expire_all()
    return db.session.scalar(select(Order).filter_by(store_id=store.id, external_id=external_id))


def sync_runs(store: Store) -> list[SyncRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(SyncRun).filter_by(store_id=store.id).order_by(SyncRun.id)))


def sign(secret: str, raw: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw)): how Shopify and WooCommerce sign webhook bodies."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
