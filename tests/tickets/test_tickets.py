"""Tickets in the database (SQLite and PostgreSQL): opening cases on order lines, double
returns, the buyer's own orders only, HTML shown as text, bad input refused with nothing
stored, the timeline, domain events, chats turned into tickets, claims and disputes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from chat.service import start_conversation
from helpdesk.extensions import db
from tests.tickets.conftest import identify
from tickets import events, rules, service
from tickets.cli import create_token, set_carrier_rule, set_policy
from tickets.models import Ticket, TicketEvent, TimelineIsAppendOnly
from tickets.service import Actor

UTC = timezone.utc
NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
DELIVERED = datetime(2024, 3, 3, 10, 0, tzinfo=UTC)
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)  # pages use the real clock
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def count(model=Ticket) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def agent(make_agent):
    return make_agent(email="lukas@test.example", name="Lukas")


def test_a_return_takes_units_and_a_second_return_of_them_is_refused(make_order, agent):
    order = make_order("1001", lines=(("MUG", "Blue mug", 3, "10.00"),), delivered_at=DELIVERED)
    line = order.lines[0]
    first = service.create_ticket(Actor.of_agent(agent), order=order, type="return", subject="Too many mugs",
                                  lines=[{"order_line_id": line.id, "quantity": 2}], now=NOW)
    assert [(l.order_line_id, l.quantity) for l in first.affected_lines] == [(line.id, 2)]
    assert first.events[0].kind == "created" and first.status == "new"
    assert first.events[0].payload["lines"] == [{"order_line_id": line.id, "quantity": 2}]
    with pytest.raises(rules.AlreadyReturned, match="Only 1 of 3"):
        service.create_ticket(Actor.of_agent(agent), order=order, type="return", subject="Again",
                              lines=[{"order_line_id": line.id, "quantity": 2}], now=NOW)
    assert count() == 1
    service.set_status(first, Actor.of_agent(agent), "solved", resolution="rejected", now=NOW)
    again = service.create_ticket(Actor.of_agent(agent), order=order, type="exchange", subject="Other colour",
                                  lines=[{"order_line_id": line.id, "quantity": 3}],
                                  replacement={"title": "Red mug", "sku": "MUG-R"}, now=NOW)
    assert [(l.title, l.quantity) for l in again.replacement_lines] == [("Red mug", 3)]


def test_return_window_from_the_stores_policy_row(make_order, agent, store):
    order = make_order("1002", delivered_at=DELIVERED)
    set_policy(store_id=store.id, marketplace=None, window_days=1, threshold=None, currency=None, warranty_days=730)
    with pytest.raises(rules.ReturnWindowClosed):
        service.create_ticket(Actor.of_agent(agent), order=order, type="return", subject="Late",
                              lines=[{"order_line_id": order.lines[0].id, "quantity": 1}], now=NOW)
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="return", subject="Goodwill",
                                   lines=[{"order_line_id": order.lines[0].id, "quantity": 1}], now=NOW,
                                   override_policy=True, override_reason="Loyal buyer")
    assert [e.kind for e in ticket.events] == ["created", "policy_override", "policy_overridden"]


def test_delivery_date_missing_tags_the_ticket_for_the_agent(make_order, agent):
    order = make_order("1003", delivered_at=None)
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="return", subject="Return",
                                   lines=[{"order_line_id": order.lines[0].id, "quantity": 1}], now=NOW)
    assert "delivery-date-unknown" in ticket.tags
    assert "delivery_date_unknown" in [e.kind for e in ticket.events]


def test_the_timeline_is_append_only(make_order, agent):
    order = make_order("1004", delivered_at=DELIVERED)
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="question", subject="Hi")
    entry = ticket.events[0]
    entry.kind = "forged"
    with pytest.raises(TimelineIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(TimelineIsAppendOnly):
        db.session.delete(db.session.get(TicketEvent, entry.id))
        db.session.flush()
    db.session.rollback()


def test_events_reach_subscribers_after_commit(make_order, agent):
    order = make_order("1005", delivered_at=DELIVERED)
    heard = []

    def listen(name):
        def receiver(ticket, **kwargs):
            heard.append((name, ticket.id, kwargs["actor"], db.session.get(Ticket, ticket.id).status))
        return receiver

    receivers = {s: listen(s.name) for s in (events.ticket_created, events.ticket_solved, events.ticket_reopened)}
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    try:
        ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="question", subject="Where is it?")
        service.set_status(ticket, Actor.of_agent(agent), "solved")
        service.add_message(ticket, Actor.of_buyer(order.customer_id), "It still has not arrived.")
    finally:
        for signal, receiver in receivers.items():
            signal.disconnect(receiver)
    assert heard == [("ticket-created", ticket.id, "agent", "new"), ("ticket-solved", ticket.id, "agent", "solved"),
                     ("ticket-reopened", ticket.id, "buyer", "open")]


def test_a_failing_subscriber_does_not_undo_the_change(make_order, agent):
    order = make_order("1006", delivered_at=DELIVERED)

    def broken(ticket, **kwargs):
        raise RuntimeError("survey service down")

    events.ticket_created.connect(broken)
    try:
        ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="question", subject="Hi")
    finally:
        events.ticket_created.disconnect(broken)
    assert db.session.get(Ticket, ticket.id) is not None


def test_bad_input_is_refused_and_nothing_is_stored(make_order, agent):
    order = make_order("1007", delivered_at=DELIVERED)
    actor = Actor.of_agent(agent)
    cases = [
        dict(type="return", subject="", lines=[{"order_line_id": order.lines[0].id, "quantity": 1}]),
        dict(type="question", subject="x" * 201),
        dict(type="question", subject="ok", description="y" * 10_001),
        dict(type="question", subject="ok", description="bell\x07"),
        dict(type="nonsense", subject="ok"),
        dict(type="return", subject="ok", lines=[{"order_line_id": order.lines[0].id, "quantity": 99}]),
        dict(type="return", subject="ok", lines="all"),
        dict(type="question", subject="ok", tags=["t" * 41]),
        dict(type="question", subject="ok", requested_amount="12.345"),
        dict(type="question", subject="ok", requested_amount=1.5),
        dict(type="payment_dispute", subject="ok", dispute={"evidence_due_at": "2024-06-01T12:00:00"}),
    ]
    for case in cases:
        with pytest.raises(rules.TicketRuleError):
            service.create_ticket(actor, order=order, **case)
        db.session.rollback()
    assert count() == 0 and count(TicketEvent) == 0


def test_logistics_claim_deadline_comes_from_the_carrier_rule_data(make_order, agent):
    order = make_order("1008", delivered_at=None)  # shipped 2 March 09:00 UTC by DHL
    set_carrier_rule("*", None, 30, "shipped")
    set_carrier_rule("DHL", "lost", 20, "shipped")
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="logistics_claim", subject="Lost parcel",
                                   lines=[{"order_line_id": order.lines[0].id, "quantity": 2}],
                                   claim={"kind": "lost", "declared_value": "25.00", "insured": True})
    claim = ticket.claim
    assert (claim.carrier, claim.tracking_number, claim.declared_value, claim.insured) == (
        "DHL", "JD00021008", Decimal("25.00"), True)
    # 20 days after 2 March in Berlin: the claim is taken until 22 March 23:59:59 CET.
    assert claim.deadline == ticket.due_at == datetime(2024, 3, 22, 23, 0, tzinfo=UTC)
    damaged = service.create_ticket(Actor.of_agent(agent), order=order, type="logistics_claim", subject="Dented",
                                    claim={"kind": "damaged"})
    assert damaged.claim.deadline == datetime(2024, 4, 1, 22, 0, tzinfo=UTC)  # the * rule: 30 days
    service.update_claim(ticket, Actor.of_agent(agent), claim_reference="DHL-CLM-55", outcome="accepted")
    assert (ticket.claim.claim_reference, ticket.claim.outcome) == ("DHL-CLM-55", "accepted")


def test_payment_dispute_has_a_hard_deadline_and_evidence_from_the_order(make_order, agent):
    order = make_order("1009", delivered_at=DELIVERED)
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="payment_dispute", subject="Chargeback",
                                   dispute={"evidence_due_at": "2024-03-20T23:59:00+01:00", "reference": "dp_123",
                                            "network_reason": "product_not_received"})
    assert ticket.due_at == ticket.dispute.evidence_due_at == datetime(2024, 3, 20, 22, 59, tzinfo=UTC)
    assert ticket.priority == "urgent"
    assert ticket.dispute.evidence[0]["kind"] == "shipment"
    assert ticket.dispute.evidence[0]["delivered_at"] == DELIVERED.isoformat()
    service.update_dispute(ticket, Actor.of_agent(agent), outcome="won")
    assert ticket.dispute.outcome == "won"


def test_warranty_ends_two_years_after_delivery_by_default(make_order, agent):
    order = make_order("1010", delivered_at=DELIVERED)
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="warranty", subject="Broken handle",
                                   lines=[{"order_line_id": order.lines[0].id, "quantity": 1}], now=NOW)
    assert str(ticket.warranty_ends_on) == "2026-03-03"
    with pytest.raises(service.WarrantyExpired):
        service.create_ticket(Actor.of_buyer(order.customer_id), order=order, type="warranty", subject="Broken",
                              lines=[{"order_line_id": order.lines[0].id, "quantity": 1}],
                              now=datetime(2026, 3, 4, 12, tzinfo=UTC))


def test_statuses_request_info_hold_solve_reopen_close(make_order, agent):
    order = make_order("1011", delivered_at=DELIVERED)
    actor = Actor.of_agent(agent)
    ticket = service.create_ticket(actor, order=order, type="question", subject="Size?")
    with pytest.raises(service.InvalidTicket):
        service.set_status(ticket, actor, "pending")  # asking the buyer needs a question
    service.set_status(ticket, actor, "pending", message="Which size do you wear?")
    service.add_message(ticket, Actor.of_buyer(order.customer_id), "M please")
    assert ticket.status == "open"
    service.set_status(ticket, actor, "on_hold")
    service.set_status(ticket, actor, "solved", resolution="accepted")
    service.set_status(ticket, actor, "open")
    service.set_status(ticket, actor, "closed")
    with pytest.raises(rules.InvalidTransition):
        service.set_status(ticket, actor, "open")
    with pytest.raises(rules.InvalidTransition):
        service.add_message(ticket, Actor.of_buyer(order.customer_id), "hello?")
    kinds = [e.kind for e in ticket.events]
    assert kinds.count("status_changed") == 6 and kinds.count("message") == 2


# ---------------------------------------------------------------- HTTP: buyer pages

def test_a_buyer_opens_a_return_on_their_own_order_only(client, make_order, no_csrf):
    mine = make_order("1001", delivered_at=RECENT)
    theirs = make_order("2002", delivered_at=RECENT, email="bo@example.se", customer_id="8")
    assert client.post("/help/", data={"order_number": "1001", "email": "bo@example.se"}).status_code == 404
    assert identify(client).status_code == 303
    page = client.get("/help/requests")
    assert b"#1001" in page.data and b"#2002" not in page.data
    refused = client.post(f"/help/orders/{theirs.id}/new", data={
        "type": "return", "subject": "Not mine", f"qty_{theirs.lines[0].id}": "1"})
    assert refused.status_code == 403
    assert client.get(f"/help/orders/{theirs.id}/new").status_code == 403
    assert count() == 0
    made = client.post(f"/help/orders/{mine.id}/new", data={
        "type": "return", "subject": "Wrong colour", "reason_code": "not_as_described", f"qty_{mine.lines[0].id}": "1"})
    assert made.status_code == 303, made.data
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.customer_id, ticket.channel, ticket.events[0].actor) == (mine.customer_id, "web_form", "buyer")
    # the service refuses it too, whatever the page does
    with pytest.raises(rules.NotYourOrder):
        service.create_ticket(Actor.of_buyer(mine.customer_id), order=theirs, type="question", subject="Hi")
    other = service.create_ticket(Actor("system"), order=theirs, type="question", subject="Theirs")
    assert client.get(f"/help/requests/{other.id}").status_code == 404


def test_buyer_input_with_html_is_shown_as_text_and_huge_input_refused(client, make_order, login, no_csrf):
    mine = make_order("1001", delivered_at=RECENT)
    identify(client)
    made = client.post(f"/help/orders/{mine.id}/new", data={
        "type": "return", "subject": HOSTILE, "description": HOSTILE, f"qty_{mine.lines[0].id}": "1",
        "replacement_title": HOSTILE})
    assert made.status_code == 303
    ticket = db.session.scalar(select(Ticket))
    client.post(f"/help/requests/{ticket.id}/messages", data={"body": HOSTILE})
    page = client.get(f"/help/requests/{ticket.id}").get_data(as_text=True)
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    huge = client.post(f"/help/orders/{mine.id}/new", data={"type": "question", "subject": "Hi", "description": "x" * 20_000})
    assert huge.status_code == 400 and b"the limit is 10,000" in huge.data
    empty = client.post(f"/help/requests/{ticket.id}/messages", data={"body": "  \u200b "})
    assert empty.status_code == 400
    assert count() == 1
    # and the agent sees the same text escaped, in every field
    login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    service.add_message(ticket, Actor("system"), HOSTILE)
    service.update_fields(ticket, Actor("system"), tags=[HOSTILE[:40]])
    agent_page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "<script>" not in agent_page and "<img src=x" not in agent_page
    assert "&lt;script&gt;" in agent_page


# ---------------------------------------------------------------- HTTP: agent pages and chat

def test_an_agent_turns_a_chat_into_a_logistics_claim_on_the_right_line(client, login, make_order, no_csrf):
    order = make_order("1001", lines=(("MUG", "Blue mug", 1, "10.00"), ("VASE", "Glass vase", 1, "30.00")),
                       delivered_at=RECENT)
    conversation = start_conversation(email="ana@example.pt", name="Ana", order_number="1001")
    login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    page = client.get(f"/chat/conversations/{conversation.public_id}")
    assert b"/tickets/new?conversation=" in page.data
    form = client.get(f"/tickets/new?conversation={conversation.public_id}")
    assert form.status_code == 200 and b"Glass vase" in form.data
    vase = order.lines[1]
    made = client.post(f"/tickets/new?conversation={conversation.public_id}", data={
        "type": "logistics_claim", "subject": "Vase arrived broken", "claim_kind": "damaged", f"qty_{vase.id}": "1",
        "claim_declared_value": "30.00", "priority": "high", "channel": "chat"})
    assert made.status_code == 303, made.data
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.order_id, ticket.conversation_id, ticket.customer_id) == (order.id, conversation.id, order.customer_id)
    assert [(l.order_line_id, l.quantity) for l in ticket.lines] == [(vase.id, 1)]
    assert ticket.claim.kind == "damaged" and ticket.channel == "chat"
    view = client.get(f"/tickets/{ticket.id}")
    assert view.status_code == 200 and b"Logistics claim" in view.data
    assert client.get("/tickets/?tab=open").data.count(b"Vase arrived broken") == 1
    bad = client.post(f"/tickets/new?order={order.id}", data={"type": "return", "subject": "x", f"qty_{vase.id}": "abc"})
    assert bad.status_code == 400
    assert count() == 1


def test_agent_actions_through_the_pages(client, login, make_order, no_csrf):
    order = make_order("1001", delivered_at=RECENT)
    agent = login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    ticket = service.create_ticket(Actor.of_agent(agent), order=order, type="question", subject="Hi")
    base = f"/tickets/{ticket.id}"
    assert client.post(f"{base}/messages", data={"body": "Checking", "internal": "on"}).status_code == 303
    assert client.post(f"{base}/assign", data={"agent_id": str(agent.id)}).status_code == 303
    assert client.post(f"{base}/status", data={"status": "pending", "message": "Photo please?"}).status_code == 303
    assert client.post(f"{base}/status", data={"status": "solved", "resolution": "accepted"}).status_code == 303
    assert client.post(f"{base}/status", data={"status": "closed"}).status_code == 303
    assert client.post(f"{base}/status", data={"status": "open"}).status_code == 409
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.assignee_id) == ("closed", agent.id)
    assert [e.kind for e in ticket.events] == ["created", "note", "assigned", "status_changed", "message",
                                               "status_changed", "status_changed"]
    assert client.get("/tickets/999999").status_code == 404


# ---------------------------------------------------------------- REST API

def test_api_with_a_token_creates_and_reads_tickets_and_answers_errors_in_json(client, make_order, make_agent):
    order = make_order("1001", delivered_at=RECENT)
    token = create_token(make_agent(email="bot@test.example", name="Bot"), "integration")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tickets").status_code == 401
    assert client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}).json["error"]["code"] == "unauthorized"
    made = client.post("/api/v1/tickets", headers=auth, json={
        "type": "return", "order_id": order.id, "subject": HOSTILE, "lines": [{"order_line_id": order.lines[0].id,
                                                                              "quantity": 1}],
        "requested_amount": "12.50", "tags": ["damaged box"]})
    assert made.status_code == 201, made.json
    body = made.json
    assert (body["subject"], body["requested_amount"], body["currency"], body["tags"]) == (HOSTILE, "12.50", "EUR",
                                                                                          ["damaged-box"])
    assert body["events"][0]["actor"] == "agent"
    assert client.get(f"/api/v1/tickets/{body['id']}", headers=auth).json["order_number"] == "#1001"
    assert client.get("/api/v1/tickets?status=open", headers=auth).json["tickets"][0]["id"] == body["id"]
    for payload, status, code in [
        ("not json", 400, "invalid_input"),
        ({"type": "return", "order_id": order.id, "subject": "again", "lines": [{"order_line_id": order.lines[0].id,
                                                                                 "quantity": 2}]}, 422, "already_returned"),
        ({"type": "refund", "subject": "no order"}, 422, "order_required"),
        ({"type": "question", "subject": "x", "description": "d" * 10_001}, 400, "invalid_input"),
        ({"type": "question", "subject": "x", "order_id": 10**20}, 400, "invalid_input"),
    ]:
        kwargs = {"data": payload, "content_type": "application/json"} if isinstance(payload, str) else {"json": payload}
        answer = client.post("/api/v1/tickets", headers=auth, **kwargs)
        assert (answer.status_code, answer.json["error"]["code"]) == (status, code), answer.json
    assert client.post(f"/api/v1/tickets/{body['id']}/status", headers=auth, json={"status": "solved"}).json["status"] == "solved"
    assert client.get("/api/v1/tickets/123456789", headers=auth).status_code == 404
    assert count() == 1


def test_api_with_a_session_needs_the_csrf_token_for_writes(client, login, make_order):
    make_order("1001", delivered_at=RECENT)
    login()
    assert client.get("/api/v1/tickets").status_code == 200
    refused = client.post("/api/v1/tickets", json={"type": "question", "subject": "Hi"})
    assert refused.status_code == 400 and refused.is_json
    assert count() == 0


def test_goodwill_covers_the_window_but_never_an_order_that_was_not_shipped(make_order, agent):
    order = make_order("1009", shipped=False)
    assert order.fulfillment_status == "unfulfilled"
    with pytest.raises(rules.NotShippedYet):
        service.create_ticket(Actor.of_agent(agent), order=order, type="return", subject="Goodwill?",
                              lines=[{"order_line_id": order.lines[0].id, "quantity": 1}], now=NOW,
                              override_policy=True, override_reason="Loyal buyer")


def test_html_in_every_ticket_text_field_is_shown_as_text(client, login, make_order, no_csrf):
    """Subject, description, messages, notes, tags, replacement, claim carrier, tracking
    and reference, dispute reference and reason, refund, cancel and override reasons,
    evidence file names: on the agent's pages, the list and the buyer's page."""
    from tickets.evidence import add_evidence
    from tests.chat.test_attachments import PNG

    order = make_order("1001", delivered_at=RECENT, lines=(("MUG", "Blue mug", 2, "12.50"),))
    agent = login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    me = Actor.of_agent(agent)
    short = HOSTILE[:40]
    exchange = service.create_ticket(me, order=order, type="exchange", subject=HOSTILE, description=HOSTILE,
                                     lines=[{"order_line_id": order.lines[0].id, "quantity": 1}],
                                     replacement={"title": HOSTILE, "sku": short}, override_policy=True,
                                     override_reason=HOSTILE, tags=[short])
    service.add_message(exchange, me, HOSTILE)
    service.add_message(exchange, me, HOSTILE, internal=True)
    service.add_message(exchange, Actor.of_buyer(order.customer_id), HOSTILE)
    refund = service.request_refund(exchange, me, kind="amount", amount="1.00", reason=HOSTILE)
    service.cancel_refund(refund, me, reason=HOSTILE)
    claim = service.create_ticket(me, order=order, type="logistics_claim", subject=HOSTILE,
                                  claim={"kind": "lost", "carrier": HOSTILE[:100], "tracking_number": HOSTILE[:100]})
    service.update_claim(claim, me, claim_reference=HOSTILE[:100])
    add_evidence(claim, Actor.of_buyer(order.customer_id), data=PNG, filename=HOSTILE + ".png")
    dispute = service.create_ticket(me, order=order, type="payment_dispute", subject=HOSTILE,
                                    dispute={"evidence_due_at": "2030-01-01T00:00:00Z", "reference": HOSTILE[:100],
                                             "network_reason": HOSTILE})
    pages = {f"/tickets/{t.id}": t for t in (exchange, claim, dispute)}
    pages["/tickets/?tab=all"] = None
    for url in pages:
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page, url
    exchange_page = client.get(f"/tickets/{exchange.id}").get_data(as_text=True)
    # subject (title and heading), description, replacement, 3 messages, override, refund and cancel reasons
    assert exchange_page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") >= 9
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src" in exchange_page  # the tag, cut at 40
    identify(client)
    for ticket in (exchange, claim):
        page = client.get(f"/help/requests/{ticket.id}").get_data(as_text=True)
        assert "<script>" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
