"""Transcripts by e-mail, through a real SMTP server: the buyer's copy never holds notes."""
from __future__ import annotations

import re

from sqlalchemy import select

from chat import service
from chat.models import Conversation
from helpdesk.extensions import db
from helpdesk.models import Agent


def chat_with_a_note(order):
    conversation = service.start_conversation(email="ana@example.pt", order_number="5001")
    agent = db.session.scalar(select(Agent))
    service.post_message(conversation, sender="buyer", client_id="b1", body="<script>alert(1)</script> partida 😢")
    service.post_message(conversation, sender="agent", agent=agent, client_id="a1", body="Enviamos outra hoje.")
    service.post_message(conversation, sender="agent", agent=agent, client_id="n1", body="NOTE: refund 10 EUR",
                         internal=True)
    return conversation.public_id


def send(client, public_id, **form):
    """Post the conversation page's own transcript form (with its CSRF token)."""
    page = client.get(f"/chat/conversations/{public_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post(f"/chat/conversations/{public_id}/transcript/email", data={"csrf_token": token, **form},
                         follow_redirects=True)
    return answer.get_data(as_text=True)


def test_the_buyer_gets_the_transcript_without_internal_notes(client, login, order, smtp_server):
    login(name="Lukas")
    public_id = chat_with_a_note(order)
    assert "The transcript was sent to ana@example.pt." in send(client, public_id, to="buyer")
    [mail] = smtp_server.messages
    assert (mail["To"], mail["Subject"]) == ("Ana Sousa <ana@example.pt>", "Your conversation with us")
    assert mail["Date"].datetime.tzinfo is not None
    text = mail.get_content()
    assert mail.get_content_type() == "text/plain"
    assert "<script>alert(1)</script> partida 😢" in text and "Enviamos outra hoje." in text
    assert "NOTE" not in text and "internal note" not in text

    send(client, public_id, to="me")
    mine = smtp_server.messages[1]
    assert mine["To"] == "Lukas <agent@test.example>"
    assert "NOTE: refund 10 EUR" in mine.get_content() and "(internal note)" in mine.get_content()


def test_no_other_address_and_a_clear_error_when_mail_fails(client, login, order, smtp_server, app):
    login()
    public_id = chat_with_a_note(order)
    for to in ("eve@example.com", "", None):
        page = send(client, public_id, **({"to": to} if to is not None else {}))
        assert "Choose who gets the transcript: the buyer or you." in page
    assert smtp_server.messages == []
    app.config["MAIL_SERVER"] = ""
    page = send(client, public_id, to="buyer")
    assert "E-mail is not set up on this helpdesk (MAIL_SERVER is empty)." in page
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)  # nothing listens there
    page = send(client, public_id, to="buyer")
    assert "The mail server did not take the e-mail (ConnectionRefusedError); try again later." in page
    assert db.session.scalar(select(Conversation.status)) == "open"


def test_signed_out_visitors_cannot_send_transcripts(client, order, smtp_server, make_agent):
    make_agent()
    public_id = chat_with_a_note(order)
    answer = client.post(f"/chat/conversations/{public_id}/transcript/email", data={"to": "buyer"})
    assert answer.status_code == 400  # no CSRF token; and without a session the page itself asks to sign in
    assert client.get(f"/chat/conversations/{public_id}").status_code == 302
    assert smtp_server.messages == []
