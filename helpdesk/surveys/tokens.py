"""Survey links: a token signed for this one purpose, naming one survey.

The token is ``[survey id, nonce]`` signed with the app's ``SECRET_KEY`` and the salt
:data:`SALT` (itsdangerous), so it cannot be forged or altered, and a token made for
another purpose (a chat token) is not a survey token. The nonce is 256 random bits kept on
the survey row and compared in constant time: a token stays tied to its row, and the same
link can be written again in the reminder without storing the token. Expiry and locking
are read from the row (see :mod:`helpdesk.surveys.service`).
"""
from __future__ import annotations

import hmac
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "csat-survey-link"
MAX_TOKEN_LENGTH = 512


def new_nonce() -> str:
    """A fresh nonce for a survey row (URL-safe text, 256 bits)."""
    return secrets.token_urlsafe(32)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(survey_id: int, nonce: str) -> str:
    """The link token of survey ``survey_id`` with ``nonce``."""
    return _serializer().dumps([survey_id, nonce])


def read(token: object) -> tuple[int, str] | None:
    """``(survey id, nonce)`` from a well-signed token; ``None`` for anything else (wrong
    signature, altered, another purpose's token, not text, too long)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if (not isinstance(data, list) or len(data) != 2 or not isinstance(data[0], int) or isinstance(data[0], bool)
            or not isinstance(data[1], str)):
        return None
    return data[0], data[1]


def matches(nonce: str, expected: str) -> bool:
    """True when the token's nonce is the row's (constant-time comparison)."""
    return hmac.compare_digest(nonce.encode(), expected.encode())
