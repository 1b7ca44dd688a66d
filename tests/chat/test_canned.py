"""Canned replies: placeholders filled from the conversation, nothing else interpreted."""
from datetime import datetime, timezone

from sqlalchemy import select

from chat import service
from chat.cli import save_canned_reply
from chat.macros import render_canned
from helpdesk.extensions import db
from helpdesk.models import Order, Shipment


def test_placeholders_are_filled_from_the_conversation(app, order, make_agent):
    agent = make_agent(name="Lukas")
    stored = db.session.scalar(select(Order))
    stored.shipments.append(Shipment(external_id="s1", carrier="CTT", tracking_number="RR123456785PT",
                                     tracking_url="https://www.ctt.pt/track?RR123456785PT",
                                     shipped_at=datetime(2024, 6, 2, tzinfo=timezone.utc)))
    db.session.commit()
    conversation = service.start_conversation(email="ana@example.pt", name="Ana", order_number="5001")
    body = ("Olá {buyer_name}, a encomenda {order_number} segue com {tracking_number}: {tracking_link} "
            "— {agent_name} {0.__class__} {unknown} {{buyer_name}}")
    assert render_canned(body, conversation, agent) == (
        "Olá Ana, a encomenda #5001 segue com RR123456785PT: https://www.ctt.pt/track?RR123456785PT "
        "— Lukas {0.__class__} {unknown} {Ana}")


def test_without_an_order_the_order_placeholders_are_empty(app, make_agent):
    conversation = service.start_conversation(email="x@example.com", name="")
    assert render_canned("[{buyer_name}|{order_number}|{tracking_link}]", conversation, make_agent()) == "[||]"


def test_agents_fetch_a_filled_canned_reply(client, login, order):
    login(name="Lukas")
    reply = save_canned_reply("Where is my parcel", "Hi {buyer_name}, order {order_number} is on its way. {agent_name}")
    conversation = service.start_conversation(email="ana@example.pt", name="Ana", order_number="#5001")
    response = client.get(f"/chat/conversations/{conversation.public_id}/canned/{reply.id}")
    assert response.get_json() == {"text": "Hi Ana, order #5001 is on its way. Lukas"}
    assert client.get(f"/chat/conversations/{conversation.public_id}/canned/99999").status_code == 404
    page = client.get(f"/chat/conversations/{conversation.public_id}").get_data(as_text=True)
    assert f'<option value="{reply.id}">Where is my parcel</option>' in page


def test_canned_reply_cli_refuses_empty_bodies(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["chat", "canned-add", "--title", "Refund", "--body", "Your refund of {order_number} is done."])
    assert ok.exit_code == 0, ok.output
    empty = runner.invoke(args=["chat", "canned-add", "--title", "Empty", "--body", "   "])
    assert empty.exit_code == 2 and "The message is empty." in empty.output
