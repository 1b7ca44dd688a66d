"""Requests as they arrive: client addresses behind proxies, malformed JSON bodies."""
from __future__ import annotations


def start(client, address):
    return client.post("/chat/api/conversations", json={"email": "a@example.com"},
                       headers={"X-Forwarded-For": address}).status_code


def test_rate_limits_are_per_buyer_behind_a_trusted_proxy(sqlite_app):
    client = sqlite_app(TRUSTED_PROXIES=1, CHAT_START_RATE_LIMIT="2 per minute").test_client()
    assert [start(client, f"10.0.0.{n}") for n in range(1, 5)] == [201, 201, 201, 201]
    assert [start(client, "10.0.0.9") for _ in range(3)] == [201, 201, 429]


def test_without_trusted_proxies_the_header_is_ignored(sqlite_app):
    client = sqlite_app(CHAT_START_RATE_LIMIT="2 per minute").test_client()
    assert [start(client, f"10.0.0.{n}") for n in range(1, 4)] == [201, 201, 429]


def test_json_nested_too_deeply_is_a_bad_request_not_a_crash(sqlite_app):
    client = sqlite_app().test_client()
    body = "[" * 5000 + "]" * 5000
    answer = client.post("/chat/api/conversations", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_request"
