"""Money: ``Decimal`` amounts with an ISO 4217 currency, never float.

Minor units come from CLDR through Babel (``babel.numbers.get_currency_precision``):
JPY has 0, EUR 2, KWD 3. Amounts are stored in the database as integers of
1/10,000 of the major unit (:class:`Amount`), which is exact on SQLite and
PostgreSQL alike and still sums in SQL.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision
from flask_babel import gettext as _
from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

STORAGE_EXPONENT = 4  # ISO 4217 currencies have at most 4 minor digits (CLF, UYW)
MAX_AMOUNT = Decimal(10) ** 12  # far above any order, well inside what a BIGINT of 1/10,000 units holds


class InvalidAmount(ValueError):
    """An amount that is not a number, or has more decimals than its currency allows."""


class UnknownCurrency(ValueError):
    """A currency code that is not an ISO 4217 code known to CLDR."""


@lru_cache(maxsize=512)
def normalise_currency(code: str | None) -> str:
    """Return ``code`` upper-cased if it is an ISO 4217 currency CLDR knows.

    Raises:
        UnknownCurrency: empty, malformed or unknown code.
    """
    value = (code or "").strip().upper()
    if len(value) != 3 or not value.isalpha() or value not in Locale("en").currencies:
        raise UnknownCurrency(f"Unknown currency code {code!r}: expected an ISO 4217 code such as EUR.")
    return value


def minor_units(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (JPY 0, EUR 2, KWD 3), from CLDR."""
    return get_currency_precision(normalise_currency(currency))


AMOUNT_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _to_decimal(value: str | int | Decimal | None) -> Decimal:
    if isinstance(value, float):
        raise InvalidAmount("Amounts must be given as strings or Decimal, never float.")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidAmount(_("Missing amount."))
    if isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value.strip()):
        # Decimal() would also take "1_0", "1e1", "+1" or full-width digits: typos, not amounts.
        raise InvalidAmount(_("%(value)s is not an amount of money.", value=repr(value)))
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidAmount(_("%(value)s is not an amount of money.", value=repr(value))) from None
    if not amount.is_finite():
        raise InvalidAmount(_("%(value)s is not an amount of money.", value=repr(value)))
    if abs(amount) >= MAX_AMOUNT:
        raise InvalidAmount(_("%(value)s is too large an amount.", value=value))
    return amount


def _exact(amount: Decimal, decimals: int) -> Decimal | None:
    quantised = amount.quantize(Decimal(1).scaleb(-decimals))
    return quantised if quantised == amount else None


def parse_amount(value: str | int | Decimal | None, currency: str) -> Decimal:
    """Turn a marketplace amount (``"12.50"``, ``12``, ``Decimal``) into an exact ``Decimal``.

    The result is quantised to the currency's minor units (``"1000.00"`` JPY becomes
    ``Decimal("1000")``). Floats are refused, since they cannot hold cents exactly.

    Raises:
        InvalidAmount: not a number, a float, or non-zero digits below the minor unit
            (``"10.005"`` EUR).
        UnknownCurrency: ``currency`` is not ISO 4217.
    """
    amount = _to_decimal(value)
    exact = _exact(amount, minor_units(currency))
    if exact is None:
        raise InvalidAmount(_("%(value)s has more decimals than %(currency)s allows.", value=value,
                              currency=normalise_currency(currency)))
    return exact


def parse_unit_price(value: str | int | Decimal | None, currency: str) -> Decimal:
    """A unit price, which may be finer than the currency's minor unit (wholesale prices
    such as 0.001 GBP a piece are real), up to the 4 decimals :class:`Amount` stores.
    Totals built from it are rounded with :func:`round_to_minor`.

    Raises:
        InvalidAmount: not a number, a float, or more than 4 decimals.
    """
    amount = _to_decimal(value)
    exact = _exact(amount, max(minor_units(currency), STORAGE_EXPONENT))
    if exact is None:
        raise InvalidAmount(f"{value} has more than {STORAGE_EXPONENT} decimals.")
    return quantise(exact, currency)


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("12.34")`` EUR → ``1234``; ``Decimal("500")`` JPY → ``500``."""
    return int(parse_amount(amount, currency).scaleb(minor_units(currency)))


def from_minor(units: int, currency: str) -> Decimal:
    """``1234`` EUR minor units → ``Decimal("12.34")``; the inverse of :func:`to_minor`."""
    return Decimal(int(units)).scaleb(-minor_units(currency))


def quantise(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with exactly the currency's minor digits when that loses nothing
    (``Decimal("12.3000")`` EUR → ``12.30``), else without trailing zeros (a unit price
    of ``0.0010`` GBP → ``0.001``)."""
    exact = _exact(amount, minor_units(currency))
    return exact if exact is not None else amount.normalize()


def round_to_minor(amount: Decimal, currency: str) -> Decimal:
    """Round a computed amount (a line total from a fine unit price, say) to the currency's
    minor units, half to even (banker's rounding)."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """Format for display with CLDR rules: ``1.234,50 €`` in ``de``, ``￥1,235`` in ``ja``;
    digits finer than the minor unit (unit prices) are shown, never rounded away."""
    return format_currency(quantise(amount, currency), currency, locale=locale, decimal_quantization=False)


class Amount(TypeDecorator):
    """A ``Decimal`` column stored as a BIGINT count of 1/10,000 units.

    Exact on every database, summable in SQL. Binding a value with more than four
    decimals raises :class:`InvalidAmount` rather than rounding.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise InvalidAmount("Amounts must be Decimal, never float.")
        scaled = Decimal(value).scaleb(STORAGE_EXPONENT)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(f"{value} has more than {STORAGE_EXPONENT} decimals.")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-STORAGE_EXPONENT)
