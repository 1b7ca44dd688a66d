"""Fixtures for the chat: a live server, buyers and agents as real Socket.IO clients."""
from __future__ import annotations

import re
import threading

import pytest
import requests
import socketio


@pytest.fixture
def live(app, serve):
    """The helpdesk served on a free port (threading Socket.IO over werkzeug)."""
    return serve(app).url


class Client:
    """A Socket.IO client that records every event it receives."""

    def __init__(self, url: str, *, auth=None, http_session=None):
        self.events: list[tuple[str, dict]] = []
        self.arrived = threading.Condition()
        self.sio = socketio.Client(http_session=http_session, reconnection=False)
        self.sio.on("*", self._record)
        self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)

    def _record(self, event, data=None):
        with self.arrived:
            self.events.append((event, data))
            self.arrived.notify_all()

    def call(self, event: str, data=None):
        return self.sio.call(event, data, timeout=10)

    def wait_for(self, event: str, count: int = 1, timeout: float = 10) -> list[dict]:
        """The first ``count`` payloads of ``event``, waiting up to ``timeout`` seconds."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.of(event)) >= count, timeout=timeout)
        return self.of(event)[:count]

    def of(self, event: str) -> list[dict]:
        return [data for name, data in self.events if name == event]

    def leave(self):
        """Disconnect properly, as a browser closing its tab does (the server hears of it at once)."""
        self.sio.disconnect()

    def close(self):
        """Drop the connection, as a closed tab or a lost network does. (A graceful close
        waits 3 s for werkzeug's development server, which never answers the close frame.)"""
        self.sio.eio.ws.shutdown()
        self.sio.eio.disconnect(abort=True)
        self.sio.connected = False


@pytest.fixture
def clients():
    made: list[Client] = []

    def make(url, **kwargs):
        made.append(Client(url, **kwargs))
        return made[-1]

    yield make
    for client in made:
        if client.sio.connected:
            client.close()


@pytest.fixture
def start_chat_at():
    """``start_chat_at(url, email=..., order_number=...) -> (public_id, token)`` through the HTTP API."""

    def start(url, email="ana@example.pt", order_number=None, name="Ana"):
        response = requests.post(f"{url}/chat/api/conversations", timeout=10,
                                 json={"email": email, "name": name, "order_number": order_number})
        assert response.status_code == 201, response.text
        body = response.json()
        return body["conversation"], body["token"]

    return start


@pytest.fixture
def start_chat(live, start_chat_at):
    """:func:`start_chat_at` on the test's live server."""
    return lambda **kwargs: start_chat_at(live, **kwargs)


@pytest.fixture
def agent_session_at(make_agent):
    """``agent_session_at(url, email, name, **agent_fields) -> requests.Session`` signed in
    through the real login form."""

    def sign_in(url, email="agent@test.example", name="Lukas", **fields):
        make_agent(email=email, name=name, **fields)
        http = requests.Session()
        page = http.get(f"{url}/login", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = http.post(f"{url}/login", timeout=10, allow_redirects=False,
                             data={"email": email, "password": "correct horse battery", "csrf_token": token})
        assert response.status_code == 302
        return http

    return sign_in


@pytest.fixture
def agent_session(live, agent_session_at):
    """:func:`agent_session_at` on the test's live server."""
    return lambda email="agent@test.example", name="Lukas", **fields: agent_session_at(live, email, name, **fields)
