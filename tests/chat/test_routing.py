"""Availability, the cap on concurrent chats, round-robin assignment, transfer and the
queue, with real Socket.IO clients against a running server."""
from __future__ import annotations

import re
import threading
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from chat.models import Conversation
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent


def read(query):
    """One value read in its own short transaction (on SQLite an open transaction in the
    test would hold the write lock the server needs)."""
    try:
        return db.session.execute(query).scalar()
    finally:
        db.session.rollback()


def assignee(public_id: str) -> str | None:
    return read(select(Agent.display_name).join(Conversation, Conversation.assignee_id == Agent.id)
                .where(Conversation.public_id == public_id))


def agent_id(name: str) -> int:
    return read(select(Agent.id).filter_by(display_name=name))


def online(clients, live, agent_session, name, **status):
    """An agent with a console open, available, optionally with ``max_chats``."""
    client = clients(live, http_session=agent_session(f"{name.lower()}@test.example", name))
    ack = client.call("agent:status", {"availability": "available", **status})
    assert ack["ok"] is True and ack["availability"] == "available"
    return client


def buyer_writes(clients, live, start_chat, email):
    public_id, token = start_chat(email=email)
    buyer = clients(live, auth={"token": token})
    assert buyer.call("message:send", {"client_id": uuid.uuid4().hex, "body": "Where is my parcel?"})["ok"]
    return public_id, buyer


def test_round_robin_among_available_agents(live, start_chat, agent_session, clients):
    ana = online(clients, live, agent_session, "Ana")
    ben = online(clients, live, agent_session, "Ben")
    away = clients(live, http_session=agent_session("cy@test.example", "Cy"))
    assert away.call("agent:status", {"availability": "away"})["availability"] == "away"

    chats = [buyer_writes(clients, live, start_chat, f"b{n}@example.com") for n in range(4)]
    assert [assignee(p) for p, _ in chats] == ["Ana", "Ben", "Ana", "Ben"]
    assert [c["id"] for c in ana.wait_for("assigned", 2)] == [chats[0][0], chats[2][0]]
    assert [c["id"] for c in ben.wait_for("assigned", 2)] == [chats[1][0], chats[3][0]]
    assert away.of("assigned") == []
    assert chats[0][1].wait_for("agent")[0] == {"name": "Ana"}
    assert chats[0][1].call("history", {})["queue"] == {"position": None, "agents_online": 2, "ticket": None}


def test_a_full_agent_gets_no_more_and_the_queue_moves_when_a_chat_closes(live, start_chat, agent_session, clients):
    ana = online(clients, live, agent_session, "Ana", max_chats=1)
    first, _ = buyer_writes(clients, live, start_chat, "one@example.com")
    second, buyer2 = buyer_writes(clients, live, start_chat, "two@example.com")
    third, buyer3 = buyer_writes(clients, live, start_chat, "three@example.com")
    assert (assignee(first), assignee(second), assignee(third)) == ("Ana", None, None)
    assert buyer3.call("history", {})["queue"] == {"position": 2, "agents_online": 1, "ticket": None}
    assert {"position": 2, "agents_online": 1} in buyer3.of("queue")

    assert ana.call("conversation:close", {"conversation": first})["ok"]
    assert buyer2.wait_for("agent")[0] == {"name": "Ana"}
    assert assignee(second) == "Ana"
    assert buyer3.call("history", {})["queue"]["position"] == 1
    assert ana.call("agent:status", {})["open_chats"] == 1


def test_nobody_online_the_buyer_waits_and_the_first_available_agent_takes_it(live, start_chat, agent_session,
                                                                              clients):
    public_id, buyer = buyer_writes(clients, live, start_chat, "early@example.com")
    assert buyer.call("history", {})["queue"]["position"] == 1
    ana = clients(live, http_session=agent_session("ana@test.example", "Ana"))
    ana.call("agent:status", {})  # a heartbeat while away takes nothing
    assert assignee(public_id) is None
    ana.call("agent:status", {"availability": "available"})
    assert ana.wait_for("assigned")[0]["id"] == public_id
    assert buyer.wait_for("agent")[0] == {"name": "Ana"}


def test_an_agent_not_heard_from_recently_is_not_online(live, start_chat, agent_session, clients):
    online(clients, live, agent_session, "Ana")
    db.session.execute(update(Agent).where(Agent.display_name == "Ana")
                       .values(last_seen_at=utcnow() - timedelta(seconds=76)))  # the laptop was closed
    db.session.commit()
    public_id, buyer = buyer_writes(clients, live, start_chat, "late@example.com")
    assert assignee(public_id) is None
    assert buyer.call("history", {})["queue"]["position"] == 1


def test_status_changes_are_checked(live, agent_session, clients):
    agent = clients(live, http_session=agent_session())
    for bad in ({"availability": "busy"}, {"availability": None, "max_chats": 0}, {"max_chats": "5"},
                {"max_chats": True}, {"max_chats": 51}):
        ack = agent.call("agent:status", bad)
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", bad
    assert agent.call("agent:status", {"max_chats": 3})["max_chats"] == 3
    assert read(select(Agent.max_chats).filter_by(display_name="Lukas")) == 3


def test_transfer_rules(live, start_chat, agent_session, clients):
    ana = online(clients, live, agent_session, "Ana")
    ben = clients(live, http_session=agent_session("ben@test.example", "Ben"))
    boss = clients(live, http_session=agent_session("boss@test.example", "Boss", role="manager"))
    public_id, buyer = buyer_writes(clients, live, start_chat, "buyer@example.com")
    ben_id, ana_id = agent_id("Ben"), agent_id("Ana")

    refused = ben.call("conversation:transfer", {"conversation": public_id, "agent": ben_id})
    assert refused["error"] == {"code": "forbidden", "message": "Only \u2068Ana\u2069 or a manager can transfer this conversation."}  # the name isolated (bidi)
    assert ana.call("conversation:transfer", {"conversation": public_id, "agent": 999999})["error"]["code"] \
        == "agent_not_found"
    for bad in ({"agent": "2"}, {"agent": True}, {}):
        assert ana.call("conversation:transfer", {"conversation": public_id, **bad})["error"]["code"] \
            == "bad_request", bad
    assert assignee(public_id) == "Ana"

    moved = ana.call("conversation:transfer", {"conversation": public_id, "agent": ben_id})
    assert moved["conversation"]["assignee"] == "Ben"
    assert ben.wait_for("assigned")[0]["id"] == public_id
    assert buyer.wait_for("agent", 2)[1] == {"name": "Ben"}
    assert boss.call("conversation:transfer", {"conversation": public_id, "agent": ana_id})["ok"]
    assert assignee(public_id) == "Ana"

    back = ana.call("conversation:transfer", {"conversation": public_id, "agent": None})
    assert back["ok"] is True
    assert assignee(public_id) == "Ana"  # handed back, and Ana is the one online with room


def test_simultaneous_buyers_never_push_an_agent_over_the_cap(live, start_chat, agent_session, clients):
    online(clients, live, agent_session, "Ana", max_chats=2)
    online(clients, live, agent_session, "Ben", max_chats=2)
    buyers = []
    for n in range(8):
        public_id, token = start_chat(email=f"rush{n}@example.com")
        buyers.append(clients(live, auth={"token": token}))
    gate = threading.Barrier(len(buyers))

    def write(buyer):
        gate.wait()
        assert buyer.call("message:send", {"client_id": uuid.uuid4().hex, "body": "Hello?"})["ok"]

    threads = [threading.Thread(target=write, args=(b,)) for b in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loads = dict(db.session.execute(
        select(Agent.display_name, func.count(Conversation.id)).join(Conversation, Conversation.assignee_id == Agent.id)
        .group_by(Agent.display_name)
    ).all())
    assert loads == {"Ana": 2, "Ben": 2}
    assert read(select(func.count()).select_from(Conversation).where(Conversation.assignee_id.is_(None))) == 4


def test_a_message_left_while_nobody_is_online_becomes_one_ticket(live, start_chat, agent_session, clients):
    from tickets.models import Ticket

    public_id, buyer = buyer_writes(clients, live, start_chat, "night@example.com")
    queued = buyer.wait_for("queue", 2)[-1]
    ticket_id = read(select(Ticket.id))
    assert queued == {"position": 1, "agents_online": 0, "ticket": ticket_id}
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.type, ticket.channel, ticket.tags, ticket.subject, ticket.conversation.public_id,
            ticket.buyer_email) == ("question", "chat", ["offline-chat"], "Where is my parcel?", public_id,
                                    "night@example.com")
    db.session.rollback()
    assert buyer.call("message:send", {"client_id": "again", "body": "Hello?"})["ok"]
    assert buyer.call("history", {})["queue"]["ticket"] == ticket_id
    assert read(select(func.count()).select_from(Ticket)) == 1  # one ticket, however often they write

    online(clients, live, agent_session, "Ana")  # the chat is still taken by the first agent online
    assert buyer.wait_for("agent")[0] == {"name": "Ana"}


def test_no_ticket_when_an_agent_is_online_but_busy(live, start_chat, agent_session, clients):
    from tickets.models import Ticket

    online(clients, live, agent_session, "Ana", max_chats=1)
    buyer_writes(clients, live, start_chat, "first@example.com")
    _, waiting = buyer_writes(clients, live, start_chat, "second@example.com")
    assert waiting.call("history", {})["queue"] == {"position": 1, "agents_online": 1, "ticket": None}
    assert read(select(func.count()).select_from(Ticket)) == 0


def test_signing_out_makes_an_agent_away(live, start_chat, agent_session, clients):
    http = agent_session("ana@test.example", "Ana")
    clients(live, http_session=http).call("agent:status", {"availability": "available"})
    page = http.get(f"{live}/chat/inbox", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert http.post(f"{live}/logout", data={"csrf_token": token}, timeout=10).status_code == 200
    assert read(select(Agent.availability).filter_by(display_name="Ana")) == "away"
    public_id, _ = buyer_writes(clients, live, start_chat, "after@example.com")
    assert assignee(public_id) is None


def test_the_inbox_lists_only_conversations_the_buyer_wrote_in(live, start_chat, agent_session):
    http = agent_session()
    silent, _ = start_chat(email="silent@example.com")
    assert silent not in http.get(f"{live}/chat/inbox?tab=all", timeout=10).text
