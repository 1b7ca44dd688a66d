"""The chat protocol with real Socket.IO clients over websockets against a running server."""
from __future__ import annotations

import re
import threading
import uuid

import pytest
import requests
import socketio
from sqlalchemy import func, select

from chat.models import Conversation, Message
from helpdesk.extensions import db


def cid() -> str:
    return uuid.uuid4().hex


def test_buyer_and_agent_exchange_messages_stored_once(live, order, start_chat, agent_session, clients):
    public_id, token = start_chat(order_number="5001")
    buyer = clients(live, auth={"token": token})
    agent = clients(live, http_session=agent_session())
    assert agent.call("conversation:join", {"conversation": public_id})["ok"] is True

    first = cid()
    ack = buyer.call("message:send", {"client_id": first, "body": "Olá, a chávena chegou partida 😢"})
    assert ack["ok"] is True and ack["message"]["seq"] == 1 and ack["duplicate"] is False
    [seen] = agent.wait_for("message")
    assert (seen["seq"], seen["sender"], seen["body"]) == (1, "buyer", "Olá, a chávena chegou partida 😢")

    again = buyer.call("message:send", {"client_id": first, "body": "Olá, a chávena chegou partida 😢"})
    for answer in (ack, again):  # its translation (here a "no translation" marker) may have come meanwhile
        answer["message"].pop("translations")
    assert again == {**ack, "duplicate": True}  # a retry never stores a second copy
    reply = agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": "Lamento! Vou ver."})
    assert reply["message"]["seq"] == 2 and reply["message"]["agent_name"] == "Lukas"
    assert [m["body"] for m in buyer.wait_for("message")] == ["Lamento! Vou ver."]
    assert len(agent.of("message")) == 1  # the retry was not broadcast again; its own reply came in the ack

    conversation = db.session.scalar(select(Conversation).filter_by(public_id=public_id))
    assert conversation.order.number == "#5001" and conversation.customer.name == "Ana Sousa"
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2


def test_messages_keep_their_order_and_resume_fills_the_gap(live, order, start_chat, agent_session, clients):
    public_id, token = start_chat()
    buyer = clients(live, auth={"token": token})
    http = agent_session()
    agent = clients(live, http_session=http)
    agent.call("conversation:join", {"conversation": public_id})
    for n in range(1, 31):
        assert buyer.call("message:send", {"client_id": f"m{n}", "body": f"message {n}"})["message"]["seq"] == n
    assert [m["seq"] for m in agent.wait_for("message", 30)] == list(range(1, 31))

    agent.close()  # away: the buyer goes on writing
    for n in range(31, 36):
        buyer.call("message:send", {"client_id": f"m{n}", "body": f"message {n}"})
    back = clients(live, http_session=http)
    missed = back.call("history", {"conversation": public_id, "after_seq": 30})
    assert [m["seq"] for m in missed["messages"]] == [31, 32, 33, 34, 35]
    assert missed["last_seq"] == 35


def test_internal_notes_never_reach_the_buyer(live, order, start_chat, agent_session, clients):
    public_id, token = start_chat()
    buyer = clients(live, auth={"token": token})
    agent = clients(live, http_session=agent_session())
    agent.call("conversation:join", {"conversation": public_id})
    agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": "VIP buyer", "internal": True})
    agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": "Hello!"})
    assert [m["body"] for m in buyer.wait_for("message")] == ["Hello!"]
    assert [m["body"] for m in buyer.call("history", {"after_seq": 0})["messages"]] == ["Hello!"]
    assert [m["body"] for m in agent.call("history", {"conversation": public_id})["messages"]] == ["VIP buyer", "Hello!"]


def test_a_buyer_reaches_only_their_own_conversation(live, order, start_chat, clients):
    mine, my_token = start_chat(email="ana@example.pt")
    theirs, _ = start_chat(email="bob@example.com")
    buyer = clients(live, auth={"token": my_token})
    buyer.call("message:send", {"client_id": cid(), "body": "mine", "conversation": theirs})
    history = buyer.call("history", {"conversation": theirs, "after_seq": 0})
    assert history["conversation"]["id"] == mine and [m["body"] for m in history["messages"]] == ["mine"]
    assert buyer.call("conversation:claim", {"conversation": theirs})["error"]["code"] == "forbidden"
    with pytest.raises(socketio.exceptions.ConnectionError):
        clients(live, auth={"token": my_token[:-2] + "xx"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        clients(live)  # neither a buyer token nor a signed-in agent


@pytest.mark.parametrize("payload, code", [
    ({"client_id": "a", "body": "   "}, "empty_message"),
    ({"client_id": "a", "body": "\u3000 \u200b\u200d\u200c"}, "empty_message"),
    ({"client_id": "a", "body": "x" * 5001}, "message_too_long"),
    ({"client_id": "", "body": "hi"}, "invalid_client_id"),
    ({"client_id": "a", "body": 42}, "bad_request"),
    ({"client_id": "a", "body": "nul\x00"}, "bad_request"),
])
def test_bad_messages_are_refused_with_a_reason(live, order, start_chat, clients, payload, code):
    _, token = start_chat()
    buyer = clients(live, auth={"token": token})
    ack = buyer.call("message:send", payload)
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]
    assert buyer.call("message:send", ["not", "an", "object"])["error"]["code"] == "bad_request"
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_html_and_scripts_are_stored_as_text(live, order, start_chat, clients):
    _, token = start_chat()
    buyer = clients(live, auth={"token": token})
    body = "<img src=x onerror=alert(1)> مرحبا 退货"
    assert buyer.call("message:send", {"client_id": "x", "body": body})["message"]["body"] == body


def test_two_agents_claiming_at_once_one_wins(live, order, start_chat, agent_session, clients):
    public_id, _ = start_chat()
    agents = [clients(live, http_session=agent_session(f"a{n}@test.example", f"Agent {n}")) for n in range(2)]
    results = [None, None]
    barrier = threading.Barrier(2)

    def claim(n):
        barrier.wait()
        results[n] = agents[n].call("conversation:claim", {"conversation": public_id})

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["ok"] for r in results) == [False, True]
    loser = next(r for r in results if not r["ok"])
    assert loser["error"]["code"] == "already_claimed"
    winner = next(r for r in results if r["ok"])["conversation"]
    db.session.expire_all()
    stored = db.session.scalar(select(Conversation))
    assert (stored.assignee_id, stored.assignee.display_name) == (winner["assignee_id"], winner["assignee"])


def test_starting_a_chat_checks_the_order_and_email(live, order):
    url = f"{live}/chat/api/conversations"
    wrong = requests.post(url, json={"email": "mallory@example.com", "order_number": "5001"}, timeout=10)
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_identified"
    bad = requests.post(url, json={"email": "not-an-email"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "Please enter a valid e-mail address."
    junk = requests.post(url, data=b"\xff\xfe", headers={"Content-Type": "application/json"}, timeout=10)
    assert junk.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_a_flooding_connection_is_slowed_down(live, order, start_chat, clients):
    _, token = start_chat()
    buyer = clients(live, auth={"token": token})
    answers = [buyer.call("typing", {"typing": True}) for _ in range(61)]
    assert all(a["ok"] for a in answers[:60])
    assert answers[60]["error"]["code"] == "rate_limited"


def test_transcript_is_plain_text_with_notes_marked(live, order, start_chat, agent_session, clients):
    public_id, token = start_chat(order_number="5001")
    buyer = clients(live, auth={"token": token})
    http = agent_session()
    agent = clients(live, http_session=http)
    buyer.call("message:send", {"client_id": "1", "body": "<b>Olá</b>"})
    agent.call("message:send", {"conversation": public_id, "client_id": "2", "body": "check stock", "internal": True})
    response = http.get(f"{live}/chat/conversations/{public_id}/transcript.txt", timeout=10)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="chat-{public_id}.txt"'
    lines = response.text.splitlines()
    assert lines[0] == "Chat with Ana <ana@example.pt>" and lines[1] == "Order \u2068#5001\u2069"  # isolated for bidi
    assert lines[4].endswith("] Ana:") and lines[5] == "<b>Olá</b>"
    assert lines[7].endswith("] Lukas (internal note):") and lines[8] == "check stock"
    assert requests.get(f"{live}/chat/conversations/{public_id}/transcript.txt", timeout=10,
                        allow_redirects=False).status_code == 302  # agents only


@pytest.mark.parametrize("body", [
    "Family 👨‍👩‍👧 trip 👩‍💻 🏳️‍🌈", "می‌خواهم", "क्‍ष", "今日は　よろしく", "Bonjour\u202f!", "\u200fשלום\u200e",
    "soft\u00adhyphen", "line\u2028separator", "carriage\r\nreturn",
])
def test_ordinary_unicode_text_is_accepted(live, order, start_chat, clients, body):
    _, token = start_chat()
    buyer = clients(live, auth={"token": token})
    ack = buyer.call("message:send", {"client_id": cid(), "body": body})
    assert ack["ok"] is True, ack
    assert ack["message"]["body"] == body.replace("\r\n", "\n")


@pytest.mark.parametrize("event, payload, code", [
    ("history", {"after_seq": 2**63}, "bad_request"),
    ("read", {"seq": 10**30}, "bad_request"),
    ("typing", {"typing": "yes"}, "bad_request"),
    ("message:send", {"client_id": "   ", "body": "hi"}, "invalid_client_id"),
    ("no-such-event", {}, "unknown_event"),
    ("connect", {}, "bad_request"),
])
def test_odd_events_get_error_acknowledgements(live, order, start_chat, clients, event, payload, code):
    _, token = start_chat()
    buyer = clients(live, auth={"token": token})
    assert buyer.call(event, payload)["error"]["code"] == code
    assert buyer.call("message:send", {"client_id": cid(), "body": "still here"})["ok"] is True


def test_signing_out_ends_the_agents_chat_connection(live, order, start_chat, agent_session, clients):
    public_id, _ = start_chat()
    http = agent_session()
    agent = clients(live, http_session=http)
    assert agent.call("conversation:join", {"conversation": public_id})["ok"] is True
    page = http.get(f"{live}/chat/inbox", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert http.post(f"{live}/logout", data={"csrf_token": token}, timeout=10).status_code == 200
    ack = agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": "after sign-out"})
    assert ack["error"]["code"] == "signed_out"
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_dropped_connection_stops_its_typing_notice(live, order, start_chat, agent_session, clients):
    public_id, token = start_chat()
    buyer = clients(live, auth={"token": token})
    agent = clients(live, http_session=agent_session())
    agent.call("conversation:join", {"conversation": public_id})
    buyer.call("typing", {"typing": True})
    buyer.leave()
    notices = agent.wait_for("typing", 2)
    assert [n["typing"] for n in notices] == [True, False]


def test_lone_surrogates_are_refused_clearly(live, start_chat, clients):
    public_id, token = start_chat()
    buyer = clients(live, auth={"token": token})
    for payload in ({"client_id": "s1", "body": "hi \ud800"}, {"client_id": "s2", "body": "x", "attachments": ["\udfff"]},
                    {"client_id": "\ud800", "body": "x"}):
        ack = buyer.call("message:send", payload)
        assert ack["error"] == {"code": "bad_request",
                                "message": "The text holds invalid characters (lone UTF-16 surrogates)."}
    for field in ("name", "order_number"):
        raw = '{"email": "sur@example.com", "%s": "a\\ud800b"}' % field
        answer = requests.post(f"{live}/chat/api/conversations", data=raw, timeout=10,
                               headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == f"bad_{field}"
    assert buyer.call("history", {})["messages"] == []
