"""``POST /webhooks/<kind>/<store_id>``: order and refund webhooks from marketplaces.

The signature is checked on the raw body before anything is parsed (only WooCommerce's
unsigned ``webhook_id=N`` ping, which changes nothing, is answered without); a bad signature,
an unknown store or an unreadable body answers 4xx and changes nothing. Applying a
webhook is idempotent (upsert), so the marketplace's retries and duplicates are harmless.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.errors import describe_error, error_response
from helpdesk.extensions import db
from helpdesk.marketplace.base import MalformedPayload, MarketplaceError, connector_class
from helpdesk.marketplace.records import OrderRecord
from helpdesk.marketplace.sync import RecordRejected, apply_order, apply_refund, make_connector
from helpdesk.models import Store

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("/<kind>/<id:store_id>")
def receive(kind: str, store_id: int):
    """Verify, parse and apply one webhook; answer ``{"status", "order"}``."""
    store = db.session.get(Store, store_id)
    if store is None or store.kind != kind:
        return error_response(404, "unknown_store", f"No {kind} store with id {store_id} is set up in this helpdesk.")
    if not store.webhook_secret:
        return error_response(409, "no_webhook_secret", f"Store {store.name} has no webhook secret configured.")
    cls = connector_class(kind)
    raw = request.get_data(cache=True)
    topic = request.headers.get(cls.topic_header, "")
    if not topic and re.fullmatch(rb"webhook_id=\d+", raw):
        # WooCommerce's delivery test when a webhook is created: sent unsigned, and the
        # webhook is not activated unless it gets a 200. It changes nothing here.
        return jsonify(status="ping"), 200
    if not request.headers.get(cls.signature_header):
        return error_response(401, "missing_signature", f"The {cls.signature_header} header is missing.")
    if not cls.verify_webhook(store.webhook_secret, raw, request.headers):
        return error_response(401, "bad_signature", "The webhook signature does not match this store's secret.")
    try:
        payload = json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return error_response(400, "bad_json", "The webhook body is not valid JSON.")
    if not isinstance(payload, dict):
        return error_response(400, "bad_json", "The webhook body must be a JSON object.")
    try:
        connector = make_connector(store)
        order_id, record = connector.parse_webhook(topic, payload)
        if isinstance(record, OrderRecord):
            outcome = apply_order(store, record)
        elif apply_refund(store, order_id, record) is not None:
            outcome = "updated"
        else:
            # The order is not stored yet: fetch it, then apply the refund in hand too, in
            # case the marketplace's copy of the order does not list it yet.
            outcome = apply_order(store, connector.fetch_order(order_id))
            apply_refund(store, order_id, record)
        db.session.flush()
        db.session.commit()
    except MalformedPayload as exc:
        db.session.rollback()
        return error_response(422, "malformed_payload", str(exc))
    except (RecordRejected, SQLAlchemyError, ValueError) as exc:
        db.session.rollback()
        return error_response(422, "rejected", describe_error(exc))
    except MarketplaceError as exc:
        db.session.rollback()
        return error_response(502, "marketplace_error", str(exc))
    return jsonify(status=outcome, order=order_id), 200
