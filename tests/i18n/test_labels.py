"""Codes shown to buyers and agents go through labels: no raw keys, no Python reprs, the
"No translation for pt→en" marker in the viewer's language (QA M2, M3). On SQLite and
PostgreSQL."""
from __future__ import annotations

from flask_babel import refresh
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.labels import label, no_translation
from helpdesk.models import Order
from helpdesk.templating import status_label
from tickets import service
from tickets.labels import timeline_value
from tickets.service import Actor

DE = {"Accept-Language": "de"}


def test_labels_of_codes(app):
    with app.test_request_context():
        assert label("web_form", "channel") == "web form"
        assert label("marketplace_message", "channel") == "marketplace message"
        assert label("status_changed", "event") == "status changed"
        assert label("brand_new_code", "channel") == "brand new code"  # unknown: readable, not a key
        assert label(None, "priority") == ""
        assert no_translation("ru", "en") == "No translation for \u2068ru→en\u2069"
    with app.test_request_context(headers=DE):  # labels whose German is in the catalogs already
        refresh()  # the app fixture's context keeps the locale chosen above
        assert label("open", "chat_status") == "offen"
        assert label("closed", "chat_status") == "geschlossen"
        assert label("rejected", "resolution") == "abgelehnt"
        assert status_label("delivered") == "zugestellt"
        assert timeline_value("outcome_unknown", True) == "ja"


def test_timeline_details_are_readable(app, client, order, login):
    login()
    found = db.session.scalar(select(Order))
    line = found.lines[0]
    ticket = service.create_ticket(Actor.of_buyer(found.customer_id), order=found, type="return",
                                   subject="Onde está?", channel="web_form", reason_code="damaged",
                                   lines=[{"order_line_id": line.id, "quantity": 2}])
    with app.test_request_context():
        assert timeline_value("lines", [{"order_line_id": line.id, "quantity": 2}], found) == "2 × Chávena azul"
        assert timeline_value("from", {"agent": "Ana", "team": None}) == "agent: Ana"
        assert timeline_value("to", "on_hold") == "waiting for the carrier or marketplace"
        assert timeline_value("type", "logistics_claim") == "Parcel lost, damaged, late or held in customs"
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "· created" in page and "<dt>items</dt><dd><bdi>2 × Chávena azul</bdi></dd>" in page
    assert "<dt>channel</dt><dd><bdi>web form</bdi></dd>" in page and "<dt>type</dt><dd><bdi>Return</bdi></dd>" in page
    assert "order_line_id" not in page and "[{" not in page and "web_form" not in page.replace('value="web_form"', "")


def test_order_numbers_are_isolated_in_headings(app, client, order, login):
    """QA M6: "#5001" inside an Arabic sentence stays "#5001", not "5001#"."""
    login(locale="ar")
    found = db.session.scalar(select(Order))
    page = client.get(f"/orders/{found.id}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in page and "\u2068#5001\u2069" in page
