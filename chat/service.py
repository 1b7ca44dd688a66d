"""Chat domain logic: starting conversations, storing messages exactly once and in order,
claiming and closing. No Flask request in sight; Socket.IO handlers and views call these.

Every function that changes something commits before it returns, so a caller may
acknowledge and broadcast what it got back.
"""
from __future__ import annotations

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm import selectinload

from chat.models import Conversation, Message, MessageTranslation
from chat.signals import conversation_closed
from helpdesk.console.queries import order_number_variants
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.marketplace.sync import normalise_email
from helpdesk.models import Agent, Customer, CustomerAccount, Order, Store
from helpdesk.text import has_control_characters, is_blank, isolate

MAX_MESSAGE_LENGTH = 5000
MAX_CLIENT_ID = 64
MAX_SEQ = 2**62  # beyond any conversation, inside what both databases compare


class ChatError(ValueError):
    """A request the chat refuses; ``code`` is stable for clients, the message is for people."""

    code = "bad_request"


class EmptyMessage(ChatError):
    code = "empty_message"


class MessageTooLong(ChatError):
    code = "message_too_long"


class InvalidClientId(ChatError):
    code = "invalid_client_id"


class ConversationNotFound(ChatError):
    code = "not_found"


class AlreadyClaimed(ChatError):
    code = "already_claimed"


class BuyerNotIdentified(ChatError):
    code = "not_identified"


class NoEmail(ChatError):
    code = "invalid_email"


class SignedOut(ChatError):
    code = "signed_out"


class NotAllowed(ChatError):
    code = "forbidden"


class AgentNotFound(ChatError):
    code = "agent_not_found"


def clean_body(body: object, *, may_be_empty: bool = False) -> str:
    """The text of a message: a string, not blank (unless ``may_be_empty``: a message
    carrying attachments), at most :data:`MAX_MESSAGE_LENGTH` characters, without control
    characters other than newlines and tabs. Never truncated.

    Raises:
        EmptyMessage, MessageTooLong, ChatError: as named.
    """
    if body is None and may_be_empty:
        body = ""
    if not isinstance(body, str):
        raise ChatError(_("A message must be text."))
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if is_blank(text):
        if may_be_empty:
            return ""
        raise EmptyMessage(_("The message is empty."))
    if len(text) > MAX_MESSAGE_LENGTH:
        raise MessageTooLong(_("The message is %(length)s characters long; the limit is %(limit)s.",
                               length=format_number(len(text)), limit=format_number(MAX_MESSAGE_LENGTH)))
    if has_control_characters(text, allowed="\n\t"):
        raise ChatError(_("The message contains control characters."))
    return text


def clean_client_id(client_id: object) -> str:
    """The sender's id for a message (1–64 printable characters, typically a UUID).

    Raises:
        InvalidClientId: missing or malformed.
    """
    if (not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID or not client_id.strip()
            or not client_id.isprintable()):
        raise InvalidClientId("Each message needs a client_id of 1 to 64 characters.")
    return client_id


def start_conversation(*, email: str | None, name: str = "", order_number: str | None = None,
                       language: str | None = None,
                       verified: tuple[Store, CustomerAccount | None] | None = None) -> Conversation:
    """Open a conversation for a buyer.

    Identification, strongest first:

    - ``verified``: the store and account from :func:`chat.identity.verify_buyer` (a buyer
      signed in on the storefront). The account's buyer and orders are shown; ``email``
      may be omitted when the stored buyer has one.
    - ``order_number`` with ``email``: the order must exist with that e-mail; the
      conversation shows it and its buyer.
    - ``email`` alone: kept as the buyer said it, linked to no stored buyer (anyone can
      type an address).

    An order number is always checked against the identified buyer.

    Raises:
        BuyerNotIdentified: no order with that number belongs to that buyer.
        NoEmail: there is no e-mail address to answer to.
    """
    conversation = Conversation(buyer_name=" ".join((name or "").split()), buyer_language=language)
    if verified:
        conversation.store, account = verified
        if account:
            conversation.customer = account.customer
            email = email or account.customer.email
    if not email:
        raise NoEmail(_("Please enter a valid e-mail address."))
    conversation.buyer_email = email = normalise_email(email)
    if order_number:
        stmt = select(Order).where(Order.number.in_(order_number_variants(order_number.strip())))
        if conversation.customer:
            stmt = stmt.where(Order.customer_id == conversation.customer.id)
        else:
            stmt = stmt.join(Customer, Order.customer_id == Customer.id).where(Customer.email == email)
        order = db.session.scalar(stmt.order_by(Order.placed_at.desc()))
        if order is None:
            raise BuyerNotIdentified(_("We found no order with that number for that e-mail address."))
        conversation.order, conversation.customer, conversation.store = order, order.customer, order.store
    if conversation.customer:
        conversation.buyer_name = conversation.buyer_name or conversation.customer.name
    db.session.add(conversation)
    db.session.commit()
    return conversation


def find_conversation(public_id: object) -> Conversation:
    """The conversation with this public id.

    Raises:
        ChatError: the id is not text.
        ConversationNotFound: no such conversation.
    """
    if not isinstance(public_id, str):
        raise ChatError("conversation must be the conversation's id (text).")
    conversation = None
    if 0 < len(public_id) <= 32:
        conversation = db.session.scalar(select(Conversation).filter_by(public_id=public_id))
    if conversation is None:
        raise ConversationNotFound(_("There is no such conversation."))
    return conversation


def post_message(conversation: Conversation, *, sender: str, body: object, client_id: object,
                 agent: Agent | None = None, internal: bool = False,
                 attachments: object = None,
                 translation: MessageTranslation | None = None) -> tuple[Message, bool]:
    """Store a message exactly once and give it the conversation's next sequence number.

    ``attachments`` is a list of public ids of files this side uploaded to this
    conversation and has not sent yet (see :mod:`chat.attachments`); with attachments
    the text may be empty. ``translation`` (unsaved) is stored with the message, in the
    same transaction: what an agent sent the buyer besides the original.

    The sequence number comes from one atomic ``UPDATE ... RETURNING`` on the conversation
    row, so concurrent senders (even in other processes) never share a number. A buyer's
    message reopens a closed conversation.

    Returns:
        ``(message, created)``; ``created`` is False when ``client_id`` was seen before
        and the stored message is returned unchanged.

    Raises:
        EmptyMessage, MessageTooLong, InvalidClientId, ChatError: see :func:`clean_body`
            and :func:`chat.attachments.pending_attachments`.
    """
    from chat.attachments import pending_attachments

    client_id = clean_client_id(client_id)
    existing = _message_by_client_id(conversation, sender, client_id)
    if existing is not None:
        return existing, False
    files = pending_attachments(conversation, attachments, sender)
    text = clean_body(body, may_be_empty=bool(files))
    now = utcnow()
    values = {"last_seq": Conversation.last_seq + 1, "updated_at": now}
    if conversation.status == "closed" and not internal:
        values.update(status="open", closed_at=None)  # a new message to or from the buyer reopens it
    seq = db.session.execute(
        update(Conversation).where(Conversation.id == conversation.id).values(**values).returning(Conversation.last_seq)
    ).scalar_one()
    message = Message(conversation_id=conversation.id, seq=seq, client_id=client_id, sender=sender,
                      agent=agent, internal=internal and sender == "agent", body=text, created_at=now,
                      attachments=files, translations=[translation] if translation is not None else [])
    db.session.add(message)
    session = db.session()
    session.expire_on_commit = False  # the caller sends on what was just written: nothing to reload
    try:
        session.commit()
    except IntegrityError:  # the same client_id raced in from another connection
        db.session.rollback()
        return _message_by_client_id(conversation, sender, client_id), False
    finally:
        session.expire_on_commit = True
    for key, value in {**values, "last_seq": seq}.items():  # what the UPDATE wrote, without reading it back
        set_committed_value(conversation, key, value)
    return message, True


def _message_by_client_id(conversation: Conversation, sender: str, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).filter_by(conversation_id=conversation.id, sender=sender, client_id=client_id)
    )


def history(conversation: Conversation, *, after_seq: object = 0, include_internal: bool) -> list[Message]:
    """Messages after ``after_seq`` in sequence order (internal notes only for agents).

    Raises:
        ChatError: ``after_seq`` is not a whole number ≥ 0.
    """
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or not 0 <= after_seq <= MAX_SEQ:
        raise ChatError("after_seq must be a whole number, 0 or more.")
    stmt = (select(Message).where(Message.conversation_id == conversation.id, Message.seq > after_seq)
            .options(selectinload(Message.translations)))
    if not include_internal:
        stmt = stmt.where(Message.internal.is_(False))
    return list(db.session.scalars(stmt.order_by(Message.seq)))


def claim(conversation: Conversation, agent: Agent) -> Conversation:
    """Make ``agent`` the assignee if nobody is; the database decides between two agents
    claiming at the same moment (``UPDATE ... WHERE assignee_id IS NULL``).

    Raises:
        AlreadyClaimed: another agent holds it.
    """
    won = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.assignee_id.is_(None))
        .values(assignee_id=agent.id, updated_at=utcnow())
    ).rowcount
    db.session.commit()
    db.session.refresh(conversation)
    if not won and conversation.assignee_id != agent.id:
        raise AlreadyClaimed(_("%(name)s already took this conversation.", name=isolate(conversation.assignee.display_name)))
    return conversation


def transfer(conversation: Conversation, by: Agent, to: object) -> Conversation:
    """Hand the conversation to the agent with id ``to`` (or back to the queue with
    ``None``). The assignee, a manager or an admin may do it; anyone may while nobody
    holds it. A manual transfer may exceed the receiver's ``max_chats`` (a manager's call).

    Raises:
        NotAllowed: ``by`` may not move a conversation another agent holds.
        AgentNotFound: ``to`` is not an active agent's id.
    """
    if conversation.assignee_id not in (None, by.id) and by.role not in ("manager", "admin"):
        raise NotAllowed(_("Only %(name)s or a manager can transfer this conversation.",
                           name=isolate(conversation.assignee.display_name)))
    target = None
    if to is not None:
        target = db.session.get(Agent, to) if isinstance(to, int) and not isinstance(to, bool) else None
        if target is None or not target.active:
            raise AgentNotFound(_("There is no such agent to transfer to."))
    conversation.assignee = target
    conversation.updated_at = utcnow()
    db.session.commit()
    return conversation


def set_status(conversation: Conversation, status: str) -> Conversation:
    """Close (``"closed"``) or reopen (``"open"``) a conversation; closing sends
    :data:`chat.signals.conversation_closed` after the commit."""
    now = utcnow()
    conversation.status = status
    conversation.closed_at = now if status == "closed" else None
    conversation.updated_at = now
    db.session.commit()
    if status == "closed":
        conversation_closed.send(conversation, at=now)
    return conversation


def mark_read(conversation: Conversation, reader: str, seq: object) -> int:
    """Record that ``reader`` (``buyer`` or ``agent``) has seen messages up to ``seq``;
    read marks only move forward. Returns the stored mark.

    Raises:
        ChatError: ``seq`` is not a whole number.
    """
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise ChatError("seq must be a whole number, 0 or more.")
    column = "buyer_read_seq" if reader == "buyer" else "agent_read_seq"
    mark = min(max(getattr(conversation, column), seq), conversation.last_seq)
    setattr(conversation, column, mark)
    db.session.commit()
    return mark
