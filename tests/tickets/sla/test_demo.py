"""The demo's SLA seed: a calendar, policies, and open tickets whose clocks run, pause
and are met, so the demo queue shows real SLA clocks."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from helpdesk.extensions import db
from tickets.sla.demo import TICKETS, seed_demo_sla
from tickets.sla.models import SlaPolicy, SlaTarget


def test_demo_seed_gives_the_queue_real_clocks(app, make_order, make_agent):
    make_agent(email="lukas@test.example", name="Lukas")
    for i in range(len(TICKETS)):
        make_order(f"50{i}")
    assert seed_demo_sla() == len(TICKETS)
    assert seed_demo_sla() == 0  # once only
    assert [p.name for p in db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.position))][0] == "Urgent"
    states = Counter((t.metric, t.state) for t in db.session.scalars(select(SlaTarget)))
    assert states[("first_response", "achieved")] == 2  # the pending one was asked, one was answered
    assert states[("resolution", "paused")] == 1
    assert states[("first_response", "active")] == 4
    urgent = db.session.scalar(select(SlaTarget).join(SlaPolicy).where(SlaPolicy.name == "Urgent"))
    assert urgent.target_seconds == 1800
