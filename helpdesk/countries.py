"""Country names and codes to ISO 3166-1 alpha-2, through pycountry.

Marketplaces and data sets name countries in many ways. pycountry resolves ISO names,
official names and alpha-2/alpha-3 codes; :data:`ALIASES` adds the names it does not
know that real data uses (the UCI Online Retail set writes "EIRE" and "RSA"), and
:data:`NOT_A_COUNTRY` the values that name no single ISO country, so they map to
``None`` on purpose rather than to a guess.
"""
from __future__ import annotations

from functools import lru_cache

import pycountry

ALIASES = {
    "eire": "IE",  # Irish name of Ireland, used by the UCI Online Retail data set
    "rsa": "ZA",  # Republic of South Africa
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "south korea": "KR",
    "russia": "RU",
    "czechia": "CZ",
    "uae": "AE",
}

# Regions with no ISO 3166-1 code of their own: Jersey (JE) and Guernsey (GG) are
# separate codes, and "European Community" is a group of countries.
NOT_A_COUNTRY = {"channel islands", "european community", "unspecified", "unknown", "n/a", ""}


@lru_cache(maxsize=4096)
def to_iso_country(value: str | None) -> str | None:
    """Map a country name or code to its ISO 3166-1 alpha-2 code.

    >>> to_iso_country("EIRE"), to_iso_country("Germany"), to_iso_country("deu")
    ('IE', 'DE', 'DE')

    Returns ``None`` for empty values, for :data:`NOT_A_COUNTRY`, and for names that
    pycountry does not know (the caller keeps the original text).
    """
    key = (value or "").strip()
    folded = key.casefold()
    if folded in NOT_A_COUNTRY:
        return None
    if folded in ALIASES:
        return ALIASES[folded]
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return None


def country_name(code: str | None) -> str | None:
    """The English ISO short name of an alpha-2 code, or ``None``."""
    if not code:
        return None
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else None
