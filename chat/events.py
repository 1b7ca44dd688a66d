"""Socket.IO event handlers of the live chat: thin, they authenticate, validate, call
:mod:`chat.service`, and emit. The protocol is documented in ``docs/chat-protocol.md``.

Rooms: ``buyer:<id>`` holds the buyer's connections of conversation ``<id>``;
``conv:<id>`` the agents looking at it; ``agents`` every connected agent (inbox updates).
Every handler answers with an acknowledgement ``{"ok": true, ...}`` or
``{"ok": false, "error": {"code", "message"}}``; nothing is dropped silently.
"""
from __future__ import annotations

import functools
import logging

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room, leave_room, rooms
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from chat import routing, service
from chat import translation as chat_translation
from chat.attachments import attachment_payload
from chat.models import Conversation, Message
from chat.offline import leave_message, open_ticket
from chat.tokens import read_buyer_token
from helpdesk.extensions import db
from helpdesk.models import Agent

log = logging.getLogger(__name__)

_limiter = MovingWindowRateLimiter(MemoryStorage())
EVENTS: dict[str, object] = {}


def message_payload(message: Message) -> dict:
    """A message as clients receive it (times in ISO 8601 UTC); ``translations`` are
    those stored so far (more may follow as ``message:translated``)."""
    return {
        "id": message.id,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": message.sender,
        "agent_name": message.agent.display_name if message.agent else None,
        "internal": message.internal,
        "body": message.body,
        "attachments": [attachment_payload(a) for a in message.attachments],
        "translations": [chat_translation.translation_payload(t) for t in message.translations],
        "created_at": message.created_at.isoformat(),
    }


def conversation_payload(conversation: Conversation) -> dict:
    """A conversation's state for the inbox and the conversation view."""
    return {
        "id": conversation.public_id,
        "status": conversation.status,
        "buyer_name": conversation.buyer_name,
        "buyer_email": conversation.buyer_email,
        "assignee": conversation.assignee.display_name if conversation.assignee else None,
        "assignee_id": conversation.assignee_id,
        "last_seq": conversation.last_seq,
        "buyer_read_seq": conversation.buyer_read_seq,
        "agent_read_seq": conversation.agent_read_seq,
        "updated_at": conversation.updated_at.isoformat(),
    }


@functools.lru_cache(maxsize=8)
def _rate(text: str):
    return parse(text)


def error(code: str, message: str) -> dict:
    """An error acknowledgement: a stable ``code`` for programs, a ``message`` for people."""
    return {"ok": False, "error": {"code": code, "message": message}}


def handler(name: str, *, role: str):
    """Register a Socket.IO event for ``role`` (``buyer``, ``agent`` or ``any``) that takes
    one JSON object; chat errors become error acknowledgements, never dropped events."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(data=None, *extra):
            if not _limiter.hit(_rate(current_app.config["CHAT_EVENT_RATE_LIMIT"]), request.sid):
                return error("rate_limited", "Too many messages at once; wait a few seconds.")
            who = session.get("chat_role")
            if role != "any" and who != role:
                return error("forbidden", "This connection may not do that.")
            if not isinstance(data, dict) or extra:
                return error("bad_request", f"'{name}' takes one JSON object.")
            if _has_surrogates(data):
                return error("bad_request", "The text holds invalid characters (lone UTF-16 surrogates).")
            try:
                if who == "agent":
                    _agent()
                return func(data)
            except service.ChatError as exc:
                db.session.rollback()
                return error(exc.code, str(exc))
            except Exception:
                db.session.rollback()
                log.exception("chat event failed", extra={"event": name})
                return error("internal_error", "Something went wrong on our side; please try again.")
            finally:
                db.session.remove()

        EVENTS[name] = wrapper
        return wrapper

    return decorate


def _has_surrogates(value) -> bool:
    """True when a lone UTF-16 surrogate hides anywhere in a JSON value (JSON allows
    ``"\\ud800"``; no database can store it)."""
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_surrogates(k) or _has_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogates(v) for v in value)
    return False


def connect(auth=None):
    """Buyers connect with ``auth={"token": ...}``; agents with their signed-in session."""
    if session.get("chat_role"):  # an event named "connect" on a live connection
        return error("bad_request", "Already connected.")
    try:
        token = auth.get("token") if isinstance(auth, dict) else None
        if token is not None:
            public_id = read_buyer_token(token)
            if public_id is None:
                raise ConnectionRefusedError("unauthorized")
            conversation = service.find_conversation(public_id)
            session["chat_role"], session["conversation_id"] = "buyer", conversation.id
            join_room(f"buyer:{conversation.id}")
        elif current_user.is_authenticated:
            session["chat_role"], session["agent_id"] = "agent", current_user.id
            session["agent_token"] = current_user.session_token
            session["agent_name"] = current_user.display_name
            join_room("agents")
            join_room(f"agent:{current_user.id}")
        else:
            raise ConnectionRefusedError("unauthorized")
    except service.ConversationNotFound:
        raise ConnectionRefusedError("unauthorized") from None
    finally:
        db.session.remove()


def unexpected(exc):
    """Last resort for an error outside the handlers above: logged, answered, not raised."""
    log.exception("socket.io error", exc_info=exc)
    return error("internal_error", "Something went wrong on our side; please try again.")


def disconnect(reason=None):
    """A closed tab or a lost network: whoever it was stops typing and viewing."""
    who = session.get("chat_role")
    for room in rooms():
        if room.startswith("conv:") and who == "agent":
            emit("presence", {"agent": session.get("agent_name", ""), "viewing": False}, to=room)
            emit("typing", {"sender": "agent", "typing": False}, to=room.replace("conv:", "buyer:"))
        elif room.startswith("buyer:"):
            emit("typing", {"sender": "buyer", "typing": False}, to=room.replace("buyer:", "conv:"))


def unknown_event(event, *args):
    """Events the protocol does not have are answered, not ignored."""
    return error("unknown_event", f"There is no event {str(event)[:50]!r}.")


def register(socketio: SocketIO) -> None:
    """Attach the chat's connect check and events to one app's ``SocketIO``."""
    socketio.on_event("connect", connect)
    socketio.on_event("disconnect", disconnect)
    socketio.on_event("*", unknown_event)
    socketio.on_error_default(unexpected)
    for name, func in EVENTS.items():
        socketio.on_event(name, func)


def _buyer_conversation() -> Conversation:
    return db.session.get(Conversation, session["conversation_id"])


def _agent() -> Agent:
    """The connection's agent, while still signed in (signing out or a password change
    rotates the session token and ends every open chat connection's rights)."""
    agent = db.session.get(Agent, session["agent_id"])
    if agent is None or not agent.active or agent.session_token != session.get("agent_token"):
        raise service.SignedOut("You are signed out; sign in again to go on.")
    return agent


def _flag(data: dict, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise service.ChatError(f"{key} must be true or false.")
    return value


def _route() -> None:
    """Give waiting conversations to agents with room, tell everyone concerned, and tell
    each waiting buyer their place in the queue."""
    for done in routing.assign_waiting():
        payload = conversation_payload(done.conversation)
        emit("conversation", payload, to="agents")
        emit("assigned", payload, to=f"agent:{done.agent.id}")
        emit("agent", {"name": done.agent.display_name}, to=f"buyer:{done.conversation.id}")
    online = routing.online_agents()
    for conversation, place in routing.queue_positions():
        emit("queue", {"position": place, "agents_online": online}, to=f"buyer:{conversation.id}")


def _broadcast(conversation: Conversation, message: Message, *, news: bool) -> None:
    """Send a stored message to every other connection of the conversation (the sender's
    own connection has it in its acknowledgement; its other tabs get it here).

    Every agent's inbox hears of the conversation only when it is ``news`` (its first
    message, or one that reopened it); otherwise only the assignee's: a fan-out to every
    agent on every message would grow with agents × messages (inboxes refresh on it)."""
    payload = message_payload(message)
    emit("message", payload, to=f"conv:{conversation.id}", skip_sid=request.sid)
    if not message.internal:
        emit("message", payload, to=f"buyer:{conversation.id}", skip_sid=request.sid)
    state = conversation_payload(conversation)
    if news:
        emit("conversation", state, to="agents")
    elif conversation.assignee_id:
        emit("conversation", state, to=f"agent:{conversation.assignee_id}")


@handler("message:send", role="any")
def send(data):
    """Store a message (once per ``client_id``), then acknowledge and broadcast it, then
    queue its translation (delivered later as ``message:translated``). A buyer's first
    message (or one reopening a closed chat) puts it in the queue. An agent may send
    their own ``translation`` (``{"lang", "text"}``) with it, or ``translate: false``."""
    was_closed = False
    translate = True
    if session.get("chat_role") == "buyer":
        conversation = _buyer_conversation()
        was_closed = conversation.status == "closed"
        message, created = service.post_message(conversation, sender="buyer", body=data.get("body"),
                                                client_id=data.get("client_id"), attachments=data.get("attachments"))
    else:
        conversation = service.find_conversation(data.get("conversation"))
        agent = _agent()
        translate = _flag(data, "translate") if "translate" in data else True
        translation = chat_translation.sent_translation(data.get("translation"), conversation, agent)
        message, created = service.post_message(conversation, sender="agent", body=data.get("body"),
                                                client_id=data.get("client_id"), agent=agent,
                                                internal=_flag(data, "internal"), attachments=data.get("attachments"),
                                                translation=translation)
    if created:
        _broadcast(conversation, message, news=message.seq == 1 or was_closed)
        if message.sender == "buyer" and conversation.assignee_id is None and (message.seq == 1 or was_closed):
            _route()  # the conversation has just joined the queue
            if not routing.online_agents():
                ticket = leave_message(conversation, message)
                if ticket is not None:
                    emit("queue", {"position": routing.queue_position(conversation), "agents_online": 0,
                                   "ticket": ticket.id}, to=f"buyer:{conversation.id}")
        if translate:
            chat_translation.schedule(message)
    return {"ok": True, "message": message_payload(message), "duplicate": not created}


@handler("history", role="any")
def history(data):
    """Messages after ``after_seq``, in order: what a client missed while away."""
    buyer = session.get("chat_role") == "buyer"
    conversation = _buyer_conversation() if buyer else service.find_conversation(data.get("conversation"))
    messages = service.history(conversation, after_seq=data.get("after_seq", 0), include_internal=not buyer)
    return {"ok": True, "messages": [message_payload(m) for m in messages], "last_seq": conversation.last_seq,
            "conversation": conversation_payload(conversation),
            "queue": {"position": routing.queue_position(conversation), "agents_online": routing.online_agents(),
                      "ticket": ticket.id if (ticket := open_ticket(conversation)) else None}}


@handler("typing", role="any")
def typing(data):
    """Tell the other side someone is typing (``{"typing": true|false}``)."""
    busy = _flag(data, "typing")
    if session.get("chat_role") == "buyer":
        conversation = _buyer_conversation()
        emit("typing", {"sender": "buyer", "typing": busy}, to=f"conv:{conversation.id}")
    else:
        conversation = service.find_conversation(data.get("conversation"))
        name = _agent().display_name
        emit("typing", {"sender": "agent", "name": name, "typing": busy}, to=f"buyer:{conversation.id}")
        emit("typing", {"sender": "agent", "name": name, "typing": busy}, to=f"conv:{conversation.id}",
             include_self=False)
    return {"ok": True}


@handler("read", role="any")
def read(data):
    """Record how far the reader has read (``{"seq": n}``) and tell the other side."""
    buyer = session.get("chat_role") == "buyer"
    conversation = _buyer_conversation() if buyer else service.find_conversation(data.get("conversation"))
    mark = service.mark_read(conversation, "buyer" if buyer else "agent", data.get("seq"))
    room = f"conv:{conversation.id}" if buyer else f"buyer:{conversation.id}"
    emit("read", {"reader": "buyer" if buyer else "agent", "seq": mark}, to=room)
    return {"ok": True, "seq": mark}


@handler("conversation:join", role="agent")
def watch(data):
    """An agent opens a conversation: receive its messages, notes and typing."""
    conversation = service.find_conversation(data.get("conversation"))
    join_room(f"conv:{conversation.id}")
    emit("presence", {"agent": _agent().display_name, "viewing": True}, to=f"conv:{conversation.id}",
         include_self=False)
    chat_translation.retry_missing(conversation)
    return {"ok": True, "conversation": conversation_payload(conversation)}


@handler("translate:preview", role="agent")
def translate_preview(data):
    """What the buyer would read: ``{"conversation", "text"}`` → ``{"source", "target",
    "text", "engine"}`` (the agent may edit it and send it as ``translation``)."""
    conversation = service.find_conversation(data.get("conversation"))
    return {"ok": True, **chat_translation.preview(conversation, _agent(), data.get("text"))}


@handler("conversation:leave", role="agent")
def unwatch(data):
    """An agent leaves a conversation view; the others see it."""
    conversation = service.find_conversation(data.get("conversation"))
    leave_room(f"conv:{conversation.id}")
    emit("presence", {"agent": _agent().display_name, "viewing": False}, to=f"conv:{conversation.id}")
    return {"ok": True, "conversation": conversation_payload(conversation)}


@handler("conversation:claim", role="agent")
def claim(data):
    """Take the conversation; exactly one of two agents claiming at once succeeds."""
    conversation = service.claim(service.find_conversation(data.get("conversation")), _agent())
    payload = conversation_payload(conversation)
    emit("conversation", payload, to="agents")
    emit("agent", {"name": conversation.assignee.display_name}, to=f"buyer:{conversation.id}")
    return {"ok": True, "conversation": payload}


@handler("conversation:close", role="agent")
def close(data):
    """Close the conversation; the buyer is told (writing again reopens it)."""
    conversation = service.set_status(service.find_conversation(data.get("conversation")), "closed")
    emit("conversation", conversation_payload(conversation), to="agents")
    emit("closed", {}, to=f"buyer:{conversation.id}")
    _route()  # the assignee has room again
    return {"ok": True, "conversation": conversation_payload(conversation)}


@handler("conversation:reopen", role="agent")
def reopen(data):
    """Reopen a closed conversation."""
    conversation = service.set_status(service.find_conversation(data.get("conversation")), "open")
    emit("conversation", conversation_payload(conversation), to="agents")
    emit("reopened", {}, to=f"buyer:{conversation.id}")
    return {"ok": True, "conversation": conversation_payload(conversation)}


@handler("conversation:transfer", role="agent")
def transfer(data):
    """Hand the conversation to another agent (``{"agent": id}``) or back to the queue
    (``{"agent": null}``); the new assignee, the buyer and the inboxes are told."""
    if "agent" not in data:
        raise service.ChatError("agent must be an agent's id, or null for back to the queue.")
    target = data["agent"]
    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        raise service.ChatError("agent must be an agent's id (a number), or null for back to the queue.")
    conversation = service.transfer(service.find_conversation(data.get("conversation")), _agent(), target)
    payload = conversation_payload(conversation)
    emit("conversation", payload, to="agents")
    if conversation.assignee:
        emit("assigned", payload, to=f"agent:{conversation.assignee_id}")
        emit("agent", {"name": conversation.assignee.display_name}, to=f"buyer:{conversation.id}")
    else:
        emit("agent", {"name": None}, to=f"buyer:{conversation.id}")
        _route()
    return {"ok": True, "conversation": payload}


@handler("agent:status", role="agent")
def agent_status(data):
    """The console's heartbeat (every 30 s), optionally changing ``availability``
    (``available`` or ``away``) and ``max_chats``. An available agent with room takes
    waiting chats, and waiting buyers hear how many agents are online."""
    agent = routing.heartbeat(_agent(), data.get("availability"), data.get("max_chats"))
    if agent.availability == "available" or "availability" in data:
        _route()
    return {"ok": True, "availability": agent.availability, "max_chats": agent.max_chats,
            "open_chats": routing.open_load(agent.id), "agents_online": routing.online_agents()}
