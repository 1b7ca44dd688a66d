"""Live chat: conversations between a buyer and the seller's agents, and their messages.

Every message is stored before it is acknowledged or broadcast. ``Message.seq`` numbers
the messages of one conversation 1, 2, 3, ... (the server's order); ``client_id`` is the
sender's own id for the message, unique per conversation and sender, so a retried send
never stores a second copy.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, new_public_id, utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent, Customer, Order, Store
from helpdesk.translation.models import StoredTranslation
from helpdesk.uploads import StoredFile

CONVERSATION_STATUSES = ("open", "closed")
SENDERS = ("buyer", "agent", "system")


class Conversation(db.Model):
    """A chat with one buyer. ``assignee_id`` is the one agent who owns it (claiming sets
    it only while it is empty, so two agents can never both hold it). ``last_seq`` is the
    sequence number of the newest message."""

    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_status_assignee", "status", "assignee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"))
    buyer_name: Mapped[str] = mapped_column(String(120), default="")
    buyer_email: Mapped[str | None] = mapped_column(String(254))
    buyer_language: Mapped[str | None] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    last_seq: Mapped[int] = mapped_column(default=0)
    buyer_read_seq: Mapped[int] = mapped_column(default=0)
    agent_read_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    store: Mapped[Store | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    order: Mapped[Order | None] = relationship()
    assignee: Mapped[Agent | None] = relationship()


class Message(db.Model):
    """One message. ``sender`` is ``buyer``, ``agent`` or ``system``; ``internal`` marks an
    agent's note that the buyer never receives."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "sender", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"))
    seq: Mapped[int]
    client_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agent: Mapped[Agent | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message", order_by="Attachment.id")
    translations: Mapped[list[MessageTranslation]] = relationship(back_populates="message",
                                                                  order_by="MessageTranslation.id")


class MessageTranslation(StoredTranslation, db.Model):
    """A message in another language (see :mod:`chat.translation`); the original stays in
    ``Message.body``. One per message and target language ``lang``; the columns are those
    of :class:`~helpdesk.translation.models.StoredTranslation`, where ``engine`` ``agent``
    marks a translation the agent wrote or edited before sending, and ``source_lang`` is
    the detected language (or the conversation's).
    """

    __tablename__ = "message_translation"
    __table_args__ = (UniqueConstraint("message_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)

    message: Mapped[Message] = relationship(back_populates="translations")


class Attachment(StoredFile, db.Model):
    """A file sent in a conversation (an image or a PDF, type checked by its content).

    Uploaded first (``message_id`` empty), then attached to the message that sends it.
    The bytes live in the attachment storage under ``storage_key``, outside the web root;
    ``sha256`` is the hex digest of the stored bytes. ``size`` is in bytes.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)

    message: Mapped[Message | None] = relationship(back_populates="attachments")
    agent: Mapped[Agent | None] = relationship()


class CannedReply(db.Model):
    """A saved answer (a macro) agents insert into a reply. ``body`` may hold the
    placeholders of :data:`chat.macros.PLACEHOLDERS`, filled in for each conversation."""

    __tablename__ = "canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
