"""Machine translation in the chat, with real Socket.IO clients and the real argos engine
on tiny models built offline: delivered at once in the original, translated afterwards."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from chat.models import Conversation, Message, MessageTranslation
from helpdesk.extensions import db
from helpdesk.translation.models import TranslationCache
from helpdesk.translation.worker import worker
from tests.translation.test_engines import EscapingEngine  # noqa: F401  (registers the "escaping" engine)

PT = "Olá, a chávena chegou partida. A encomenda #5001 custou 30,00 €."
EN = "I am sorry! We will send you another cup today."


def cid() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def chat(live, order, start_chat, agent_session, clients):
    """A buyer and an agent (who reads English) in one conversation, both connected."""
    public_id, token = start_chat(order_number="5001")
    buyer = clients(live, auth={"token": token})
    agent = clients(live, http_session=agent_session(languages=["en"]))
    assert agent.call("conversation:join", {"conversation": public_id})["ok"] is True
    return public_id, buyer, agent


def stored_translations():
    rows = [(t.message.seq, t.lang, t.status, t.engine) for t in
            db.session.scalars(select(MessageTranslation).order_by(MessageTranslation.id))]
    db.session.rollback()  # never keep SQLite's lock while the server works
    return rows


def test_buyer_pt_to_agent_en_and_back_with_models(app, translation, chat):
    translation.install("pt-en", "en-pt")
    public_id, buyer, agent = chat
    sent = buyer.call("message:send", {"client_id": cid(), "body": PT})
    assert sent["ok"] and sent["message"]["translations"] == []  # delivered at once, in the original
    [arrived] = agent.wait_for("message")
    assert arrived["body"] == PT
    [translated] = agent.wait_for("message:translated")
    assert {k: translated[k] for k in ("conversation", "seq", "lang", "source_lang", "status", "engine")} == \
        {"conversation": public_id, "seq": 1, "lang": "en", "source_lang": "pt", "status": "translated",
         "engine": "argos"}
    assert "#5001" in translated["text"] and "30,00 €" in translated["text"]  # protected through the model

    reply = agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": EN})
    assert reply["ok"]
    assert [m["body"] for m in buyer.wait_for("message")] == [EN]
    [for_buyer] = buyer.wait_for("message:translated")
    assert (for_buyer["seq"], for_buyer["lang"], for_buyer["source_lang"], for_buyer["status"]) == \
        (2, "pt", "en", "translated")
    assert for_buyer["text"]
    assert [t["seq"] for t in agent.wait_for("message:translated", 2)] == [1, 2]  # agents see what the buyer got

    # a reload shows the translations
    history = buyer.call("history", {"after_seq": 0})["messages"]
    assert [m["body"] for m in history] == [PT, EN]
    assert [t["lang"] for t in history[1]["translations"]] == ["pt"]
    agent_history = agent.call("history", {"conversation": public_id})["messages"]
    assert agent_history[0]["translations"][0]["text"] == translated["text"]
    assert stored_translations() == [(1, "en", "translated", "argos"), (2, "pt", "translated", "argos")]
    assert db.session.scalar(select(Conversation.buyer_language)) == "pt"  # detected
    db.session.rollback()


def test_without_a_model_the_message_arrives_and_the_agent_sees_a_marker(app, translation, chat):
    public_id, buyer, agent = chat
    assert buyer.call("message:send", {"client_id": cid(), "body": PT})["ok"]
    assert agent.wait_for("message")[0]["body"] == PT
    [marker] = agent.wait_for("message:translated")
    assert (marker["status"], marker["text"], marker["note"]) == ("unavailable", None, "No translation for pt→en")
    agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": EN})
    assert buyer.wait_for("message")[0]["body"] == EN
    assert agent.wait_for("message:translated", 2)[1]["note"] == "No translation for en→pt"
    assert worker(app).drain()
    assert buyer.of("message:translated") == []  # markers are for agents; the buyer reads the original
    history = agent.call("history", {"conversation": public_id})["messages"]
    assert history[0]["translations"][0]["note"] == "No translation for pt→en"  # shown again after a reload
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2
    db.session.rollback()


def test_a_failing_engine_loses_nothing(app, translation, chat):
    translation.install("pt-en-corrupt")
    public_id, buyer, agent = chat
    assert buyer.call("message:send", {"client_id": cid(), "body": PT})["ok"]
    assert agent.wait_for("message")[0]["body"] == PT
    [marker] = agent.wait_for("message:translated")
    assert (marker["status"], marker["note"]) == ("failed", "Translation failed for pt→en")
    assert buyer.call("message:send", {"client_id": cid(), "body": "Ainda estou à espera."})["ok"]  # still works
    assert [m["body"] for m in agent.wait_for("message", 2)] == [PT, "Ainda estou à espera."]
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2
    db.session.rollback()


def test_the_second_identical_message_is_served_from_the_cache(app, translation, chat):
    translation.install("pt-en")
    _, buyer, agent = chat
    for _ in range(2):
        buyer.call("message:send", {"client_id": cid(), "body": PT})
    first, second = agent.wait_for("message:translated", 2)
    assert first["text"] == second["text"] and first["status"] == "translated"
    rows = db.session.scalars(select(TranslationCache)).all()
    assert [(r.source, r.target, r.hits) for r in rows] == [("pt", "en", 1)]  # one engine call for two messages
    db.session.rollback()


def test_agent_previews_edits_and_sends_a_translation_or_the_original(app, translation, chat):
    translation.install("pt-en", "en-pt")
    public_id, buyer, agent = chat
    early = agent.call("translate:preview", {"conversation": public_id, "text": EN})
    assert early["error"]["code"] == "no_buyer_language"  # the buyer has not written yet
    buyer.call("message:send", {"client_id": cid(), "body": PT})
    agent.wait_for("message:translated")

    preview = agent.call("translate:preview", {"conversation": public_id, "text": "Your order #5001 ships today."})
    assert preview["ok"] and (preview["source"], preview["target"], preview["engine"]) == ("en", "pt", "argos")
    assert "#5001" in preview["text"]
    edited = "A sua encomenda #5001 segue hoje."
    sent = agent.call("message:send", {"conversation": public_id, "client_id": cid(),
                                       "body": "Your order #5001 ships today.",
                                       "translation": {"lang": "pt", "text": edited}})
    assert sent["message"]["translations"] == [{"lang": "pt", "source_lang": "en", "status": "translated",
                                                "text": edited, "engine": "agent", "note": None}]
    [got] = buyer.wait_for("message")
    assert got["body"] == "Your order #5001 ships today." and got["translations"][0]["text"] == edited

    agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": "Thanks!", "translate": False})
    assert [m["body"] for m in buyer.wait_for("message", 2)][1] == "Thanks!"
    assert worker(app).drain()
    assert buyer.of("message:translated") == []  # neither message was machine-translated afterwards
    assert stored_translations() == [(1, "en", "translated", "argos"), (2, "pt", "translated", "agent")]

    no_model = agent.call("translate:preview", {"conversation": public_id, "text": "Danke"})
    assert no_model["ok"] is True or no_model["error"]["code"] == "no_translation"
    bad = agent.call("message:send", {"conversation": public_id, "client_id": cid(), "body": "x",
                                      "translation": {"lang": "??", "text": "x"}})
    assert bad["error"]["code"] == "bad_request"


def test_html_escaped_engine_output_reaches_the_agent_as_text(app, chat):
    app.config["TRANSLATION_ENGINE"] = "escaping"
    try:
        _, buyer, agent = chat
        buyer.call("message:send", {"client_id": cid(), "body": "A chávena chegou partida <script>x</script>"})
        [translated] = agent.wait_for("message:translated")
    finally:
        worker(app).drain()
        app.config["TRANSLATION_ENGINE"] = "none"
    assert translated["text"] == "<b>en:</b> A chávena chegou partida <script>x</script> & co"
