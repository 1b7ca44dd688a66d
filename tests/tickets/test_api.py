"""The tickets REST API is strict about what it is sent (SQLite and PostgreSQL): every
wrong JSON type is a 400 naming the field, unknown assignees and teams are refused with
a message, unknown list filters and bad pages are 400s (not an empty list), and a
refused request stores nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Team
from tickets.cli import create_token
from tickets.models import Ticket, TicketEvent, TicketRefund

RECENT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def api(client, make_agent):
    """``api(method, path, json=...)`` with a bearer token of a manager."""
    headers = {"Authorization": "Bearer " + create_token(make_agent(email="bot@test.example", name="Bot",
                                                                    role="manager"), "t")}

    def call(method, path, **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def ticket_id(api, make_order):
    order = make_order("1001", delivered_at=RECENT)
    made = api("POST", "/tickets", json={"type": "refund", "order_id": order.id, "subject": "Refund please"})
    assert made.status_code == 201
    return made.json["id"], order


def refused(answer, message: str) -> bool:
    """The answer is a 400 invalid_input whose message holds ``message``."""
    assert (answer.status_code, answer.json["error"]["code"]) == (400, "invalid_input"), answer.json
    assert message in answer.json["error"]["message"], answer.json
    return True


def test_wrong_json_types_are_400s_naming_the_field(api, ticket_id):
    tid, order = ticket_id
    line = order.lines[0].id
    events_before = count(TicketEvent)
    cases = [
        ("POST", f"/tickets/{tid}/refunds", {"kind": "amount", "amount": "1.00", "execute": "yes"},
         "execute must be true or false"),
        ("POST", f"/tickets/{tid}/refunds", {"kind": "amount", "amount": "1.00", "include_shipping": 1},
         "include_shipping must be true or false"),
        ("POST", f"/tickets/{tid}/refunds", {"kind": "amount", "amount": 1.1}, 'amount must be a string such as "12.50"'),
        ("POST", f"/tickets/{tid}/refunds", {"kind": "lines", "lines": [{"order_line_id": line, "quantity": 0}]},
         "lines must be a list of"),
        ("POST", f"/tickets/{tid}/refunds", {"kind": "lines", "lines": [{"order_line_id": line, "quantity": "1"}]},
         "(item 1 is not)"),
        ("POST", f"/tickets/{tid}/refunds", {"kind": "lines", "lines": [{"order_line_id": True, "quantity": 1}]},
         "positive whole numbers"),
        ("POST", f"/tickets/{tid}/refunds", {"kind": "lines", "lines": {"order_line_id": line, "quantity": 1}},
         "lines must be a list of"),
        ("POST", f"/tickets/{tid}/refunds", {"kind": ["amount"]}, "kind must be a string"),
        ("PATCH", f"/tickets/{tid}", {"tags": "a,b"}, "tags must be a list of strings"),
        ("PATCH", f"/tickets/{tid}", {"tags": ["a", 1]}, "tags must be a list of strings"),
        ("PATCH", f"/tickets/{tid}", {"priority": 3}, "priority must be a string"),
        ("POST", f"/tickets/{tid}/messages", {"body": "hi", "internal": "true"}, "internal must be true or false"),
        ("POST", f"/tickets/{tid}/messages", {"body": ["hi"]}, "body must be a string"),
        ("POST", f"/tickets/{tid}/status", {"status": {"to": "solved"}}, "status must be a string"),
        ("POST", f"/tickets/{tid}/assign", {"agent_id": "1"}, "agent_id must be a positive whole number"),
        ("POST", f"/tickets/{tid}/assign", {"team_id": -2}, "team_id must be a positive whole number"),
        ("POST", "/tickets", {"type": "question", "subject": "x", "tags": "urgent"}, "tags must be a list of strings"),
        ("POST", "/tickets", {"type": "question", "subject": 12}, "subject must be a string"),
        ("POST", "/tickets", {"type": "refund", "order_id": order.id, "subject": "x", "requested_amount": 5},
         'requested_amount must be a string such as "12.50"'),
        ("POST", "/tickets", {"type": "question", "subject": "x", "override_policy": "on"},
         "override_policy must be true or false"),
        ("POST", "/tickets", {"type": "logistics_claim", "order_id": order.id, "subject": "x",
                              "claim": {"kind": "lost", "declared_value": 30}}, "declared_value must be a string"),
    ]
    for method, path, payload, message in cases:
        assert refused(api(method, path, json=payload), message)
    assert count(Ticket) == 1 and count(TicketRefund) == 0 and count(TicketEvent) == events_before


def test_approve_must_be_a_boolean_and_cancel_needs_a_reason(api, ticket_id):
    tid, _ = ticket_id
    made = api("POST", f"/tickets/{tid}/refunds", json={"kind": "amount", "amount": "5.00"})
    assert made.status_code == 201 and made.json["state"] == "approved"
    rid = made.json["id"]
    assert refused(api("POST", f"/tickets/{tid}/refunds/{rid}/approve", json={"approve": "no"}),
                   "approve must be true or false")
    assert refused(api("POST", f"/tickets/{tid}/refunds/{rid}/cancel", json={}), "must not be empty")
    cancelled = api("POST", f"/tickets/{tid}/refunds/{rid}/cancel", json={"reason": "Buyer changed their mind"})
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    again = api("POST", f"/tickets/{tid}/refunds/{rid}/cancel", json={"reason": "again"})
    assert (again.status_code, again.json["error"]["code"]) == (409, "invalid_transition")


def test_unknown_assignee_or_team_is_refused_with_a_message(api, ticket_id, make_agent):
    tid, _ = ticket_id
    away = make_agent(email="gone@test.example", name="Gone")
    away.active = False
    db.session.commit()
    for payload, message in [({"agent_id": 987654}, "There is no active agent with id 987654."),
                             ({"agent_id": away.id}, f"There is no active agent with id {away.id}."),
                             ({"team_id": 987654}, "There is no team with id 987654.")]:
        assert refused(api("POST", f"/tickets/{tid}/assign", json=payload), message)
    team = Team(name="Returns")
    db.session.add(team)
    db.session.commit()
    assert api("POST", f"/tickets/{tid}/assign", json={"team_id": team.id}).json["team_id"] == team.id
    assert api("GET", "/tickets/424242").status_code == 404
    assert api("POST", f"/tickets/{tid}/macros/424242").status_code == 404


def test_list_filters_and_pages_are_checked(api, ticket_id):
    tid, order = ticket_id
    assert [t["id"] for t in api("GET", "/tickets?status=new&type=refund").json["tickets"]] == [tid]
    assert api("GET", "/tickets?status=solved").json["tickets"] == []
    assert [t["id"] for t in api("GET", f"/tickets?order_id={order.id}&per_page=1&page=1").json["tickets"]] == [tid]
    listed = api("GET", "/tickets?page=2&per_page=1").json
    assert (listed["tickets"], listed["page"], listed["pages"]) == ([], 2, 1)
    for query, message in [("status=opened", "status must be one of: open, new, open, pending"),
                           ("type=refunds", "type must be one of: return, refund"),
                           ("unassigned=yes", "unassigned must be one of: 0, 1"),
                           ("assignee=bob", "assignee must be a whole number"),
                           ("order_id=-1", "order_id must be a whole number"),
                           ("page=0", "page must be a whole number from 1 to 100,000"),
                           ("page=abc", "page must be a whole number"),
                           ("page=１", "page must be a whole number"),
                           ("page=100001", "page must be a whole number from 1"),
                           ("per_page=101", "per_page must be a whole number from 1 to 100")]:
        assert refused(api("GET", f"/tickets?{query}"), message), query
