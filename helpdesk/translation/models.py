"""The translation cache: a text translated once by an engine is never translated again;
and :class:`StoredTranslation`, the columns of a stored text's translation (a chat
message's, a ticket message's).

A row is keyed by the SHA-256 of the *protected* source text (placeholders in place of
order numbers, URLs, amounts; see :mod:`helpdesk.translation.protect`), the source and
target translation codes, the engine and the engine's version (the model versions), so
"where is #1001?" and "where is #1002?" share one row, and a new model starts afresh.
``text`` is the engine's raw output, placeholders included; ``hits`` counts the times it
was served from here instead of the engine. No source text is kept.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db


class TranslationCache(db.Model):
    __tablename__ = "translation_cache"
    __table_args__ = (UniqueConstraint("text_hash", "source", "target", "engine", "engine_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(35))
    target: Mapped[str] = mapped_column(String(35))
    engine: Mapped[str] = mapped_column(String(40))
    engine_version: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    hits: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)



class StoredTranslation:
    """Columns of a text's translation into ``lang`` (BCP 47), the original staying where
    it is. ``status``: ``translated`` (``text`` holds it), ``unavailable`` (no model for
    the pair: ``note`` says "No translation for pt→en") or ``failed`` (the engine failed;
    ``note`` says so). ``engine`` is the engine's name (or ``agent`` for a translation an
    agent wrote). ``source_lang`` is the language the original was taken to be in."""

    lang: Mapped[str] = mapped_column(String(35))
    source_lang: Mapped[str | None] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(12), default="translated")
    text: Mapped[str | None] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
