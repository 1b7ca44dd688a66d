"""Per-ticket SLA targets driven by the real ticket actions (SQLite and PostgreSQL):
policies chosen in order, business-hours deadlines, pause while pending, resume on the
buyer's reply, reopen, next-response cycles, and what is stored for reports."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Customer
from tickets import service
from tickets.service import Actor
from tickets.sla.models import SlaTarget

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_EVENING = datetime(2024, 6, 14, 19, 30, tzinfo=BERLIN)
MONDAY = datetime(2024, 6, 17, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def agent(make_agent):
    return make_agent(email="mia@test.example", name="Mia")


def targets(ticket) -> dict[tuple[str, int], SlaTarget]:
    db.session.expire_all()
    rows = db.session.scalars(select(SlaTarget).filter_by(ticket_id=ticket.id))
    return {(row.metric, row.cycle): row for row in rows}


def open_ticket(agent, make_order, at, number="2001", **fields):
    order = make_order(number)
    return service.create_ticket(Actor.of_agent(agent), order=order, type=fields.pop("type", "question"),
                                 subject="Where is my parcel?", now=at, **fields)


def test_first_matching_policy_in_order_wins(make_policy, make_order, agent):
    make_policy(name="Urgent", position=1, priorities="urgent", first_response_hours=1)
    make_policy(name="Portugal", position=2, countries="Portugal", first_response_hours=2, resolution_hours=40)
    make_policy(name="Everyone", position=3, first_response_hours=8)
    ticket = open_ticket(agent, make_order, MONDAY)
    rows = targets(ticket)
    assert set(rows) == {("first_response", 0), ("resolution", 0)}
    assert rows["first_response", 0].policy.name == "Portugal"
    assert rows["first_response", 0].due_at == datetime(2024, 6, 17, 11, 0, tzinfo=BERLIN)
    assert rows["resolution", 0].due_at == datetime(2024, 6, 21, 13, 0, tzinfo=BERLIN)  # 40 h: 4 days and 4 hours
    urgent = open_ticket(agent, make_order, MONDAY, number="2002", priority="urgent")
    assert targets(urgent)["first_response", 0].policy.name == "Urgent"


def test_no_policy_no_targets(make_policy, make_order, agent):
    make_policy(name="Amazon only", marketplaces="amazon", first_response_hours=1)
    assert targets(open_ticket(agent, make_order, MONDAY)) == {}


def test_tier_and_language_conditions(make_policy, make_order, agent):
    make_policy(name="VIP German", position=1, tiers="vip", languages="de", first_response_hours=1)
    make_policy(name="Rest", position=2, first_response_hours=8)
    ticket = open_ticket(agent, make_order, MONDAY, language="de-AT")
    assert targets(ticket)["first_response", 0].policy.name == "Rest"
    db.session.execute(Customer.__table__.update().values(tier="vip"))
    db.session.commit()
    again = open_ticket(agent, make_order, MONDAY, number="2003", language="de-AT")
    assert targets(again)["first_response", 0].policy.name == "VIP German"


def test_created_friday_after_closing_counts_from_monday(make_policy, make_order, agent):
    make_policy(first_response_hours=4)
    ticket = open_ticket(agent, make_order, FRIDAY_EVENING)
    first = targets(ticket)["first_response", 0]
    assert first.started_at == FRIDAY_EVENING and first.due_at == datetime(2024, 6, 17, 13, 0, tzinfo=BERLIN)
    assert first.warn_at == datetime(2024, 6, 17, 12, 0, tzinfo=BERLIN)  # 75 % of 4 h
    service.add_message(ticket, Actor.of_agent(agent), "On its way", now=datetime(2024, 6, 17, 9, 30, tzinfo=BERLIN))
    first = targets(ticket)["first_response", 0]
    assert (first.state, first.elapsed_seconds, first.breached) == ("achieved", 1800, False)


def test_calendar_hours_policy_counts_weekends(make_policy, make_order, agent):
    make_policy(name="Marketplace 24h", business=False, first_response_hours=24)
    ticket = open_ticket(agent, make_order, FRIDAY_EVENING)
    first = targets(ticket)["first_response", 0]
    assert first.due_at == FRIDAY_EVENING + timedelta(hours=24) and first.calendar_id is None


def test_pending_pauses_and_the_buyers_reply_resumes(make_policy, make_order, agent):
    make_policy(first_response_hours=4, resolution_hours=16, next_response_hours=2)
    ticket = open_ticket(agent, make_order, MONDAY)  # resolution due Tuesday 16:00
    service.set_status(ticket, Actor.of_agent(agent), "pending", message="Which colour?",
                       now=MONDAY + timedelta(hours=1))
    rows = targets(ticket)
    assert rows["first_response", 0].state == "achieved" and rows["first_response", 0].elapsed_seconds == 3600
    assert rows["resolution", 0].state == "paused"
    assert rows["resolution", 0].paused_at == MONDAY + timedelta(hours=1)
    # The buyer answers on Wednesday 10:00: Monday 10:00 to Wednesday 10:00 is 18 business
    # hours paused; 15 h of resolution were left.
    replied = datetime(2024, 6, 19, 10, 0, tzinfo=BERLIN)
    service.add_message(ticket, Actor.of_buyer(ticket.customer_id), "Blue, please", now=replied)
    rows = targets(ticket)
    resolution = rows["resolution", 0]
    assert (resolution.state, resolution.paused_seconds) == ("active", 18 * 3600)
    assert resolution.due_at == datetime(2024, 6, 20, 16, 0, tzinfo=BERLIN)
    assert rows["next_response", 0].due_at == replied + timedelta(hours=2)
    service.add_message(ticket, Actor.of_agent(agent), "Sent", now=replied + timedelta(hours=3))
    rows = targets(ticket)
    assert rows["next_response", 0].breached and rows["next_response", 0].elapsed_seconds == 3 * 3600
    assert rows["next_response", 0].breached_at == replied + timedelta(hours=2)
    service.set_status(ticket, Actor.of_agent(agent), "solved", now=datetime(2024, 6, 20, 11, 0, tzinfo=BERLIN))
    resolution = targets(ticket)["resolution", 0]
    # 1 h Monday, then from Wednesday 10:00: 8 h + 2 h Thursday = 11 h used of 16
    assert (resolution.state, resolution.elapsed_seconds, resolution.breached) == ("achieved", 11 * 3600, False)


def test_on_hold_pauses_only_when_the_policy_says_so(make_policy, make_order, agent):
    make_policy(name="Holds", resolution_hours=8, pause_on_hold=True, priorities="high")
    make_policy(name="No holds", resolution_hours=8)
    paused = open_ticket(agent, make_order, MONDAY, priority="high")
    running = open_ticket(agent, make_order, MONDAY, number="2005")
    for ticket in (paused, running):
        service.set_status(ticket, Actor.of_agent(agent), "on_hold", now=MONDAY + timedelta(hours=1))
    assert targets(paused)["resolution", 0].state == "paused"
    assert targets(running)["resolution", 0].state == "active"
    service.set_status(paused, Actor.of_agent(agent), "open", now=MONDAY + timedelta(hours=3))
    resolution = targets(paused)["resolution", 0]
    assert (resolution.paused_seconds, resolution.due_at) == (7200, datetime(2024, 6, 18, 10, 0, tzinfo=BERLIN))


def test_reopen_gets_a_fresh_resolution_target_or_what_was_left(make_policy, make_order, agent):
    make_policy(name="Fresh", position=1, types="question", resolution_hours=8)
    make_policy(name="Left", position=2, resolution_hours=8, fresh_resolution_on_reopen=False)
    fresh = open_ticket(agent, make_order, MONDAY)
    left = open_ticket(agent, make_order, MONDAY, number="2004", type="order_change")
    for ticket in (fresh, left):
        service.set_status(ticket, Actor.of_agent(agent), "solved", now=MONDAY + timedelta(hours=3))
        service.add_message(ticket, Actor.of_buyer(ticket.customer_id), "Not solved!",
                            now=MONDAY + timedelta(days=1))
    for ticket, hours in ((fresh, 8), (left, 5)):
        rows = targets(ticket)
        assert rows["resolution", 0].state == "achieved" and rows["resolution", 0].elapsed_seconds == 3 * 3600
        reopened = rows["resolution", 1]
        assert reopened.state == "active" and reopened.target_seconds == hours * 3600
        assert reopened.due_at == MONDAY + timedelta(days=1, hours=hours)


def test_periodic_updates_cycle_with_each_public_reply(make_policy, make_order, agent):
    make_policy(periodic_update_hours=2, first_response_hours=1)
    ticket = open_ticket(agent, make_order, MONDAY)
    for minutes in (30, 90, 300):
        service.add_message(ticket, Actor.of_agent(agent), f"Update {minutes}", now=MONDAY + timedelta(minutes=minutes))
    service.add_message(ticket, Actor.of_agent(agent), "Internal", internal=True, now=MONDAY + timedelta(hours=6))
    rows = targets(ticket)
    assert [(c, rows["periodic_update", c].state, rows["periodic_update", c].breached) for c in range(3)] == [
        (0, "achieved", False), (1, "achieved", True), (2, "active", False)]
    assert rows["periodic_update", 2].due_at == MONDAY + timedelta(minutes=300 + 120)


def test_solving_cancels_responses_still_running(make_policy, make_order, agent):
    make_policy(first_response_hours=4, resolution_hours=8)
    ticket = open_ticket(agent, make_order, MONDAY)
    service.set_status(ticket, Actor.of_agent(agent), "solved", now=MONDAY + timedelta(hours=1))
    rows = targets(ticket)
    assert rows["first_response", 0].state == "cancelled" and rows["first_response", 0].elapsed_seconds is None
    assert rows["resolution", 0].state == "achieved"
