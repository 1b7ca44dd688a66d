"""Checks of user-supplied settings, each returning the cleaned value or raising
:class:`InvalidInput` with a message a person understands."""
from __future__ import annotations

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email
from flask_babel import format_number
from flask_babel import gettext as _

from helpdesk.text import has_control_characters

ENV_REF = re.compile(r"env:[A-Za-z_][A-Za-z0-9_]{0,127}")


class InvalidInput(ValueError):
    """A value that cannot be used; the message says why and what would do."""


def clean_name(value: str, what: str, max_length: int) -> str:
    """Trimmed, non-empty, printable text of at most ``max_length`` characters."""
    text = " ".join((value or "").split())
    if not text:
        raise InvalidInput(_("%(what)s must not be empty.", what=what))
    if len(text) > max_length:
        raise InvalidInput(_("%(what)s must be at most %(limit)s characters.", what=what, limit=format_number(max_length)))
    if has_control_characters(text):
        raise InvalidInput(_("%(what)s contains control characters.", what=what))
    return text


def clean_email(value: str) -> str:
    """A syntactically valid e-mail address, lower-cased (email-validator; no DNS lookup)."""
    try:
        return validate_email((value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"{value!r} is not an e-mail address: {exc}") from None


def clean_time_zone(value: str) -> str:
    """An IANA time zone name known to ``zoneinfo``."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{value!r} is not an IANA time zone such as Europe/Berlin.") from None
    return value


def clean_locale(value: str) -> str:
    """A CLDR locale Babel can format with (``de``, ``pt_BR``, ``zh_Hant_TW``; ``-`` accepted)."""
    try:
        return str(Locale.parse((value or "").replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidInput(f"{value!r} is not a locale such as en, de or pt_BR.") from None


def clean_language_tag(value: str) -> str:
    """A BCP 47 language tag whose language CLDR knows (``zh-Hans``, ``pt-BR``), as given."""
    tag = (value or "").strip()
    try:
        Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidInput(f"{value!r} is not a BCP 47 language tag such as en, pt-BR or zh-Hans.") from None
    return tag


def clean_http_url(value: str) -> str:
    """An absolute ``http``/``https`` URL with a host, without a trailing slash."""
    parts = urlsplit((value or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{value!r} is not an http(s) address such as https://shop.example.com.")
    return parts.geturl().rstrip("/")


def clean_credentials_ref(value: str) -> str:
    """A reference to a secret in the environment: ``env:VARIABLE_NAME``, never the secret."""
    if not ENV_REF.fullmatch((value or "").strip()):
        raise InvalidInput("The credentials reference must look like env:VARIABLE_NAME (put the secret in that variable).")
    return value.strip()
