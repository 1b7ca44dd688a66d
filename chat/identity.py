"""Buyers signed in on the seller's storefront: identity verification by HMAC, the way
Intercom's ``user_hash`` and Chatwoot's ``identifier_hash`` work.

The store's server knows the buyer's id (its own customer id, the one the marketplace
connector syncs as ``CustomerAccount.external_id``) and computes
``hex(HMAC-SHA256(identity_secret, buyer_id))`` with the store's identity secret
(``flask stores identity-secret STORE``). The widget passes id and hash; the helpdesk
recomputes the hash, so a buyer cannot claim someone else's id. The secret never
reaches a browser.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from chat.service import ChatError
from helpdesk.extensions import db
from helpdesk.models import CustomerAccount, Store

MAX_BUYER_ID = 100


class IdentityRejected(ChatError):
    code = "identity_rejected"


def new_identity_secret() -> str:
    """A fresh secret for a store (256 bits, hex)."""
    return secrets.token_hex(32)


def buyer_hash(secret: str, buyer_id: str) -> str:
    """``hex(HMAC-SHA256(secret, buyer_id))``: what the store's server computes."""
    return hmac.new(secret.encode("utf-8"), buyer_id.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_buyer(store_id: object, buyer_id: object, given_hash: object) -> tuple[Store, CustomerAccount | None]:
    """Check a storefront identity.

    Args:
        store_id: the helpdesk's id of the store (an int, or its decimal text).
        buyer_id: the buyer's id on that store (1–100 characters).
        given_hash: the hex HMAC the store computed (compared in constant time).

    Returns:
        The store, and the buyer's account there when orders of theirs were synced
        (``None`` for a buyer who has not ordered yet: still verified, no orders to show).

    Raises:
        IdentityRejected: unknown store, store without a secret, malformed values or a
            hash that does not match.
    """
    refused = IdentityRejected("We could not verify your account with the shop. Reload the page, or sign in again.")
    if isinstance(store_id, str) and store_id.isdigit() and len(store_id) < 10:
        store_id = int(store_id)
    if (isinstance(store_id, bool) or not isinstance(store_id, int) or not isinstance(buyer_id, str)
            or not 0 < len(buyer_id) <= MAX_BUYER_ID or not isinstance(given_hash, str) or len(given_hash) != 64):
        raise refused
    store = db.session.get(Store, store_id) if 0 < store_id < 2**31 else None
    if store is None or not store.identity_secret:
        raise refused
    # As bytes: compare_digest refuses non-ASCII text (a TypeError, not a mismatch).
    if not hmac.compare_digest(buyer_hash(store.identity_secret, buyer_id).encode(), given_hash.lower().encode()):
        raise refused
    account = db.session.scalar(select(CustomerAccount).filter_by(store_id=store.id, external_id=buyer_id))
    return store, account
