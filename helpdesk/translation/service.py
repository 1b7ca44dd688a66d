"""Translating a text: protect, look in the cache, ask the engine, restore.

:func:`translate_text` is what the chat (and later tickets and the FAQ) calls; it never
holds a database transaction open while the engine works (on SQLite that would hold the
write lock and stall every chat message for as long as a model loads).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.translation.engines import TranslationError, engine_for, translation_code
from helpdesk.translation.models import TranslationCache
from helpdesk.translation.protect import protect, restore
from helpdesk.translation.worker import run_blocking


@dataclass(frozen=True)
class Translation:
    """A translated text (plain text, protected values restored). ``source`` and
    ``target`` are translation codes; ``cached`` is True when no engine ran."""

    text: str
    source: str
    target: str
    engine: str
    cached: bool


def codes(source: str | None, target: str | None) -> tuple[str, str]:
    """Translation codes for two BCP 47 tags.

    Raises:
        TranslationError: a tag is missing or not a language.
    """
    pair = translation_code(source), translation_code(target)
    if None in pair:
        raise TranslationError(f"Cannot translate from {source or '?'} to {target or '?'}: unknown language.")
    return pair


def text_hash(text: str) -> str:
    """Hex SHA-256 of the UTF-8 text: the cache key."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def translate_text(text: str, source: str | None, target: str | None, *, cache_only: bool = False,
                   config: dict | None = None) -> Translation | None:
    """``text`` from ``source`` into ``target`` (BCP 47 tags) with the configured engine.

    Order numbers, URLs, e-mails, amounts and tracking numbers pass through unchanged; a
    text of nothing else is returned as it is. A repeated text (after protection) is
    answered from the ``translation_cache`` table without running the engine.

    Args:
        cache_only: answer only from the cache; ``None`` when it does not hold the text.
        config: the app config (default ``current_app.config``).

    Raises:
        NoTranslation: the engine has no model for the pair, even through English.
        EngineFailed: the engine failed (the cause is in the message and the log).
        TranslationError: a language is unknown.
    """
    config = config if config is not None else current_app.config
    source, target = codes(source, target)
    engine = engine_for(config)
    protected = protect(text)
    if source == target or not protected.plain:
        return Translation(text, source, target, engine.name, cached=True)
    version = run_blocking(engine.version, source, target)
    key = {"text_hash": text_hash(protected.text), "source": source, "target": target, "engine": engine.name,
           "engine_version": version}
    row = db.session.scalar(select(TranslationCache).filter_by(**key))
    if row is not None:
        db.session.execute(update(TranslationCache).where(TranslationCache.id == row.id)
                           .values(hits=TranslationCache.hits + 1, used_at=utcnow()))
        raw = row.text
        db.session.commit()
        return Translation(restore(protected, raw), source, target, engine.name, cached=True)
    db.session.rollback()  # no transaction (nor SQLite's write lock) held while the engine works
    if cache_only:
        return None
    raw = run_blocking(engine.translate, protected.text, source, target)
    if not isinstance(raw, str):
        raise TranslationError(f"The {engine.name} engine answered {type(raw).__name__}, not text.")
    db.session.add(TranslationCache(**key, text=raw))
    try:
        db.session.commit()
    except IntegrityError:  # the same text was translated at the same moment elsewhere
        db.session.rollback()
    return Translation(restore(protected, raw), source, target, engine.name, cached=False)
