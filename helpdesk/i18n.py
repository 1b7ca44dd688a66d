"""The interface's languages: which catalogs exist, and which one a visitor gets.

Plain functions, no request in sight (the locale selector in :mod:`helpdesk` feeds them).

A requested tag is matched to a catalog by **language and script**, never by cutting the
string: the script comes from the tag itself or from CLDR's likely subtags (through
Babel), so ``zh-TW``, ``zh-HK`` and ``zh-Hant-TW`` find Traditional Chinese, ``zh``,
``zh-CN`` and ``zh-SG`` Simplified, and a tag whose script has no catalog (``sr-Latn``,
``uz-Arab``) matches nothing and the next preference, then English, is tried. Within a
language and script the territory is only a preference: ``pt-PT`` gets the ``pt_BR``
catalog (same language, same script; Brazilian wording, which a reader in Portugal reads
without trouble — better than English), ``es-MX`` gets ``es``, ``en-GB`` gets ``en``.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from babel import Locale
from babel.core import get_global, parse_locale

#: Catalogs under ``translations/`` (Babel locale identifiers). Buyer pages are translated
#: in all of them; the first is the default and the end of every fallback chain.
UI_LOCALES: tuple[str, ...] = ("en", "zh_Hans", "zh_Hant", "ja", "ko", "es", "pt_BR", "de", "fr", "it", "ru", "ar")
DEFAULT_LOCALE = UI_LOCALES[0]
MAX_TAG_LENGTH = 35
#: Longest tag read at all, extensions included (``zh-Hant-TW-u-ca-chinese-nu-hanidec``).
MAX_RAW_TAG_LENGTH = 200
#: Entries of an ``Accept-Language`` header looked at (best first): a 500-character header
#: costs no more than this.
MAX_PREFERENCES = 16


def strip_extensions(tag: str) -> str:
    """A BCP 47 tag without its extensions and private use (RFC 5646 §2.2.6–7: everything
    from the first one-letter subtag on), ``-`` or ``_``, stripped: ``zh-Hant-TW-u-ca-chinese``
    → ``zh-Hant-TW``, ``en-US-x-twain`` → ``en-US``, ``x-klingon`` → ``""``. Negotiation
    looks at language, script and territory only."""
    parts = tag.strip().replace("_", "-").split("-")
    cut = next((index for index, part in enumerate(parts) if len(part) == 1), len(parts))
    return "-".join(parts[:cut])


@lru_cache(maxsize=4096)
def maximize(tag: str) -> tuple[str, str, str] | None:
    """``(language, script, territory)`` of a BCP 47 tag (``-`` or ``_``), the missing
    parts filled from CLDR's likely subtags: ``zh-TW`` → ``("zh", "Hant", "TW")``, ``zh``
    → ``("zh", "Hans", "CN")``, ``pt-PT`` → ``("pt", "Latn", "PT")``. ``None`` for
    anything that is not a tag of a language CLDR knows (``*``, ``garbage``, ``""``).
    Extensions are dropped (:func:`strip_extensions`)."""
    if not isinstance(tag, str) or len(tag) > MAX_RAW_TAG_LENGTH:
        return None
    tag = strip_extensions(tag)
    if not tag or len(tag) > MAX_TAG_LENGTH or tag == "*":
        return None
    try:
        language, territory, script, _variant = parse_locale(tag.replace("-", "_"))[:4]
    except ValueError:
        return None
    language = language.lower()
    alias = get_global("language_aliases").get(language)  # iw → he, sh → sr_Latn, ...
    if alias:
        try:
            a_language, a_territory, a_script = parse_locale(alias)[:3]
        except ValueError:
            return None
        language, territory, script = a_language, territory or a_territory, script or a_script
    likely = get_global("likely_subtags")
    keys = [f"{language}_{script}_{territory}" if script and territory else None,
            f"{language}_{territory}" if territory else None,
            f"{language}_{script}" if script else None,
            language]
    full = next((likely[key] for key in keys if key and key in likely), None)
    if full is None:
        return None
    f_language, f_territory, f_script = parse_locale(full)[:3]
    return language, script or f_script or "Zzzz", territory or f_territory or ""


@lru_cache(maxsize=1)
def _catalogs() -> dict[str, tuple[str, str, str]]:
    return {code: maximize(code) for code in UI_LOCALES}


@lru_cache(maxsize=4096)
def match(tag: str | None) -> str | None:
    """The catalog for one tag (same language and script; the same territory preferred),
    or ``None``: ``zh-Hant-TW`` → ``zh_Hant``, ``zh-SG`` → ``zh_Hans``, ``pt-PT`` →
    ``pt_BR``, ``ar-EG`` → ``ar``, ``sr-Latn`` → ``None``."""
    wanted = maximize(tag) if tag else None
    if wanted is None:
        return None
    same = [code for code, have in _catalogs().items() if have[:2] == wanted[:2]]
    if not same:
        return None
    return next((code for code in same if _catalogs()[code][2] == wanted[2]), same[0])


def negotiate(preferences: Iterable[tuple[str, float]]) -> str:
    """The catalog for an ``Accept-Language`` header, parsed as ``(tag, quality)`` pairs
    (werkzeug's ``request.accept_languages``): the best-rated tag that has a catalog of its
    language and script; entries rated ``q=0`` are refused, ``*`` and unknown tags are
    skipped; English when nothing matches."""
    ranked = sorted(((tag, q) for tag, q in preferences if q > 0), key=lambda pair: -pair[1])
    for tag, _quality in ranked[:MAX_PREFERENCES]:
        found = match(tag)
        if found:
            return found
    return DEFAULT_LOCALE


def fallback_chain(tag: str) -> tuple[str, ...]:
    """What a reader of ``tag`` is shown, best first, as Babel locale identifiers:
    ``zh-Hant-TW`` → ``("zh_Hant", "en")``, ``sr-Latn`` → ``("en",)``."""
    found = match(tag)
    return (found, DEFAULT_LOCALE) if found and found != DEFAULT_LOCALE else (DEFAULT_LOCALE,)


def bcp47(locale: Locale | str) -> str:
    """``zh_Hant`` → ``zh-Hant``, ``pt_BR`` → ``pt-BR``: the tag for ``lang=``."""
    return str(locale).replace("_", "-")


def direction(locale: Locale | str) -> str:
    """``rtl`` for a locale written right to left (Arabic, and Hebrew, Persian, Urdu
    should they be added), else ``ltr`` — from CLDR, not from a list of ours."""
    try:
        parsed = locale if isinstance(locale, Locale) else Locale.parse(str(locale).replace("-", "_"))
    except (ValueError, TypeError, LookupError):
        return "ltr"
    return "rtl" if parsed.character_order == "right-to-left" else "ltr"


@lru_cache(maxsize=1)
def language_menu() -> tuple[tuple[str, str, str, str], ...]:
    """``(code, bcp47 tag, name in the language itself, direction)`` for every catalog."""
    menu = []
    for code in UI_LOCALES:
        name = Locale.parse(code).get_display_name() or code
        menu.append((code, bcp47(code), name[:1].upper() + name[1:], direction(code)))
    return tuple(menu)
