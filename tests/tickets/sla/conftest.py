"""SLA fixtures: a Berlin calendar (Mon–Fri 09:00–18:00, German public holidays) and
policies made through the same checks the admin pages use."""
from __future__ import annotations

import pytest

from helpdesk.extensions import db
from tickets.sla.models import SlaCalendar, SlaPolicy
from tickets.sla.policies import apply_calendar, apply_policy

WEEKDAYS_9_18 = {"hours": ["09:00-18:00"] * 5 + ["", ""]}


@pytest.fixture
def berlin_calendar(app):
    row = apply_calendar(SlaCalendar(), {"name": "Berlin office", "time_zone": "Europe/Berlin",
                                         "holiday_country": "DE", **WEEKDAYS_9_18})
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def make_policy(app, berlin_calendar):
    """``make_policy(**fields) -> SlaPolicy``: business hours of the Berlin calendar unless
    ``business=False``; targets in hours as ``first_response_hours=4`` etc."""

    def make(**fields):
        data = {"name": f"Policy {db.session.query(SlaPolicy).count() + 1}", "calendar_id": berlin_calendar.id,
                **fields}
        row = apply_policy(SlaPolicy(), data)
        db.session.add(row)
        db.session.commit()
        return row

    return make
