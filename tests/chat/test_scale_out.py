"""Two helpdesk processes sharing PostgreSQL and a Redis message queue: a buyer connected
to one and an agent to the other talk normally, every message delivered once and in order."""
from __future__ import annotations

import os
import uuid

import pytest
import redis

from tests.chat.conftest import Client
from tests.conftest import unavailable
from tests.processes import server_env, start_server, stop, wait_healthy

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MESSAGES = 1000


@pytest.fixture
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def two_processes(app, redis_url, tmp_path):
    """Two `flask run` processes on the test database, joined by the Redis queue."""
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("several processes share a server database, not an SQLite file")
    env = server_env(app, tmp_path, SOCKETIO_MESSAGE_QUEUE=redis_url, CHAT_EVENT_RATE_LIMIT="100000 per minute",
                     CHAT_START_RATE_LIMIT="1000 per minute",
                     SOCKETIO_CHANNEL=f"helpdesk-test-{uuid.uuid4().hex}")  # other runs on this Redis stay apart
    processes, urls = zip(*(start_server(env) for _ in range(2)))
    try:
        for url in urls:
            wait_healthy(url)
        yield urls
    finally:
        stop(processes)


def test_buyer_on_one_process_and_agent_on_another(two_processes, order, start_chat_at, agent_session_at):
    url_a, url_b = two_processes
    public_id, token = start_chat_at(url_a)
    buyer = Client(url_a, auth={"token": token})
    agent = Client(url_b, http_session=agent_session_at(url_b))
    try:
        assert agent.call("conversation:join", {"conversation": public_id})["ok"]
        for n in range(MESSAGES):
            assert buyer.call("message:send", {"client_id": f"b{n}", "body": f"buyer {n}"})["ok"]
            assert agent.call("message:send", {"conversation": public_id, "client_id": f"a{n}",
                                               "body": f"agent {n}"})["ok"]
        to_agent = agent.wait_for("message", MESSAGES, timeout=60)
        to_buyer = buyer.wait_for("message", MESSAGES, timeout=60)
        assert [m["body"] for m in to_agent] == [f"buyer {n}" for n in range(MESSAGES)]
        assert [m["body"] for m in to_buyer] == [f"agent {n}" for n in range(MESSAGES)]
        assert [m["seq"] for m in to_agent] == list(range(1, 2 * MESSAGES, 2))
        assert len(agent.of("message")) == MESSAGES and len(buyer.of("message")) == MESSAGES  # none twice
    finally:
        buyer.close()
        agent.close()
