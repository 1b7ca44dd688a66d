"""Text helpers shared by search and matching."""
from __future__ import annotations

import unicodedata


def search_key(text: str | None) -> str:
    """Fold ``text`` for case- and accent-insensitive search in any script: NFKD, combining
    marks dropped, case folded, whitespace collapsed (``"JOÃO  Silva"`` → ``"joao silva"``).
    Non-Latin letters are kept as they are (``"王芳"`` stays ``"王芳"``)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", stripped).casefold().split())
