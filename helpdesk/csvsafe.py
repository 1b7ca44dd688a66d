"""CSV cells safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets (OWASP "CSV Injection"); such a text cell
gets a leading apostrophe so the spreadsheet shows it as typed.
"""
from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` unchanged unless it is a ``str`` that a spreadsheet would run as a formula,
    which is returned with a leading ``'``. Numbers (int, Decimal) are never touched, so a
    negative amount stays a number."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
