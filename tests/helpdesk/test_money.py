"""Money: Decimal with ISO 4217 minor units, exact through the database."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Order, Store
from helpdesk.money import (
    InvalidAmount,
    UnknownCurrency,
    format_money,
    from_minor,
    minor_units,
    parse_amount,
    to_minor,
)


@pytest.mark.parametrize("currency, digits", [("JPY", 0), ("EUR", 2), ("KWD", 3), ("GBP", 2), ("CLF", 4)])
def test_minor_units_come_from_cldr(currency, digits):
    assert minor_units(currency) == digits


@pytest.mark.parametrize("currency, text, minor", [
    ("JPY", "1000.00", 1000), ("EUR", "12.34", 1234), ("KWD", "1.234", 1234), ("KWD", "0.001", 1),
])
def test_parse_and_minor_units_round_trip(currency, text, minor):
    amount = parse_amount(text, currency)
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == amount


@pytest.mark.parametrize("currency, text", [("JPY", "1000.5"), ("EUR", "12.345"), ("KWD", "1.2345")])
def test_digits_below_the_minor_unit_are_refused(currency, text):
    with pytest.raises(InvalidAmount, match=f"more decimals than {currency} allows"):
        parse_amount(text, currency)


@pytest.mark.parametrize("value", [1.1, "abc", "", None, "NaN", "Infinity", "1_0", "1e1", "+1", "１.００", "1,50",
                                   "0x10", " - 1"])
def test_non_amounts_are_refused(value):
    with pytest.raises(InvalidAmount):
        parse_amount(value, "EUR")


@pytest.mark.parametrize("code", ["", "EU", "EURO", "XYZ", "€"])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(UnknownCurrency):
        parse_amount("1", code)


def test_amounts_round_trip_exactly_through_the_database(app):
    store = Store(kind="csv", name="Money", default_currency="EUR")
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    cases = {"JPY": "1234567", "EUR": "99999999.99", "KWD": "12345.678"}
    for currency, text in cases.items():
        amount = parse_amount(text, currency)
        db.session.add(Order(store=store, external_id=currency, number=currency, currency=currency,
                             subtotal=amount, shipping=Decimal(0), tax=Decimal(0), total=amount,
                             financial_status="paid", fulfillment_status="unfulfilled",
                             placed_at=when, updated_at=when, source_hash=""))
    db.session.commit()
    db.session.expire_all()
    for order in db.session.scalars(select(Order)):
        assert order.total == Decimal(cases[order.currency])
        assert to_minor(order.total, order.currency) == int(cases[order.currency].replace(".", ""))
    assert db.session.scalar(select(func.sum(Order.total)).where(Order.currency == "KWD")) == Decimal("12345.678")


def test_floats_never_reach_the_database(app):
    store = Store(kind="csv", name="Floaty", default_currency="EUR")
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    db.session.add(Order(store=store, external_id="1", number="1", currency="EUR", subtotal=0.1, shipping=Decimal(0),
                         tax=Decimal(0), total=Decimal("0.1"), financial_status="paid", fulfillment_status="x",
                         placed_at=when, updated_at=when, source_hash=""))
    with pytest.raises(Exception, match="never float"):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("amount, currency, locale, text", [
    ("1234.50", "EUR", "de", "1.234,50\xa0€"),
    ("1235", "JPY", "ja", "￥1,235"),
    ("1.234", "KWD", "en", "KWD1.234"),
    ("0.001", "GBP", "en", "£0.001"),
])
def test_formatting_follows_the_locale(amount, currency, locale, text):
    assert format_money(Decimal(amount), currency, locale) == text
