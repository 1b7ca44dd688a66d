"""Jinja filters that format values for the viewer: their locale, their time zone."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from urllib.parse import urlencode

from flask import Flask, has_request_context, request
from flask_babel import format_datetime, format_percent, get_locale
from flask_babel import lazy_gettext as _l

from helpdesk import i18n
from helpdesk.labels import label, no_translation
from helpdesk.money import format_money
from helpdesk.text import isolate


def money(amount: Decimal | None, currency: str) -> str:
    """``Decimal`` + ISO 4217 → ``1.234,50 €`` in the viewer's locale (CLDR via Babel),
    with the currency's minor units (``£4.60``, ``¥1,200``, ``KWD 8.250``); outside a
    request (CLI, scheduler, domain code under test) in English."""
    if amount is None:
        return ""
    return format_money(amount, currency, str(get_locale()) if has_request_context() else "en")


def when(value: datetime | None, fmt: str = "medium") -> str:
    """An aware UTC instant shown in the viewer's time zone and locale, with the zone's
    UTC offset so that times around a DST change are unambiguous ("… 2:30:00 GMT+02:00")."""
    return f"{format_datetime(value, fmt)} {format_datetime(value, 'OOOO')}" if value else ""


def percent(share: Decimal | None) -> str:
    """A share 0–1 as a percentage with one decimal in the viewer's locale's own pattern
    (``0.8125`` → ``81.3%`` in en, ``81,3 %`` in de, ``%81.3`` in tr); empty for ``None``."""
    if share is None:
        return ""
    pattern = get_locale().percent_formats[None].pattern.split(";")[0]
    return format_percent(share, re.sub(r"0(?=[^0]*$)", "0.0", pattern, count=1))


STATUS_LABELS = {
    "paid": _l("paid"),
    "pending": _l("payment pending"),
    "authorized": _l("authorized"),
    "partially_paid": _l("partially paid"),
    "partially_refunded": _l("partially refunded"),
    "refunded": _l("refunded"),
    "voided": _l("voided"),
    "failed": _l("payment failed"),
    "fulfilled": _l("fulfilled"),
    "unfulfilled": _l("not shipped"),
    "partial": _l("partly shipped"),
    "restocked": _l("restocked"),
    "unknown": _l("unknown"),
    # shipment statuses (Shopify's fulfillment event statuses, WooCommerce's "shipped")
    "shipped": _l("shipped"),
    "label_printed": _l("label printed"),
    "label_purchased": _l("label bought"),
    "confirmed": _l("confirmed"),
    "in_transit": _l("in transit"),
    "out_for_delivery": _l("out for delivery"),
    "attempted_delivery": _l("delivery attempted"),
    "ready_for_pickup": _l("ready for pickup"),
    "delivered": _l("delivered"),
    "failure": _l("delivery failed"),
}


def status_label(status: str | None) -> str:
    """A marketplace status code in words (``partially_refunded`` → "partially refunded")."""
    return str(STATUS_LABELS.get(status or "unknown", (status or "").replace("_", " ")))


def country(code: str | None, fallback: str | None = None) -> str:
    """An ISO 3166 code as the viewer's language names it (``DE`` → ``Deutschland`` in de)."""
    if not code:
        return fallback or ""
    return get_locale().territories.get(code, code)


def language_url(code: str) -> str:
    """This page again, in the interface language ``code`` (the other query arguments kept)."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return request.path + "?" + urlencode([*args, ("lang", i18n.bcp47(code))])


def page_language() -> dict:
    """``lang`` and ``dir`` of the page (BCP 47 tag of the locale: ``zh-Hant``; ``rtl`` for
    Arabic etc.), the locale's code, the language the visitor chose (``chosen_lang``: a tag,
    or ``""`` when the page follows the browser), and the language menu of the buyer pages."""
    from helpdesk import chosen_language

    locale = get_locale()
    return {
        "chosen_lang": chosen_language() or "",
        "page_lang": i18n.bcp47(locale),
        "page_dir": i18n.direction(locale),
        "page_locale": str(locale),
        "ui_languages": i18n.language_menu(),
        "language_url": language_url,
    }


def register_template_helpers(app: Flask) -> None:
    """Make the filters above, and the page's language and direction, available in every template."""
    app.context_processor(page_language)
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(country, "country")
    app.add_template_filter(status_label, "status")
    app.add_template_filter(label, "label")
    app.add_template_filter(isolate, "isolate")
    app.add_template_global(no_translation)
