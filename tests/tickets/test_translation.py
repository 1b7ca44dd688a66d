"""Buyers' ticket messages translated into the agent's language, beside the original
(tickets/translation.py), on SQLite and PostgreSQL with the tiny offline argos models."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.translation.worker import worker
from tickets import service
from tickets.models import Ticket, TicketEvent
from tickets.service import Actor
from tickets.translation import TicketEventTranslation, translate_ticket

PT = "Olá, a chávena chegou partida. A encomenda #5001 custou 30,00 €."


@pytest.fixture
def ticket(app, make_order, make_agent):
    order = make_order("5001")
    agent = make_agent(email="lukas@test.example", name="Lukas")
    made = service.create_ticket(Actor.of_agent(agent), order=order, type="question", subject="Cup")
    return made.id, order.customer_id


def buyer_writes(ticket_id: int, customer_id: int, body: str) -> None:
    service.add_message(db.session.get(Ticket, ticket_id), Actor.of_buyer(customer_id), body)
    db.session.rollback()  # no transaction (nor SQLite's write lock) held while the worker runs


def stored():
    rows = db.session.execute(select(TicketEventTranslation.lang, TicketEventTranslation.source_lang,
                                     TicketEventTranslation.status, TicketEventTranslation.engine,
                                     TicketEventTranslation.text, TicketEventTranslation.note)
                              .order_by(TicketEventTranslation.id)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def page(client, ticket_id: int) -> str:
    return html.unescape(client.get(f"/tickets/{ticket_id}").get_data(as_text=True))


def test_a_buyers_message_is_translated_into_the_agents_language(app, client, login, translation, ticket):
    translation.install("pt-en")
    ticket_id, customer_id = ticket
    buyer_writes(ticket_id, customer_id, PT)
    assert worker(app).drain()
    [(lang, source, status, engine, text, note)] = stored()
    assert (lang, source, status, engine, note) == ("en", "pt", "translated", "argos", None)
    assert "#5001" in text and "30,00 €" in text  # protected through the model
    assert db.session.scalar(select(TicketEvent.payload).where(TicketEvent.actor == "buyer"))["body"] == PT
    login(email="reader@test.example")
    shown = page(client, ticket_id)
    assert PT in shown and "Machine translation (en)" in shown and text in shown
    assert translate_ticket(ticket_id) == []  # done once: a second run stores nothing


def test_without_a_model_the_message_is_kept_and_the_agent_sees_a_marker(app, client, login, translation, ticket):
    ticket_id, customer_id = ticket
    buyer_writes(ticket_id, customer_id, PT)
    assert worker(app).drain()
    assert stored() == [("en", "pt", "unavailable", "argos", None, "No translation for pt→en")]
    login(email="reader@test.example")
    shown = page(client, ticket_id)
    assert PT in shown and "No translation for \u2068pt→en\u2069" in shown  # the marker in the viewer's language, isolated
    translation.install("pt-en")  # a model installed since: the next reply retries the marker
    buyer_writes(ticket_id, customer_id, "A chávena chegou partida.")
    assert worker(app).drain()
    assert [row[2] for row in stored()] == ["translated", "translated"]


def test_without_any_engine_the_marker_says_so(app, ticket):
    ticket_id, customer_id = ticket
    buyer_writes(ticket_id, customer_id, PT)
    assert worker(app).drain()
    assert stored() == [("en", "pt", "unavailable", "none", None, "No translation for pt→en")]


def test_a_failing_engine_loses_nothing(app, translation, ticket):
    translation.install("pt-en-corrupt")
    ticket_id, customer_id = ticket
    buyer_writes(ticket_id, customer_id, PT)
    buyer_writes(ticket_id, customer_id, "Ainda estou à espera.")
    assert worker(app).drain()
    assert {row[2:6:3] for row in stored()} == {("failed", "Translation failed for pt→en")}
    assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.actor == "buyer")) == 2


def test_nothing_to_translate_for_an_agent_who_reads_the_buyers_language(app, translation, make_agent, ticket):
    translation.install("pt-en")
    ticket_id, customer_id = ticket
    reader = make_agent(email="rita@test.example", name="Rita", languages=["pt", "en"])
    service.assign(db.session.get(Ticket, ticket_id), Actor.of_agent(reader), agent_id=reader.id)
    buyer_writes(ticket_id, customer_id, PT)
    assert worker(app).drain()
    assert stored() == []
    buyer_writes(ticket_id, customer_id, "#5001")  # nothing but an order number: never a translation
    assert worker(app).drain()
    assert stored() == []


def test_agent_notes_and_replies_are_not_translated(app, translation, make_agent, ticket):
    translation.install("pt-en")
    ticket_id, _customer_id = ticket
    agent = make_agent(email="other@test.example", name="Other")
    service.add_message(db.session.get(Ticket, ticket_id), Actor.of_agent(agent), "Nota interna em português.",
                        internal=True)
    service.add_message(db.session.get(Ticket, ticket_id), Actor.of_agent(agent), "Vamos enviar outra chávena.")
    db.session.rollback()
    assert translate_ticket(ticket_id) == [] and stored() == []


def test_the_description_of_a_ticket_the_buyer_opened_is_translated(app, client, login, translation, make_order):
    translation.install("pt-en")
    order = make_order("5002")
    made = service.create_ticket(Actor.of_buyer(order.customer_id), order=order, type="question",
                                 subject="Chávena", description=PT)
    ticket_id = made.id
    db.session.rollback()
    assert worker(app).drain()
    [(lang, source, status, _engine, text, _note)] = stored()
    assert (lang, source, status) == ("en", "pt", "translated") and "#5001" in text
    created = db.session.scalar(select(TicketEvent.id).where(TicketEvent.kind == "created"))
    assert db.session.scalar(select(TicketEventTranslation.event_id)) == created
    login(email="reader@test.example")
    shown = page(client, ticket_id)
    assert shown.index(PT) < shown.index("Machine translation (en)") < shown.index(text)
