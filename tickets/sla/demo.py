"""Demo SLA data: the stores' calendar (Europe/London, Mon–Fri 09:00–18:00, holidays of
England), three policies, and a few open tickets on demo orders at different ages so the
queue shows clocks running, paused, warned and breached."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent, Order
from tickets import service
from tickets.models import Ticket
from tickets.service import Actor
from tickets.sla.models import SlaCalendar, SlaPolicy
from tickets.sla.policies import apply_calendar, apply_policy

CALENDAR = {"name": "Store hours (London)", "time_zone": "Europe/London", "holiday_country": "GB",
            "holiday_subdivision": "ENG", "hours": ["09:00-18:00"] * 5 + ["", ""]}
POLICIES = (
    {"name": "Urgent", "position": 10, "priorities": "urgent", "first_response_minutes": 30, "resolution_hours": 8,
     "escalate_raise_priority": False},
    {"name": "Marketplace messages: 24 hours, weekends included", "position": 20,
     "marketplaces": "amazon ebay", "business": False, "first_response_hours": 24, "next_response_hours": 24},
    {"name": "Standard", "position": 30, "first_response_hours": 4, "next_response_hours": 8,
     "periodic_update_hours": 24, "resolution_hours": 40, "escalate_raise_priority": True},
)
# (subject, priority, hours ago, then: None | "pending" | "answered")
TICKETS = (
    ("Parcel not arrived after three weeks", "normal", 1, None),
    ("Mug arrived broken, photos attached", "high", 3.5, None),
    ("Wrong size, can I exchange?", "normal", 30, None),
    ("Refund still not on my card", "urgent", 2, None),
    ("Which colour do you still have?", "normal", 5, "pending"),
    ("Invoice with VAT number please", "low", 6, "answered"),
)


def seed_demo_sla() -> int:
    """Create the demo calendar, policies and tickets unless a calendar exists already.

    Returns:
        The number of tickets opened.
    """
    if db.session.scalar(select(SlaCalendar.id).limit(1)) is not None:
        return 0
    calendar = apply_calendar(SlaCalendar(), CALENDAR)
    db.session.add(calendar)
    db.session.flush()
    for fields in POLICIES:
        db.session.add(apply_policy(SlaPolicy(), {"calendar_id": calendar.id, **fields}))
    db.session.commit()
    agent = db.session.scalar(select(Agent).where(Agent.role == "agent").order_by(Agent.id))
    orders = db.session.scalars(select(Order).where(Order.customer_id.is_not(None)).order_by(Order.id).limit(
        len(TICKETS))).all()
    if agent is None or not orders:
        return 0
    now = utcnow().replace(microsecond=0)
    actor = Actor.of_agent(agent)
    for (subject, priority, hours, then), order in zip(TICKETS, orders):
        opened = now - timedelta(hours=hours)
        ticket = service.create_ticket(actor, order=order, type="question", subject=subject, priority=priority,
                                       channel="email", now=opened)
        if then == "pending":
            service.set_status(ticket, actor, "pending", message="Which colour would you like?",
                               now=opened + timedelta(hours=1))
        elif then == "answered":
            service.add_message(ticket, actor, "Here it is, attached.", now=opened + timedelta(minutes=40))
    return db.session.query(Ticket).count()
