"""Keep what must not be translated out of the engine's reach.

Order numbers (``#1001``, ``1001-2``), tracking numbers (``1Z999AA10123456784``,
``LX123456789CN``), URLs, e-mail addresses, amounts (``29,90 €``, ``$12.50``,
``EUR 12``) and HTML entities the buyer typed are replaced by numbered placeholders
``[1]``, ``[2]``, ... before translating, and put back afterwards. A translation model
copies bracketed numbers far more reliably than it copies a URL; a placeholder the
engine dropped is appended at the end, so a protected value is never lost. A ``[n]``
that the buyer typed is itself protected, so it comes back unchanged too.

Pure functions on text; no engine, no database.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from babel.numbers import list_currencies

_CURRENCY_CODES = "|".join(sorted(list_currencies()))
_SYMBOLS = r"(?:R\$|US\$|C\$|A\$|HK\$|NT\$|S\$|NZ\$|MX\$|CHF|zł|Kč|kr|[$€£¥₹₩₽₺₪₫฿₱₴₦₡₲₵₸₭₮])"
_NUMBER = r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?"

# Order matters: the first pattern that matches at a position wins, longest forms first.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("url", re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("amount", re.compile(
        rf"(?:{_SYMBOLS}|\b(?:{_CURRENCY_CODES})\b)\s?(?:{_NUMBER})(?!\d)"
        rf"|(?<![\w.,])(?:{_NUMBER})\s?(?:{_SYMBOLS}|(?:{_CURRENCY_CODES})\b)")),
    ("order", re.compile(r"#\s?\d[\d-]*\d|#\d|\b\d{3,}-\d{1,4}\b")),
    # UPS 1Z..., UPU S10 (LX123456789CN), and long codes mixing capitals and digits.
    ("tracking", re.compile(r"\b1Z[0-9A-Z]{16}\b|\b[A-Z]{2}\d{9}[A-Z]{2}\b"
                            r"|\b(?=[0-9A-Z]*\d)(?=[0-9A-Z]*[A-Z])[0-9A-Z]{10,30}\b|\b\d{10,30}\b")),
    ("entity", re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")),
    ("placeholder", re.compile(r"\[\s*\d+\s*\]")),
)
PLACEHOLDER = re.compile(r"\[\s*(\d+)\s*\]")


@dataclass(frozen=True)
class Protected:
    """Text with its protected values replaced: ``text`` holds ``[1]``, ``[2]``, ...;
    ``values[n - 1]`` is what ``[n]`` stands for, ``kinds[n - 1]`` which pattern found it
    (``url``, ``email``, ``amount``, ``order``, ``tracking``, ``entity``, ``placeholder``)."""

    text: str
    values: tuple[str, ...]
    kinds: tuple[str, ...]

    @property
    def plain(self) -> str:
        """The text with every placeholder removed: what a language detector should read."""
        return " ".join(PLACEHOLDER.sub(" ", self.text).split())


def protect(text: str) -> Protected:
    """Replace the values that must pass through unchanged by ``[1]``, ``[2]``, ...

    Args:
        text: any message text.

    Returns:
        The :class:`Protected` text; ``restore(protected, protected.text) == text``.
    """
    spans: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if start == end or any(taken[start:end]):
                continue
            spans.append((start, end, kind))
            taken[start:end] = [True] * (end - start)
    spans.sort()
    parts, values, kinds, position = [], [], [], 0
    for start, end, kind in spans:
        values.append(text[start:end])
        kinds.append(kind)
        parts.append(text[position:start])
        parts.append(f"[{len(values)}]")
        position = end
    parts.append(text[position:])
    return Protected("".join(parts), tuple(values), tuple(kinds))


def restore(protected: Protected, translated: str) -> str:
    """Put the protected values back into an engine's output.

    The engine's output is first HTML-unescaped once (some engines answer ``&amp;`` or
    ``&#39;``); it is plain text, never markup. Placeholders the engine respaced
    (``[ 1 ]``) are recognised; those it dropped are appended, separated by spaces, in
    their original order; numbers that were never placeholders are left alone.

    Args:
        protected: what :func:`protect` returned for the source text.
        translated: the engine's output for ``protected.text``.

    Returns:
        The translated text with every protected value present.
    """
    text = html.unescape(translated)
    used: set[int] = set()

    def put_back(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if not 1 <= number <= len(protected.values):
            return match.group(0)
        used.add(number)
        return protected.values[number - 1]

    text = PLACEHOLDER.sub(put_back, text)
    missing = [value for number, value in enumerate(protected.values, 1) if number not in used]
    return " ".join([text.strip(), *missing]).strip() if missing else text
