"""Checks and links shared by every uploaded file (chat attachments, ticket evidence).

* The type is decided by the file's content (its magic bytes, via the ``filetype``
  library), never by its name or the browser's claimed type: images (PNG, JPEG, GIF,
  WebP) and PDF only. SVG and HTML are refused: a browser could run script in them.
* Files are kept by :mod:`helpdesk.storage` outside the web root and reached only through
  a signed link naming one file (:class:`LinkSigner`), served by :func:`send_upload`
  with ``nosniff``, a sandboxing Content-Security-Policy and a safe download name.
"""
from __future__ import annotations

from datetime import datetime

import filetype
from flask import Response, current_app, send_file
from flask_babel import format_number
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.dbtypes import UTCDateTime, new_public_id, utcnow
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
LINK_MAX_AGE = 7 * 24 * 3600  # seconds; a page shown again gets fresh links


class UploadRefused(ValueError):
    """A file that cannot be kept. ``code`` is stable for clients, ``status`` the HTTP
    status to answer with, the message is for people."""

    code = "bad_file"
    status = 400


class EmptyFile(UploadRefused):
    code = "empty_file"


class FileTooLarge(UploadRefused):
    code = "file_too_large"
    status = 413


class UnsupportedType(UploadRefused):
    code = "unsupported_type"
    status = 415


def clean_filename(name: object) -> str:
    """A display name for an uploaded file: its last path part, control characters and
    surrounding spaces removed, at most 255 characters (keeps CJK, RTL and emoji)."""
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    text = "".join(c for c in text if not has_control_characters(c))[:255]
    return text or "attachment"


def sniff(data: bytes, limit: int) -> str:
    """The content type of an uploaded file, found in its bytes.

    Args:
        data: the file's bytes (callers read at most ``limit`` + 1 of them).
        limit: the largest size accepted, in bytes.

    Raises:
        EmptyFile, FileTooLarge, UnsupportedType: as named, with a message for people.
    """
    if not data:
        raise EmptyFile(_("The file is empty."))
    if len(data) > limit:
        raise FileTooLarge(_("The file is larger than %(size)s MB.", size=format_number(round(limit / 1024 / 1024))))
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise UnsupportedType(_("Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent."))
    return kind.mime


class StoredFile:
    """Columns of an uploaded file (a model mixin): ``public_id`` for links, who uploaded
    it (``uploader``: ``buyer`` or ``agent``, ``agent_id``), the cleaned ``filename``,
    the ``content_type`` found in its bytes, ``size`` in bytes, the hex ``sha256`` of the
    bytes kept in :mod:`helpdesk.storage` under ``storage_key`` (outside the web root)."""

    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    uploader: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def store_upload(data: bytes, filename: object, limit: int) -> dict:
    """Check an uploaded file (:func:`sniff`) and keep it in storage; returns the
    :class:`StoredFile` columns it fills (``filename``, ``content_type``, ``size``,
    ``sha256``, ``storage_key``).

    Raises:
        EmptyFile, FileTooLarge, UnsupportedType: as named (nothing is stored).
    """
    content_type = sniff(data, limit)
    stored = storage().save(data)
    return {"filename": clean_filename(filename), "content_type": content_type, "size": stored.size,
            "sha256": stored.sha256, "storage_key": stored.key}


def download_name(filename: str, content_type: str) -> str:
    """The file name to save as: the uploaded name with the extension of the type found in
    the content (``magic.html`` holding a PNG downloads as ``magic.html.png``)."""
    extension = ALLOWED_TYPES[content_type]
    if filename.lower().endswith("." + extension) or (extension == "jpg" and filename.lower().endswith(".jpeg")):
        return filename
    return f"{filename}.{extension}"


class LinkSigner:
    """Signs a file's public id for links; ``salt`` keeps one kind of link (chat, ticket
    evidence) from opening another kind's files."""

    def __init__(self, salt: str):
        self.salt = salt

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def sign(self, public_id: str) -> str:
        """The signature to put in the link's ``s`` parameter."""
        return self._serializer().dumps(public_id)

    def valid(self, public_id: str, signature: object, max_age: int = LINK_MAX_AGE) -> bool:
        """True when ``signature`` was made for ``public_id`` less than ``max_age``
        seconds ago by this app with this salt."""
        if not isinstance(signature, str) or len(signature) > 300 or len(public_id) > 32:
            return False
        try:
            return self._serializer().loads(signature, max_age=max_age) == public_id
        except BadSignature:
            return False


def send_upload(storage_key: str, *, content_type: str, filename: str) -> Response:
    """Stream a stored file: images inline, PDFs as a download named by
    :func:`download_name`; never sniffed (``nosniff`` is global), sandboxed
    (``Content-Security-Policy: default-src 'none'; sandbox``), private to caches."""
    response = send_file(storage().path(storage_key), mimetype=content_type,
                         download_name=download_name(filename, content_type),
                         as_attachment=content_type not in INLINE_TYPES, max_age=3600, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
