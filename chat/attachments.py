"""Chat attachments: images (PNG, JPEG, GIF, WebP) and PDF, with the type decided by the
file's content (its magic bytes, via the ``filetype`` library), never by its name or the
browser's claimed type. SVG and HTML are refused: a browser could run script in them.

Files are kept by :mod:`helpdesk.storage` outside the web root and reached only through
:func:`download_url`, a signed link naming one attachment.
"""
from __future__ import annotations

import filetype
from flask import current_app, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from chat.models import Attachment, Conversation
from chat.service import ChatError
from helpdesk.extensions import db
from helpdesk.models import Agent
from helpdesk.storage import storage
from helpdesk.text import has_control_characters

ALLOWED_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_PER_MESSAGE = 5
LINK_MAX_AGE = 7 * 24 * 3600  # seconds; a client fetching history again gets fresh links
SALT = "chat-attachment"


class UnsupportedType(ChatError):
    code = "unsupported_type"


class FileTooLarge(ChatError):
    code = "file_too_large"


class EmptyFile(ChatError):
    code = "empty_file"


def clean_filename(name: object) -> str:
    """A display name for an uploaded file: its last path part, control characters and
    surrounding spaces removed, at most 255 characters (keeps CJK, RTL and emoji)."""
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    text = "".join(c for c in text if not has_control_characters(c))[:255]
    return text or "attachment"


def accept_upload(conversation: Conversation, *, data: bytes, filename: object, uploader: str,
                  agent: Agent | None = None) -> Attachment:
    """Check and store one uploaded file for ``conversation``; commits.

    Args:
        data: the file's bytes (the caller reads at most ``CHAT_ATTACHMENT_MAX_BYTES`` + 1).
        uploader: ``"buyer"`` or ``"agent"``.

    Raises:
        EmptyFile, FileTooLarge, UnsupportedType: as named, with a message for people.
    """
    limit = current_app.config["CHAT_ATTACHMENT_MAX_BYTES"]
    if not data:
        raise EmptyFile(_("The file is empty."))
    if len(data) > limit:
        raise FileTooLarge(_("The file is larger than %(size)s MB.", size=format_number(round(limit / 1024 / 1024))))
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise UnsupportedType(_("Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent."))
    stored = storage().save(data)
    attachment = Attachment(conversation_id=conversation.id, uploader=uploader, agent=agent,
                            filename=clean_filename(filename), content_type=kind.mime, size=stored.size,
                            sha256=stored.sha256, storage_key=stored.key)
    db.session.add(attachment)
    db.session.commit()
    return attachment


def download_name(attachment: Attachment) -> str:
    """The file name to save as: the uploaded name with the extension of the type found in
    the content (``magic.html`` holding a PNG downloads as ``magic.html.png``)."""
    extension = ALLOWED_TYPES[attachment.content_type]
    name = attachment.filename
    if name.lower().endswith("." + extension) or (extension == "jpg" and name.lower().endswith(".jpeg")):
        return name
    return f"{name}.{extension}"


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


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def download_url(attachment: Attachment) -> str:
    """A link to the file, signed for this attachment, valid :data:`LINK_MAX_AGE` seconds.
    Only the conversation's participants receive it (in message payloads)."""
    return url_for("chat.attachment", public_id=attachment.public_id, s=_signer().dumps(attachment.public_id))


def attachment_for_link(public_id: str, signature: object) -> Attachment | None:
    """The attachment a signed link names, or ``None`` (bad, expired or foreign signature)."""
    if not isinstance(signature, str) or len(signature) > 300:
        return None
    try:
        if _signer().loads(signature, max_age=LINK_MAX_AGE) != public_id:
            return None
    except BadSignature:
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
