"""Chat attachments: images and PDF, checked by :mod:`helpdesk.uploads` (type from the
content, size cap, safe names), kept by :mod:`helpdesk.storage` outside the web root and
reached only through :func:`download_url`, a signed link naming one attachment.
"""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from chat.models import Attachment, Conversation
from chat.service import ChatError
from helpdesk.extensions import db
from helpdesk.models import Agent
from helpdesk.uploads import LinkSigner, store_upload

MAX_PER_MESSAGE = 5
LINKS = LinkSigner("chat-attachment")


def accept_upload(conversation: Conversation, *, data: bytes, filename: object, uploader: str,
                  agent: Agent | None = None) -> Attachment:
    """Check and store one uploaded file for ``conversation``; commits.

    Args:
        data: the file's bytes (the caller reads at most ``CHAT_ATTACHMENT_MAX_BYTES`` + 1).
        uploader: ``"buyer"`` or ``"agent"``.

    Raises:
        helpdesk.uploads.UploadRefused: empty, too large or not an image or PDF.
    """
    attachment = Attachment(conversation_id=conversation.id, uploader=uploader, agent=agent,
                            **store_upload(data, filename, current_app.config["CHAT_ATTACHMENT_MAX_BYTES"]))
    db.session.add(attachment)
    db.session.commit()
    return attachment


def pending_attachments(conversation: Conversation, ids: object, uploader: str) -> list[Attachment]:
    """The uploaded, not yet sent attachments named by ``ids`` (public ids) for a message.

    Raises:
        ChatError: ``ids`` is not a list of at most :data:`MAX_PER_MESSAGE` ids, or one of
            them is not an unsent upload of this side of this conversation.
    """
    if ids is None:
        return []
    if not isinstance(ids, list) or len(ids) > MAX_PER_MESSAGE or not all(isinstance(i, str) for i in ids):
        raise ChatError(f"attachments must be a list of at most {MAX_PER_MESSAGE} attachment ids.")
    found = db.session.scalars(
        select(Attachment).where(Attachment.public_id.in_(ids), Attachment.conversation_id == conversation.id,
                                 Attachment.uploader == uploader, Attachment.message_id.is_(None))
    ).all()
    if len(found) != len(set(ids)):
        raise ChatError(_("An attachment was not found, or was already sent; upload it again."))
    return sorted(found, key=lambda a: ids.index(a.public_id))


def download_url(attachment: Attachment) -> str:
    """A link to the file, signed for this attachment, valid
    :data:`helpdesk.uploads.LINK_MAX_AGE` seconds. Only the conversation's participants
    receive it (in message payloads)."""
    return url_for("chat.attachment", public_id=attachment.public_id, s=LINKS.sign(attachment.public_id))


def attachment_for_link(public_id: str, signature: object) -> Attachment | None:
    """The sent attachment a signed link names, or ``None`` (bad, expired or foreign
    signature)."""
    if not LINKS.valid(public_id, signature):
        return None
    return db.session.scalar(select(Attachment).where(Attachment.public_id == public_id,
                                                      Attachment.message_id.is_not(None)))


def attachment_payload(attachment: Attachment, *, with_url: bool = True) -> dict:
    """An attachment as clients see it (``size`` in bytes); ``url`` only once it is sent."""
    payload = {"id": attachment.public_id, "name": attachment.filename, "content_type": attachment.content_type,
               "size": attachment.size}
    if with_url:
        payload["url"] = download_url(attachment)
    return payload
