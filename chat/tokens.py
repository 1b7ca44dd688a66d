"""Buyer chat tokens: a signed, expiring proof that the holder started a conversation.

The widget keeps the token (in its own origin's storage) and presents it when it opens a
Socket.IO connection; it names exactly one conversation, so whatever ids a buyer sends
they can only reach their own.
"""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

TOKEN_MAX_AGE = 90 * 24 * 3600  # seconds: a buyer returning within 90 days sees the history
SALT = "chat-buyer-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_buyer_token(public_id: str) -> str:
    """A token for the conversation ``public_id``."""
    return _serializer().dumps({"conversation": public_id})


def read_buyer_token(token: object) -> str | None:
    """The conversation public id in a valid, unexpired token; ``None`` otherwise."""
    if not isinstance(token, str) or len(token) > 512:
        return None
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except BadSignature:
        return None
    return data.get("conversation") if isinstance(data, dict) else None
