"""Machine translation in the chat.

A message is stored and delivered in its original first; :func:`schedule` then queues its
translation on the translation worker (:mod:`helpdesk.translation.worker`), which runs
:func:`translate_message` after the commit and sends ``message:translated`` to the other
side. Translation never delays, blocks or loses a message: with no model, or a failing
one, a marker (``status`` ``unavailable`` / ``failed`` with a ``note`` such as "No
translation for pt→en") is stored and sent to the agents instead.

Which way:

- a buyer's message: from its detected language (the conversation's language when the
  detector is unsure) into the agents' language (the assignee's first language, else
  ``TRANSLATION_AGENT_LANGUAGE``); not when the assignee reads that language. A sure
  detection that differs from the conversation's language becomes the conversation's
  language (what the agents' replies are translated into).
- an agent's reply (not an internal note): from its detected language (the agent's first
  language when unsure) into the conversation's language. The agent may instead send a
  translation they previewed (:func:`preview`) and perhaps edited (stored with engine
  ``agent`` beside the original), or the original alone (``translate: false``).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from chat.models import Conversation, Message, MessageTranslation
from chat.service import ChatError, clean_body
from helpdesk.extensions import db
from helpdesk.models import Agent
from helpdesk.translation import service
from helpdesk.translation.engines import TranslationError, translation_code
from helpdesk.translation.service import detect, store_translation, translate_text, translation_fields
from helpdesk.translation.worker import worker
from helpdesk.validation import InvalidInput, clean_language_tag

EVENT = "message:translated"
RETRY_ON_JOIN = 20  # the buyer's last messages retried when an agent opens the conversation


class TranslationUnavailable(ChatError):
    """A preview the engine cannot make; ``code`` is the engine's (``no_translation``,
    ``translation_failed``) or ``no_buyer_language``."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def translation_payload(translation: MessageTranslation) -> dict:
    """A stored translation as clients receive it (in ``message.translations`` and in
    ``message:translated``)."""
    return {"lang": translation.lang, "source_lang": translation.source_lang, "status": translation.status,
            "text": translation.text, "engine": translation.engine, "note": translation.note}


def agent_language(conversation: Conversation) -> str:
    """The language the agents read this conversation in (BCP 47)."""
    return service.agent_language(conversation.assignee)


def _agent_reads(conversation: Conversation) -> set[str]:
    tags = (conversation.assignee.languages if conversation.assignee else None) or [agent_language(conversation)]
    return {translation_code(tag) for tag in tags}


@dataclass(frozen=True)
class _Facts:
    """What deciding a message's translation needs, read in one short transaction (none
    may stay open while the detector or the engine works: on SQLite it would hold the
    write lock)."""

    message_id: int
    seq: int
    sender: str
    body: str
    needs_translation: bool
    conversation_id: int
    conversation: str
    buyer_language: str | None
    agent_language: str
    agent_reads: frozenset[str]
    writer_language: str

    @classmethod
    def read(cls, message: Message, conversation: Conversation) -> _Facts:
        agent = message.agent
        return cls(message.id, message.seq, message.sender, message.body,
                   not message.internal and bool(message.body) and message.sender in ("buyer", "agent"),
                   conversation.id, conversation.public_id, conversation.buyer_language,
                   agent_language(conversation), frozenset(_agent_reads(conversation)),
                   agent.languages[0] if agent and agent.languages else agent_language(conversation))


def _direction(facts: _Facts) -> tuple[str | None, str | None, str | None]:
    """``(source, target, detected)``: the BCP 47 tags to translate between (``None``
    when the message needs no translation: same language, language unknown, a note,
    only attachments), and a buyer's language the detector was sure of (else ``None``)."""
    if not facts.needs_translation:
        return None, None, None
    if facts.sender == "buyer":
        detection = detect(facts.body, facts.buyer_language)
        sure = detection.language if detection.sure else None
        source = detection.language
        if source is None or translation_code(source) in facts.agent_reads:
            return None, None, sure
        return source, facts.agent_language, sure
    if facts.buyer_language is None:
        return None, None, None
    source = detect(facts.body, facts.writer_language).language
    if source is None or translation_code(source) == translation_code(facts.buyer_language):
        return None, None, None
    return source, facts.buyer_language, None


def translate_message(message_id: int) -> MessageTranslation | None:
    """Translate one stored message, store the result (or the marker) and send it as
    ``message:translated`` (``seq``, ``conversation`` and :func:`translation_payload`):
    to the agents viewing the conversation, and for an agent's reply also to the buyer
    (markers go to agents only). Runs in the translation worker.

    Returns:
        The stored translation, or ``None`` when the message needs none (or vanished).
    """
    message = db.session.get(Message, message_id)
    if message is None:
        return None
    facts = _Facts.read(message, db.session.get(Conversation, message.conversation_id))
    db.session.rollback()
    source, target, detected = _direction(facts)
    if detected and translation_code(detected) != translation_code(facts.buyer_language):
        db.session.execute(update(Conversation).where(Conversation.id == facts.conversation_id)
                           .values(buyer_language=detected))
        db.session.commit()
    if source is None:
        return None
    existing = db.session.scalar(select(MessageTranslation).filter_by(message_id=facts.message_id, lang=target))
    done = existing is not None and existing.status == "translated"
    db.session.rollback()
    if done:
        return existing
    fields = translation_fields(facts.body, source, target)
    if fields is None:
        return None  # nothing to translate (an order number, a link)
    row = store_translation(MessageTranslation, {"message_id": facts.message_id, "lang": target}, fields)
    if row is None:  # another process stored this message's translation meanwhile
        return None
    payload = {"conversation": facts.conversation, "seq": facts.seq, **translation_payload(row)}
    socketio = current_app.extensions["socketio"]
    socketio.emit(EVENT, payload, to=f"conv:{facts.conversation_id}")
    if facts.sender == "agent" and row.status == "translated":
        socketio.emit(EVENT, payload, to=f"buyer:{facts.conversation_id}")
    return row


def schedule(message: Message) -> None:
    """Queue the translation of a just-stored message (after its commit and broadcast)."""
    if message.internal or not message.body or message.sender not in ("buyer", "agent"):
        return
    if message.translations:  # the agent sent their own translation
        return
    worker(current_app._get_current_object()).submit(translate_message, message.id)


def retry_missing(conversation: Conversation) -> int:
    """Queue again the buyer's last messages that have no translation yet (a process
    restarted before its worker got to them, or a model was installed since). Returns
    how many were queued."""
    messages = db.session.scalars(
        select(Message).where(Message.conversation_id == conversation.id, Message.sender == "buyer",
                              Message.body != "")
        .order_by(Message.seq.desc()).limit(RETRY_ON_JOIN)).all()
    queued = 0
    for message in messages:
        if not any(t.status == "translated" for t in message.translations):
            worker(current_app._get_current_object()).submit(translate_message, message.id)
            queued += 1
    return queued


def preview(conversation: Conversation, agent: Agent, text: object) -> dict:
    """What the buyer would read if ``text`` were sent: ``{"source", "target", "text",
    "engine"}``; ``text`` is unchanged when the buyer reads the agent's language. Runs the
    engine synchronously (the agent is waiting for it), through the cache.

    Raises:
        TranslationUnavailable: the buyer's language is unknown, or no model for the pair
            (``no_translation``), or the engine failed.
        EmptyMessage, MessageTooLong, ChatError: ``text`` is not a message.
    """
    body = clean_body(text)
    target = conversation.buyer_language
    if target is None:
        raise TranslationUnavailable("The buyer's language is not known yet.", "no_buyer_language")
    fallback = agent.languages[0] if agent.languages else agent_language(conversation)
    source = detect(body, fallback).language or fallback
    try:
        result = translate_text(body, source, target)
    except TranslationError as exc:
        raise TranslationUnavailable(str(exc), exc.code) from None
    return {"source": result.source, "target": target, "text": result.text, "engine": result.engine}


def sent_translation(data: object, conversation: Conversation, agent: Agent) -> MessageTranslation | None:
    """The translation an agent sends with a reply (``{"lang", "text"}``, e.g. a preview
    they edited), checked, as an unsaved row with engine ``agent``; ``None`` for none.

    Raises:
        ChatError: not an object with a language tag and a text.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ChatError("translation must be an object with lang and text.")
    try:
        lang = clean_language_tag(data.get("lang") if isinstance(data.get("lang"), str) else "")
    except InvalidInput as exc:
        raise ChatError(str(exc)) from None
    source = agent.languages[0] if agent.languages else agent_language(conversation)
    return MessageTranslation(lang=lang, source_lang=source, status="translated", text=clean_body(data.get("text")),
                              engine="agent")
