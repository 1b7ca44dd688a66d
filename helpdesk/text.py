"""Text helpers shared by search and matching."""
from __future__ import annotations

import unicodedata

# Scripts whose accents are marks on a letter a searcher may leave off (é → e). In Thai,
# Devanagari or Arabic the combining marks are vowels and signs of the word itself.
ACCENT_FOLDED_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def _folds_accents(base: str) -> bool:
    return unicodedata.name(base, "").startswith(ACCENT_FOLDED_SCRIPTS)


def search_key(text: str | None) -> str:
    """Fold ``text`` for case- and accent-insensitive search in any script: NFKD, accents
    dropped from Latin, Greek and Cyrillic letters only, case folded, whitespace collapsed
    (``"JOÃO  Silva"`` → ``"joao silva"``; ``"สวัสดี"`` keeps its vowel signs)."""
    kept: list[str] = []
    base = ""
    for ch in unicodedata.normalize("NFKD", text or ""):
        if unicodedata.combining(ch):
            if _folds_accents(base):
                continue
        else:
            base = ch
        kept.append(ch)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).casefold().split())


def has_control_characters(text: str, allowed: str = "") -> bool:
    """True when ``text`` holds a control character (Unicode category Cc: C0 and C1, NUL)
    other than those in ``allowed``, or a lone UTF-16 surrogate (Cs: no character at all,
    it cannot even be stored as UTF-8). Format characters such as the zero-width joiner of
    family emoji and Persian words, direction marks, and every kind of space are text."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only spaces, line breaks and format characters
    (zero-width space, joiners, direction marks)."""
    return all(unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cf", "Cc") for ch in text)


def isolate(value: object) -> str:
    """``value`` as text between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE
    (U+2068…U+2069, Unicode UAX #9): a name, an order number or a date put into a sentence
    of the other direction ("#1001" in Arabic) keeps its own order and leaves the
    sentence's punctuation in place. For plain-text messages; in HTML use ``<bdi>``."""
    return f"\u2068{value}\u2069"
