"""The language a buyer chose (``?lang=``, kept in the session; the chat page's language
sent with the start, as the widget's ``data-lang`` sets it) is the language of their
conversation, their ticket and their FAQ suggestions; the browser's ``Accept-Language``
only when they chose none (QA H1, H5). On SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from chat.models import Conversation
from helpdesk.extensions import db
from tickets.models import Ticket

EN_US = {"Accept-Language": "en-US,en;q=0.9"}


def started_language(client, **body) -> str | None:
    answered = client.post("/chat/api/conversations", json={"email": "mei@example.tw", **body}, headers=EN_US)
    assert answered.status_code == 201, answered.data
    return db.session.scalar(select(Conversation.buyer_language)
                             .where(Conversation.public_id == answered.get_json()["conversation"]))


def test_the_language_the_chat_page_sends_is_the_conversations(client):
    assert started_language(client, language="zh-Hant") == "zh-Hant"
    assert started_language(client, language="ja") == "ja"
    assert started_language(client, language="zh-TW") == "zh-Hant"  # a catalog's tag, by script


@pytest.mark.parametrize("sent", ["klingon", "", 42, None, "x" * 500, "sr-Latn"])
def test_a_language_that_is_no_choice_leaves_the_browsers(client, sent):
    assert started_language(client, language=sent) == "en-US"


def test_a_choice_kept_in_the_session_is_the_conversations(client):
    client.get("/chat/?lang=ru", headers=EN_US)
    assert started_language(client) == "ru"


def test_without_a_choice_the_browsers_precise_tag(client):
    answered = client.post("/chat/api/conversations", json={"email": "m@example.rs"},
                           headers={"Accept-Language": "sr-Latn-RS,en;q=0.5"})
    conversation = db.session.scalar(select(Conversation).where(
        Conversation.public_id == answered.get_json()["conversation"]))
    assert conversation.buyer_language == "sr-Latn-RS"


def test_the_chat_page_tells_its_scripts_the_chosen_language(client):
    page = client.get("/chat/?lang=zh-Hant", headers=EN_US).get_data(as_text=True)
    assert re.search(r'id="chat-buyer"[^>]* data-lang="zh-Hant"', page)
    assert re.search(r'id="faq-suggest"[^>]* data-lang="zh-Hant"', page)  # FAQ suggestions in it too
    fresh = client.application.test_client()
    page = fresh.get("/chat/", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert '<html lang="zh-Hant"' in page and 'data-lang=""' in page  # no choice: the browser's


def test_a_ticket_from_the_help_pages_speaks_the_chosen_language(client, order):
    client.application.config["WTF_CSRF_ENABLED"] = False
    try:
        client.get("/help/?lang=ru", headers=EN_US)
        assert client.post("/help/", data={"order_number": order, "email": "ana@example.pt"},
                           headers=EN_US).status_code == 303
        mine = client.get("/help/requests", headers=EN_US).get_data(as_text=True)
        order_id = re.search(r'/help/orders/(\d+)/new', mine).group(1)
        made = client.post(f"/help/orders/{order_id}/new", data={"type": "question", "subject": "Где посылка?"},
                           headers=EN_US)
        assert made.status_code == 303, made.data
    finally:
        client.application.config["WTF_CSRF_ENABLED"] = True
    assert db.session.scalar(select(Ticket.language)) == "ru"
