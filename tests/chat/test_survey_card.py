"""The survey of a closed chat reaches the buyer's open widget over Socket.IO (a real
server, real Socket.IO clients)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from chat.models import Conversation
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.surveys import service


def test_the_buyer_in_the_widget_gets_the_survey_card(live, order, start_chat, agent_session, clients, smtp_server):
    public_id, token = start_chat(order_number="5001")
    buyer = clients(live, auth={"token": token})
    agent = clients(live, http_session=agent_session())
    agent.call("agent:status", {"availability": "available"})  # else an offline message becomes a ticket
    assert buyer.call("message:send", {"client_id": "b1", "body": "Obrigada!"})["ok"] is True
    chat = db.session.scalar(select(Conversation).filter_by(public_id=public_id))
    chat.buyer_language = "pt-BR"  # as detection makes it of "Obrigada!", without waiting for the worker
    db.session.commit()
    assert agent.call("conversation:close", {"conversation": public_id})["ok"] is True
    assert service.send_due_surveys(utcnow() + timedelta(hours=2)) == 1
    [card] = buyer.wait_for("survey")
    conversation = db.session.scalar(select(Conversation).filter_by(public_id=public_id))
    assert card["question"] == "Como você avalia a ajuda que recebeu?"  # the buyer's pt-BR
    assert card["url"].startswith("http://localhost:5000/survey/")
    assert service.survey_for_token(card["url"].split("/survey/")[1].split("?")[0], utcnow()).conversation_id == (
        conversation.id)
    assert agent.of("survey") == []  # only the buyer's room hears it
    assert len(smtp_server.messages) == 1  # and by e-mail
