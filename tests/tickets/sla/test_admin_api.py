"""SLA calendars and policies through the admin pages and /api/v1/sla (SQLite and
PostgreSQL): managers only, bad input a 4xx with a readable reason and nothing stored,
hostile text shown as text, a ticket's stored targets over the API."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from tickets import service
from tickets.cli import create_token
from tickets.service import Actor
from tickets.sla.models import SlaCalendar, SlaPolicy

HOSTILE = '<script>alert("x")</script>'
MONDAY = datetime(2024, 6, 17, 7, 0, tzinfo=timezone.utc)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def api(client, make_agent):
    """``api(method, path, json=None, role="manager")`` with a bearer token."""
    tokens = {}

    def call(method, path, json=None, role="manager"):
        if role not in tokens:
            agent = make_agent(email=f"{role}@test.example", name=role.title(), role=role)
            tokens[role] = create_token(agent, "test")
        return client.open(f"/api/v1/sla{path}", method=method, json=json,
                           headers={"Authorization": f"Bearer {tokens[role]}"})

    return call


CALENDAR = {"name": "Shanghai office", "time_zone": "Asia/Shanghai", "holiday_country": "CN",
            "hours": ["09:00-12:00, 13:00-18:00"] * 5 + ["", ""], "custom_holidays": ["2024-06-18"]}


def test_calendars_and_policies_over_the_api(api, make_order, make_agent):
    created = api("POST", "/calendars", CALENDAR)
    assert created.status_code == 201
    calendar = created.get_json()
    assert calendar["hours"][0] == "09:00-12:00, 13:00-18:00" and calendar["holiday_country"] == "CN"
    policy = api("POST", "/policies", {"name": "China", "calendar_id": calendar["id"], "countries": ["PT"],
                                      "first_response_hours": 2, "resolution_seconds": 86400})
    assert policy.status_code == 201, policy.get_json()
    assert policy.get_json()["targets"] == {"first_response": 7200, "next_response": None,
                                            "periodic_update": None, "resolution": 86400}
    assert [p["name"] for p in api("GET", "/policies").get_json()["policies"]] == ["China"]
    agent = make_agent(email="worker@test.example", name="Worker")
    ticket = service.create_ticket(Actor.of_agent(agent), order=make_order("6001"), type="question",
                                   subject="Hello", now=MONDAY)  # 15:00 in Shanghai, Monday
    targets = api("GET", f"/tickets/{ticket.id}/targets", role="agent").get_json()["targets"]
    first = next(t for t in targets if t["metric"] == "first_response")
    # 15:00 + 2 business hours = 17:00 Shanghai = 09:00 UTC
    assert (first["due_at"], first["state"], first["breached"]) == ("2024-06-17T09:00:00+00:00", "active", False)
    resolution = next(t for t in targets if t["metric"] == "resolution")
    # 3 h Monday, the 18th is closed, 8 h Wednesday, ... 24 h = Thursday 8 h, Friday 5 h → Friday 15:00
    assert resolution["due_at"] == "2024-06-21T07:00:00+00:00"
    changed = api("PUT", f"/policies/{policy.get_json()['id']}", {"name": "China", "business": False,
                                                                  "first_response_hours": 1})
    assert changed.status_code == 200 and changed.get_json()["calendar_id"] is None


@pytest.mark.parametrize("body, message", [
    ({**CALENDAR, "time_zone": "Mars/Olympus"}, "time zone"),
    ({**CALENDAR, "hours": ["9-5"] * 7}, "not a time such as 09:00"),
    ({**CALENDAR, "hours": ["09:00-18:00"] * 6}, "seven days"),
    ({**CALENDAR, "holiday_country": "Atlantis"}, "not a country"),
    ({**CALENDAR, "holiday_country": "DE", "holiday_subdivision": "XX"}, "No public holidays"),
    ({**CALENDAR, "custom_holidays": ["2024-02-30"]}, "not a date"),
    ({**CALENDAR, "name": ""}, "must not be empty"),
    ({**CALENDAR, "name": "x" * 500}, "at most 120"),
    ({**CALENDAR, "name": "bad\x00name"}, "control"),
    ({**CALENDAR, "hours": [HOSTILE] * 7}, "not a range"),
])
def test_bad_calendars_are_refused(api, body, message):
    response = api("POST", "/calendars", body)
    assert response.status_code == 422 and message in response.get_json()["error"]["message"]
    assert count(SlaCalendar) == 0


@pytest.mark.parametrize("body, message", [
    ({"name": "P"}, "at least one target"),
    ({"name": "P", "business": False, "first_response_hours": -1}, "positive"),
    ({"name": "P", "business": False, "first_response_hours": "NaN"}, "number"),
    ({"name": "P", "business": False, "first_response_hours": "１"}, "number"),
    ({"name": "P", "business": False, "first_response_hours": 99999}, "366 days"),
    ({"name": "P", "first_response_hours": 1}, "need a calendar"),
    ({"name": "P", "business": False, "first_response_hours": 1, "types": ["teleport"]}, "Unknown types"),
    ({"name": "P", "business": False, "first_response_hours": 1, "countries": ["Narnia"]}, "not a country"),
    ({"name": "P", "business": False, "first_response_hours": 1, "languages": ["<b>"]}, "language"),
    ({"name": "P", "business": False, "first_response_hours": 1, "warn_ratio": 1.5}, "between 1% and 99%"),
    ({"name": "P", "business": False, "first_response_hours": 1, "escalate_to_agent_id": 999999}, "no such agent"),
    ({"name": "P", "business": False, "first_response_hours": 1, "store_ids": [12345]}, "store"),
    ({"name": "P", "business": False, "first_response_hours": 1, "types": "x" * 5000}, "Unknown types"),
    ({"name": "P", "business": False, "first_response_hours": 1, "position": 1e300}, "The order must be a whole"),
    ({"name": "P", "business": False, "first_response_hours": 1, "position": "-3"}, "The order must be a whole"),
    ({"name": "P", "business": False, "first_response_minutes": "ten"}, "first response target must be a number"),
])
def test_bad_policies_are_refused(api, body, message):
    response = api("POST", "/policies", body)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["error"]["message"]
    assert count(SlaPolicy) == 0


def test_only_managers_change_and_unknown_ids_are_404(api, client):
    assert api("POST", "/calendars", CALENDAR, role="agent").status_code == 403
    assert api("GET", "/calendars", role="agent").status_code == 200
    assert api("GET", "/policies/99999").status_code == 404
    assert api("POST", "/policies", "not an object").status_code == 422
    assert client.get("/api/v1/sla/policies").status_code == 401
    assert count(SlaCalendar) == 0


def test_admin_pages(client, login, make_agent):
    manager = login(role="manager")
    client.application.config["WTF_CSRF_ENABLED"] = False
    try:
        form = {"name": HOSTILE, "time_zone": "Europe/Berlin", "holiday_country": "Germany",
                "holiday_subdivision": "by", **{f"hours_{d}": "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
                "custom_holidays": "2024-12-24\n2024-12-31"}
        assert client.post("/admin/sla/calendars", data=form).status_code == 303
        calendar = db.session.scalar(select(SlaCalendar))
        assert (calendar.holiday_country, calendar.holiday_subdivision) == ("DE", "BY")
        refused = client.post("/admin/sla/calendars", data={**form, "name": "Other", "hours_mon": "25:00-26:00"})
        assert refused.status_code == 422 and "not a time of day" in refused.get_data(as_text=True)
        saved = client.post("/admin/sla/policies", data={"name": "Standard", "position": "1", "active": "on",
                                                         "business": "on", "calendar_id": calendar.id,
                                                         "first_response_hours": "4", "warn_percent": "80",
                                                         "priorities": ["high", "urgent"], "languages": "de pt-BR"})
        assert saved.status_code == 303
        policy = db.session.scalar(select(SlaPolicy))
        assert (policy.first_response_seconds, policy.warn_ratio, policy.priorities, policy.languages) == (
            14400, 0.8, ["high", "urgent"], ["de", "pt-BR"])
        page = client.get("/admin/sla/").get_data(as_text=True)
        assert HOSTILE not in page and "&lt;script&gt;" in page and "First response 4 h" in page
    finally:
        client.application.config["WTF_CSRF_ENABLED"] = True
    assert count(SlaCalendar) == 1 and manager.role == "manager"


def test_agents_cannot_open_the_admin_pages(client, login):
    login()
    assert client.get("/admin/sla/").status_code == 403
