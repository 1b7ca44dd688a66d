"""The buyer's transcript e-mail is in the buyer's language, whatever the agent's."""
from __future__ import annotations

import re

from sqlalchemy import select

from chat import service
from helpdesk.extensions import db
from helpdesk.models import Agent


def test_the_buyers_transcript_speaks_the_buyers_language(client, login, order, smtp_server):
    login(name="Lukas", locale="de")
    conversation = service.start_conversation(email="ana@example.pt", order_number="5001", language="pt-PT")
    service.post_message(conversation, sender="buyer", client_id="b1", body="Olá")
    service.post_message(conversation, sender="agent", agent=db.session.scalar(select(Agent)), client_id="n1",
                         body="NOTE", internal=True)
    page = client.get(f"/chat/conversations/{conversation.public_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for to in ("buyer", "me"):
        answer = client.post(f"/chat/conversations/{conversation.public_id}/transcript/email",
                             data={"csrf_token": token, "to": to}, follow_redirects=True).get_data(as_text=True)
        assert "Das Protokoll wurde an" in answer  # the agent's page stays German
    buyer, agent = smtp_server.messages
    assert buyer["Subject"] == "Sua conversa conosco"
    assert "Pedido \u2068#5001\u2069" in buyer.get_content() and "Iniciada" in buyer.get_content()
    assert agent["Subject"] == "Chatprotokoll"
    assert "interne Notiz" in agent.get_content()
