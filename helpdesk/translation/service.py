"""Translating a text: protect, look in the cache, ask the engine, restore.

:func:`translate_text` is what the chat, tickets and the FAQ call; it never holds a
database transaction open while the engine works (on SQLite that would hold the write
lock and stall every chat message for as long as a model loads).

For stored texts translated in the background (chat and ticket messages):
:func:`agent_language` (what an agent reads), :func:`detect` (a text's language, off the
event loop), :func:`translation_fields` (a translation or the "No translation for pt→en"
marker) and :func:`store_translation` (kept once per text and language).
"""
from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent
from helpdesk.translation.detect import Detection, detect_language
from helpdesk.translation.engines import NoTranslation, TranslationError, engine_for, resolve_name, translation_code
from helpdesk.translation.models import StoredTranslation, TranslationCache
from helpdesk.translation.protect import protect, restore
from helpdesk.translation.worker import run_blocking

log = logging.getLogger(__name__)


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


def agent_language(agent: Agent | None) -> str:
    """The language (BCP 47) ``agent`` reads: their first language, else
    ``TRANSLATION_AGENT_LANGUAGE`` (also for no agent, an unassigned case)."""
    if agent is not None and agent.languages:
        return agent.languages[0]
    return current_app.config["TRANSLATION_AGENT_LANGUAGE"]


def detect(text: str, fallback: str | None) -> Detection:
    """The language of ``text`` among ``TRANSLATION_DETECT_LANGUAGES`` (``fallback`` when
    the detector is unsure), run off the event loop (:func:`run_blocking`)."""
    return run_blocking(functools.partial(detect_language, text, fallback=fallback,
                                          languages=current_app.config["TRANSLATION_DETECT_LANGUAGES"]))


def engine_name() -> str:
    """The configured engine's name (as stored with a translation or a marker)."""
    try:
        return resolve_name(current_app.config["TRANSLATION_ENGINE"])
    except TranslationError:
        return str(current_app.config["TRANSLATION_ENGINE"])[:40]


def translation_fields(text: str, source: str, target: str) -> dict | None:
    """What to store for ``text`` translated ``source`` → ``target`` (BCP 47 tags): the
    :class:`~helpdesk.translation.models.StoredTranslation` columns but ``lang``. Status
    ``translated`` with the text; ``unavailable`` with the note "No translation for
    pt→en" when no model has the pair; ``failed`` with a note when the engine failed
    (logged). ``None`` when the translation is the text itself (an order number, a link):
    nothing to store. Runs the engine: call it with no transaction open."""
    fields = {"status": "translated", "note": None, "source_lang": source}
    try:
        result = translate_text(text, source, target)
        if result.text == text:
            return None
        fields.update(text=result.text, engine=result.engine)
    except NoTranslation as exc:
        fields.update(status="unavailable", text=None, engine=engine_name(), note=str(exc))
    except TranslationError as exc:
        log.warning("translation %s→%s failed: %s", source, target, exc)
        pair = f"{translation_code(source)}→{translation_code(target)}"
        fields.update(status="failed", text=None, engine=engine_name(), note=f"Translation failed for {pair}")
    return fields


def store_translation(model: type[StoredTranslation], key: dict, fields: dict) -> StoredTranslation | None:
    """Create or update the ``model`` row named by ``key`` (its original's id and
    ``lang``, a unique key) with ``fields``; commits. ``None`` when another process stored
    the same row meanwhile (the unique key refused ours)."""
    row = db.session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key)
        db.session.add(row)
    for name, value in fields.items():
        setattr(row, name, value)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return row
