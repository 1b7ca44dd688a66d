"""Error messages a buyer sees are built in service code through Flask-Babel, in the
request's language, values formatted for it and isolated for bidi (QA H3, L9).

The catalogs get these strings at the next central refresh; until then this app reads a
German catalog made here, with the real mechanism (a compiled .mo in
``BABEL_TRANSLATION_DIRECTORIES``), so a message left out of ``_()`` shows in English and
fails."""
from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask_babel import refresh
from sqlalchemy import func, select

from chat import service as chat_service
from chat.models import Conversation
from helpdesk.extensions import babel, db
from helpdesk.text import isolate
from tests.conftest import build_app

GERMAN = {
    "Please enter a valid e-mail address.": "Bitte eine gültige E-Mail-Adresse eingeben.",
    "We found no order with that number for that e-mail address.":
        "Zu dieser Nummer und E-Mail-Adresse gibt es keine Bestellung.",
    "The name must be text of at most %(limit)s characters, without control characters.":
        "Der Name ist Text mit höchstens %(limit)s Zeichen, ohne Steuerzeichen.",
    "The message is %(length)s characters long; the limit is %(limit)s.":
        "Die Nachricht hat %(length)s Zeichen; erlaubt sind %(limit)s.",
    "The message is empty.": "Die Nachricht ist leer.",
    "Choose a file to send.": "Wählen Sie eine Datei.",
    "%(what)s must not be empty.": "%(what)s darf nicht leer sein.",
    "The subject": "Der Betreff",
    "%(what)s: %(problem)s": "%(what)s: %(problem)s",
    "The amount asked for": "Der gewünschte Betrag",
    "%(value)s is not an amount of money.": "%(value)s ist kein Geldbetrag.",
}
DE = {"Accept-Language": "de-DE"}


@pytest.fixture(scope="module")
def german_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalogs")
    catalog = Catalog(locale="de")
    for english, german in GERMAN.items():
        catalog.add(english, german)
    (root / "de" / "LC_MESSAGES").mkdir(parents=True)
    with open(root / "de" / "LC_MESSAGES" / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    app = build_app("sqlite:///" + str(root / "helpdesk.sqlite3"), BABEL_TRANSLATION_DIRECTORIES=str(root))
    # Flask-Babel caches catalogs per locale for the process, not per app: this German
    # must not reach the other tests (nor theirs this app).
    with app.app_context():
        babel.domain_instance.cache.clear()
    yield app
    with app.app_context():
        babel.domain_instance.cache.clear()
        db.engine.dispose()


def error_of(response) -> str:
    return response.get_json()["error"]["message"]


def test_chat_start_errors_in_the_buyers_language(german_app):
    client = german_app.test_client()
    assert error_of(client.post("/chat/api/conversations", json={"email": "nope"}, headers=DE)) == \
        "Bitte eine gültige E-Mail-Adresse eingeben."
    unknown = client.post("/chat/api/conversations", json={"email": "a@example.com", "order_number": "999"}, headers=DE)
    assert unknown.status_code == 404
    assert error_of(unknown) == "Zu dieser Nummer und E-Mail-Adresse gibt es keine Bestellung."
    long_name = client.post("/chat/api/conversations", json={"email": "a@example.com", "name": "x" * 121}, headers=DE)
    assert error_of(long_name) == "Der Name ist Text mit höchstens 120 Zeichen, ohne Steuerzeichen."
    # the browser's language is English, the buyer chose German on the page: German
    client.get("/chat/?lang=de")
    assert error_of(client.post("/chat/api/conversations", json={"email": "nope"},
                                headers={"Accept-Language": "en"})) == "Bitte eine gültige E-Mail-Adresse eingeben."
    with german_app.app_context():
        assert db.session.scalar(select(func.count(Conversation.id))) == 0  # nothing stored


def test_send_limits_in_the_buyers_language_with_its_numbers(german_app):
    with german_app.test_request_context(headers=DE):
        with pytest.raises(chat_service.MessageTooLong) as too_long:
            chat_service.clean_body("x" * 5_001)
        assert str(too_long.value) == "Die Nachricht hat 5.001 Zeichen; erlaubt sind 5.000."  # German grouping
        with pytest.raises(chat_service.EmptyMessage, match="Die Nachricht ist leer."):
            chat_service.clean_body(" \u200b ")
    with german_app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        with pytest.raises(chat_service.MessageTooLong, match="5,001 characters long; the limit is 5,000"):
            chat_service.clean_body("x" * 5_001)


def test_ticket_form_errors_in_the_buyers_language(german_app):
    from tickets import rules
    from tickets import service as ticket_service

    with german_app.test_request_context(headers=DE):
        with pytest.raises(ticket_service.InvalidTicket, match="^Der Betreff darf nicht leer sein.$"):
            ticket_service.clean_subject("  ")
        with pytest.raises(rules.InvalidRefund) as bad_amount:
            ticket_service.clean_money("zwölf", "EUR", "Der gewünschte Betrag")
        assert str(bad_amount.value) == "Der gewünschte Betrag: 'zwölf' ist kein Geldbetrag."


def test_isolate_keeps_a_value_whole_in_a_sentence_of_the_other_direction():
    assert isolate("#1001") == "\u2068#1001\u2069"
    assert isolate(42) == "\u206842\u2069"
