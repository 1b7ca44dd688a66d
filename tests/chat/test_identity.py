"""Buyers signed in on the storefront: the store's HMAC of their id identifies them."""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import func, select

from chat.identity import buyer_hash
from chat.models import Conversation
from helpdesk.extensions import db
from helpdesk.models import Store

SECRET = "9f" * 32


@pytest.fixture
def store_id(order):
    store = db.session.scalar(select(Store).filter_by(name="PT shop"))
    store.identity_secret = SECRET
    ident = store.id
    db.session.commit()  # and no transaction left open: on SQLite it would block the server
    return ident


def start(live, **body):
    return requests.post(f"{live}/chat/api/conversations", json=body, timeout=10)


def conversations() -> int:
    try:
        return db.session.scalar(select(func.count()).select_from(Conversation))
    finally:
        db.session.rollback()


def test_a_verified_buyer_is_recognised_with_their_orders(live, store_id):
    answer = start(live, store=store_id, buyer_id="7", buyer_hash=buyer_hash(SECRET, "7"))
    assert answer.status_code == 201
    conversation = db.session.scalar(select(Conversation))
    assert (conversation.customer.name, conversation.buyer_email, conversation.buyer_name, conversation.store_id) == \
        ("Ana Sousa", "ana@example.pt", "Ana Sousa", store_id)
    db.session.rollback()
    with_order = start(live, store=str(store_id), buyer_id="7", buyer_hash=buyer_hash(SECRET, "7").upper(),
                       order_number="5001")
    assert with_order.status_code == 201


def test_forged_or_malformed_identities_are_refused_and_nothing_is_stored(live, store_id):
    good = buyer_hash(SECRET, "7")
    for body in (
        {"store": store_id, "buyer_id": "8", "buyer_hash": good},           # someone else's id with my hash
        {"store": store_id, "buyer_id": "7", "buyer_hash": buyer_hash("guess", "7")},
        {"store": store_id + 1, "buyer_id": "7", "buyer_hash": good},
        {"store": True, "buyer_id": "7", "buyer_hash": good},
        {"store": store_id, "buyer_id": 7, "buyer_hash": good},
        {"store": store_id, "buyer_id": "7" * 101, "buyer_hash": good},
        {"store": store_id, "buyer_id": "7", "buyer_hash": good + "0"},
        {"store": store_id, "buyer_id": "7", "buyer_hash": "é" * 64},
        {"store": "99999999999999999999", "buyer_id": "7", "buyer_hash": good},
    ):
        answer = start(live, email="ana@example.pt", **body)
        assert answer.status_code == 403, body
        assert answer.json()["error"] == {
            "code": "identity_rejected",
            "message": "We could not verify your account with the shop. Reload the page, or sign in again."}
    db.session.get(Store, store_id).identity_secret = None  # a store that never set a secret verifies nobody
    db.session.commit()
    assert start(live, store=store_id, buyer_id="7", buyer_hash=good).status_code == 403
    assert conversations() == 0


def test_a_verified_buyer_without_orders_yet_gives_an_email(live, store_id):
    signed = {"store": store_id, "buyer_id": "new-42", "buyer_hash": buyer_hash(SECRET, "new-42")}
    no_email = start(live, **signed)
    assert (no_email.status_code, no_email.json()["error"]["code"]) == (400, "invalid_email")
    assert start(live, email="new@example.com", **signed).status_code == 201
    someone_elses = start(live, email="new@example.com", order_number="5001", **signed)
    assert (someone_elses.status_code, someone_elses.json()["error"]["code"]) == (404, "not_identified")
    conversation = db.session.scalar(select(Conversation))
    assert (conversation.customer_id, conversation.store_id, conversation.buyer_email) == \
        (None, store_id, "new@example.com")


def test_the_cli_creates_and_rotates_the_store_secret(app, store_id):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["stores", "identity-secret", "PT shop"]).output.strip()
    assert first == SECRET
    db.session.get(Store, store_id).identity_secret = None
    db.session.commit()
    made = runner.invoke(args=["stores", "identity-secret", str(store_id)]).output.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", made) and made != SECRET
    assert runner.invoke(args=["stores", "identity-secret", "PT shop"]).output.strip() == made
    rotated = runner.invoke(args=["stores", "identity-secret", "PT shop", "--rotate"]).output.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", rotated) and rotated != made
