"""The reference for bench/chat.py: a bare python-socketio relay with no database, no
authentication and no validation, speaking the same events as the helpdesk's chat
(``message:send``, ``conversation:join``, ``conversation:claim``), served the same way
(``gunicorn -k gevent -w 1 bench.relay:app``; ``RELAY_QUEUE=redis://...`` joins
processes like ``SOCKETIO_MESSAGE_QUEUE``).

Buyers connect with ``auth={"conversation": id}``, agents with ``auth={"agent": true}``.
"""
from gevent import monkey

monkey.patch_all()

import itertools  # noqa: E402
import os  # noqa: E402

import socketio  # noqa: E402

_queue = os.environ.get("RELAY_QUEUE")
sio = socketio.Server(async_mode="gevent", client_manager=socketio.RedisManager(
    _queue, channel=os.environ.get("RELAY_CHANNEL", "relay"), redis_options={"max_connections": 2000})
    if _queue else None)
app = socketio.WSGIApp(sio)
_buyers: dict[str, str] = {}
_ids = itertools.count(1)


@sio.event
def connect(sid, environ, auth):
    if isinstance(auth, dict) and auth.get("conversation"):
        _buyers[sid] = str(auth["conversation"])
        sio.enter_room(sid, f"buyer:{_buyers[sid]}")


@sio.event
def disconnect(sid, reason=None):
    _buyers.pop(sid, None)


@sio.on("conversation:join")
def join(sid, data):
    sio.enter_room(sid, f"conv:{data['conversation']}")
    return {"ok": True}


@sio.on("conversation:claim")
def claim(sid, data):
    return {"ok": True}


@sio.on("message:send")
def send(sid, data):
    conversation = _buyers.get(sid) or data["conversation"]
    message = {"id": next(_ids), "client_id": data["client_id"], "body": data["body"]}
    sio.emit("message", message, to=f"conv:{conversation}", skip_sid=sid)
    sio.emit("message", message, to=f"buyer:{conversation}", skip_sid=sid)
    return {"ok": True, "message": message}
