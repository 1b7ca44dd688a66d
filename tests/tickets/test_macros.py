"""Ticket macros (SQLite and PostgreSQL): defined by managers on their pages or with the
CLI, applied by an agent in one click — the reply's placeholders filled from the
ticket (the canned replies' rendering), status, tags and priority set, each change once
on the timeline — and refused to agents who may not define them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from tickets import events, macros, rules, service
from tickets.models import Ticket, TicketMacro
from tickets.service import Actor

RECENT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
PHOTOS = ("Hello {buyer_name}, please send photos of the damaged parcel of order {order_number} "
          "(tracking {tracking_number}). {agent_name} {unknown}")


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(TicketMacro))


def test_applying_a_macro_replies_sets_status_tags_priority_each_once(make_order, make_agent):
    order = make_order("1001", delivered_at=RECENT)
    manager = Actor.of_agent(make_agent(email="mei@test.example", name="Mei", role="manager"))
    agent = Actor.of_agent(make_agent(email="lukas@test.example", name="Lukas"))
    macro = macros.save_macro(manager, name="Request photos of damage", reply=PHOTOS, status="pending",
                              tags="Damage, photos-asked", priority="high")
    ticket = service.create_ticket(agent, order=order, type="logistics_claim", subject="Broken",
                                   claim={"kind": "damaged"}, tags=["damage"])
    heard = []
    events.ticket_agent_replied.connect(lambda t, **kw: heard.append(("replied", kw["agent_id"])), weak=False)
    events.ticket_status_changed.connect(lambda t, **kw: heard.append((kw["old"], kw["new"])), weak=False)
    try:
        macros.apply_macro(ticket, agent, macro)
    finally:
        events.ticket_agent_replied.receivers.clear()
        events.ticket_status_changed.receivers.clear()
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.priority, ticket.tags) == ("pending", "high", ["damage", "photos-asked"])
    entries = [(e.kind, e.internal) for e in ticket.events][1:]
    assert entries == [("macro_applied", True), ("message", False), ("status_changed", False),
                       ("field_changed", True), ("field_changed", True)]
    message = next(e for e in ticket.events if e.kind == "message")
    assert message.payload["body"] == ("Hello Ana Sousa, please send photos of the damaged parcel of order #1001 "
                                       "(tracking JD00021001). Lukas {unknown}")
    assert heard == [("replied", agent.agent_id), ("new", "pending")]
    # applied again: the reply goes again, nothing else changes, so nothing else is recorded
    before = len(ticket.events)
    macros.apply_macro(ticket, agent, macro)
    db.session.expire_all()
    assert [e.kind for e in db.session.get(Ticket, ticket.id).events][before:] == ["macro_applied", "message"]


def test_only_managers_define_macros_and_bad_ones_are_refused(make_agent):
    agent = Actor.of_agent(make_agent(email="lukas@test.example", name="Lukas"))
    admin = Actor.of_agent(make_agent(email="root@test.example", name="Root", role="admin"))
    with pytest.raises(rules.ApprovalNotAllowed):
        macros.save_macro(agent, name="Mine", reply="Hi")
    for fields, message in [
        ({"name": "", "reply": "Hi"}, "name"),
        ({"name": "Nothing"}, "must reply, set a status"),
        ({"name": "Ask", "status": "pending"}, "needs a reply"),
        ({"name": "Odd", "status": "closed"}, "status must be one of"),
        ({"name": "Loud", "priority": "extreme"}, "priority must be one of"),
        ({"name": "Long", "reply": "x" * 5001}, "the limit is 5,000"),
        ({"name": "Tags", "tags": ["a"] * 3 + [None]}, "Tags must be a list"),
    ]:
        with pytest.raises(service.InvalidTicket, match=message):
            macros.save_macro(admin, **fields)
    macros.save_macro(admin, name="Hold", status="on_hold")
    with pytest.raises(service.InvalidTicket, match="already a macro called “Hold”"):
        macros.save_macro(admin, name="Hold", priority="low")
    assert count() == 1


def test_macro_pages_and_the_cli(client, login, make_order, app, no_csrf):
    order = make_order("1001", delivered_at=RECENT)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["tickets", "macro-save", "--name", "Solved, thanks", "--reply",
                               "Thanks {buyer_name}!", "--status", "solved", "--tags", "closed-by-macro"])
    assert made.exit_code == 0 and "saved" in made.output
    refused = runner.invoke(args=["tickets", "macro-save", "--name", "Empty"])
    assert refused.exit_code == 1 and "must reply, set a status" in refused.output
    agent = login(email="lukas@test.example", name="Lukas")
    app.config["WTF_CSRF_ENABLED"] = False
    assert b"Solved, thanks" in client.get("/tickets/macros/").data
    assert client.post("/tickets/macros/", data={"name": "x", "reply": "y"}).status_code == 403
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="question", subject="Hi")
    macro = db.session.scalar(select(TicketMacro))
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="macro-form"' in page and "Solved, thanks" in page
    assert client.post(f"/tickets/{ticket.id}/macro", data={"macro_id": str(macro.id)}).status_code == 303
    assert client.post(f"/tickets/{ticket.id}/macro", data={"macro_id": "99999"}).status_code == 404
    assert client.post(f"/tickets/{ticket.id}/macro", data={"macro_id": "x"}).status_code == 400
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.tags) == ("solved", ["closed-by-macro"])
    assert next(e for e in ticket.events if e.kind == "message").payload["body"] == "Thanks Ana Sousa!"


def test_a_manager_creates_changes_and_deletes_macros_on_the_pages(client, login, app):
    login(email="mei@test.example", name="Mei", role="manager")
    app.config["WTF_CSRF_ENABLED"] = False
    hostile = '<script>alert("x")</script>'
    assert client.post("/tickets/macros/", data={"name": hostile, "reply": hostile, "tags": "a, b"}).status_code == 303
    listing = client.get("/tickets/macros/").get_data(as_text=True)
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing
    macro = db.session.scalar(select(TicketMacro))
    bad = client.post(f"/tickets/macros/{macro.id}", data={"name": hostile, "status": "pending"})
    assert bad.status_code == 400 and "needs a reply" in bad.get_data(as_text=True)
    assert client.post(f"/tickets/macros/{macro.id}", data={"name": "Hold", "status": "on_hold"}).status_code == 303
    db.session.expire_all()
    macro = db.session.get(TicketMacro, macro.id)
    assert (macro.name, macro.reply, macro.status, macro.tags) == ("Hold", "", "on_hold", [])
    assert client.get("/tickets/macros/424242").status_code == 404
    assert client.post(f"/tickets/macros/{macro.id}", data={"delete": "1"}).status_code == 303
    assert count() == 0


def test_a_macro_on_a_closed_ticket_or_one_too_long_once_filled_changes_nothing(make_order, make_agent):
    order = make_order("1001", delivered_at=RECENT)
    agent = Actor.of_agent(make_agent(email="lukas@test.example", name="Lukas Schneider-Ortega"))
    ticket = service.create_ticket(agent, order=order, type="question", subject="Hi")
    # 4,800 characters as saved, 8,800 once each {agent_name} is filled in
    long_reply = macros.save_macro(Actor("system"), name="Long", reply="{agent_name}" * 400, status="on_hold")
    with pytest.raises(service.InvalidTicket, match="too long|limit"):
        macros.apply_macro(ticket, agent, long_reply)
    db.session.rollback()
    service.set_status(ticket, agent, "closed")
    with pytest.raises(rules.InvalidTransition):
        macros.apply_macro(ticket, agent, long_reply)
    db.session.expire_all()
    assert [e.kind for e in db.session.get(Ticket, ticket.id).events] == ["created", "status_changed"]
