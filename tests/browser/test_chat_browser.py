"""A buyer and an agent chat in two browser contexts; the buyer reloads and loses nothing."""
from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import expect

from tests.chat.test_attachments import PNG

expect.set_options(timeout=15_000)


def sign_in(page, email: str = "lukas@test.example") -> None:
    """Sign an agent in through the login form (password as the ``make_agent`` fixture's)."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()


def start_chat(page, name: str | None = None, order: str = "5001", email: str = "ana@example.pt") -> None:
    """The buyer of order ``order`` with ``email`` (default: #5001 of ana@example.pt, the
    ``order`` fixture's) starts a chat on the chat page."""
    page.goto(f"/chat/?order={quote(order)}")
    page.get_by_label("E-mail").fill(email)
    if name:
        page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Start chat").click()


def test_buyer_and_agent_chat_with_the_order_beside(browser, app, serve, make_agent, order):
    url = serve(app).url
    make_agent(email="lukas@test.example", name="Lukas")
    dialogs = []
    buyer_ctx, agent_ctx = browser.new_context(base_url=url), browser.new_context(base_url=url)
    try:
        buyer = buyer_ctx.new_page()
        buyer.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        start_chat(buyer, "Ana")
        evil = "<img src=x onerror=alert(1)> A chávena chegou partida"
        buyer.get_by_label("Message").fill(evil)
        buyer.get_by_role("button", name="Send").click()
        expect(buyer.locator("#messages li.msg.buyer .body")).to_have_text([evil])
        expect(buyer.locator("#queue-note")).to_have_text(re.compile(
            r"No one is available right now\. We saved your message as request #\d+ and will answer you by e-mail\."))

        agent = agent_ctx.new_page()
        agent.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(agent)
        agent.goto("/chat/inbox")
        agent.get_by_role("link", name="Ana").click()
        expect(agent.locator("#messages .body")).to_have_text([evil])
        expect(agent.locator("aside table.lines")).to_contain_text("Chávena azul")
        agent.get_by_role("button", name="Take it").click()
        expect(agent.locator("#assignee")).to_have_text("Lukas")
        agent.get_by_label("Message").fill("Lamento muito! Enviamos outra hoje.")
        agent.get_by_role("button", name="Send").click()

        expect(buyer.locator("#messages .body")).to_have_text([evil, "Lamento muito! Enviamos outra hoje."])
        expect(buyer.locator("#chat-agent")).to_contain_text("Lukas")
        expect(buyer.locator("#queue-note")).to_be_hidden()
        expect(agent.locator("#messages li.mine .seen-mark")).to_have_text([" · seen"])  # the buyer read the reply
        buyer.get_by_label("Message").fill("Obrigada, e o rascunho?")  # not sent yet
        buyer.reload()
        expect(buyer.locator("#messages .body")).to_have_text([evil, "Lamento muito! Enviamos outra hoje."])
        expect(buyer.get_by_label("Message")).to_have_value("Obrigada, e o rascunho?")  # the draft survived
        assert buyer.locator("#messages img").count() == 0 and agent.locator("#messages img").count() == 0
        assert dialogs == []
    finally:
        buyer_ctx.close()
        agent_ctx.close()


def test_an_available_agent_is_assigned_the_chat_round_robin(browser, app, serve, make_agent, order):
    make_agent(email="lukas@test.example", name="Lukas")
    server = serve(app)
    buyer_ctx = browser.new_context(base_url=server.url, locale="pt-PT")
    agent_ctx = browser.new_context(base_url=server.url)
    try:
        agent = agent_ctx.new_page()
        sign_in(agent)
        agent.get_by_label("Chat status").select_option("available")
        expect(agent.locator("#chat-load")).to_have_text("0/5 open")

        buyer = buyer_ctx.new_page()
        buyer.goto("/chat/?order=5001")  # pt-PT browser: Portuguese page (pt_BR catalog, same script)
        expect(buyer.locator("html")).to_have_attribute("lang", "pt-BR")
        buyer.get_by_label("E-mail").fill("ana@example.pt")
        buyer.get_by_role("button", name="Iniciar chat").click()
        buyer.get_by_label("Mensagem", exact=True).fill("Olá?")
        buyer.get_by_role("button", name="Enviar").click()
        expect(buyer.locator("#chat-agent")).to_have_text("Você está conversando com Lukas")
        expect(agent.locator("#assigned-toast")).to_contain_text("New chat for you: Ana Sousa")
        expect(agent.locator("#chat-load")).to_have_text("1/5 open")
        agent.locator("#assigned-toast a").click()
        expect(agent.locator("#messages .body")).to_have_text(["Olá?"])
        expect(agent.locator("#assignee")).to_have_text("Lukas")

        buyer.get_by_label("Anexar uma foto ou PDF").set_input_files(
            {"name": "partida.png", "mimeType": "image/png", "buffer": PNG})
        expect(agent.locator("#messages img")).to_have_attribute("alt", "partida.png")
        agent.wait_for_function("() => document.querySelector('#messages img').naturalWidth === 1")  # it loads
        buyer.get_by_label("Anexar uma foto ou PDF").set_input_files(
            {"name": "page.png", "mimeType": "image/png", "buffer": b"<script>alert(1)</script>"})
        expect(buyer.locator("#send-error")).to_have_text(  # in the buyer's Portuguese
            "Só é possível enviar imagens (PNG, JPEG, GIF, WebP) e arquivos PDF.")
    finally:
        buyer_ctx.close()
        agent_ctx.close()


def storefront(app, serve, attributes: str) -> str:
    """A seller's shop page on another origin with the widget's tag (``attributes`` added
    to it), allowed to frame the chat; returns the page's URL."""
    from flask import Flask

    helpdesk = serve(app).url
    shop = Flask("storefront")

    @shop.get("/")
    def shop_page():
        return (f'<!doctype html><html><body><h1>Shop</h1>'
                f'<script src="{helpdesk}/static/js/widget.js" {attributes} async></script></body></html>')

    url = serve(shop).url.replace("127.0.0.1", "localhost")  # another origin
    app.config["CHAT_WIDGET_ORIGINS"] = [url]
    return url + "/"


def open_widget(context, url):
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Chat with us").click()
    return page.frame_locator("iframe[title='Chat with us']")


def test_the_widget_opens_the_chat_on_a_storefront(browser, app, serve, order):
    shop = storefront(app, serve, 'data-order="5001"')
    context = browser.new_context()
    try:
        chat = open_widget(context, shop)
        expect(chat.get_by_label("Order number (optional)")).to_have_value("5001")
        chat.get_by_label("E-mail").fill("ana@example.pt")
        chat.get_by_role("button", name="Start chat").click()
        chat.get_by_label("Message").fill("Olá do site da loja")
        chat.get_by_role("button", name="Send").click()
        expect(chat.locator("#messages .body")).to_have_text(["Olá do site da loja"])
        # Back on the shop later (a reload): the widget finds the conversation again even
        # where the browser gives the helpdesk's iframe no storage of its own.
        page = context.pages[0]
        page.reload()
        page.get_by_role("button", name="Chat with us").click()
        again = page.frame_locator("iframe[title='Chat with us']")
        expect(again.locator("#messages .body")).to_have_text(["Olá do site da loja"])
        expect(again.locator("#chat-start")).to_be_hidden()
    finally:
        context.close()


def test_a_buyer_signed_in_on_the_storefront_chats_without_a_form(browser, app, serve, order):
    from sqlalchemy import select

    from chat.identity import buyer_hash
    from chat.models import Conversation
    from helpdesk.extensions import db
    from helpdesk.models import Store

    store = db.session.scalar(select(Store))
    store.identity_secret, store_id = "s3cret" * 8, store.id
    db.session.commit()
    # The store's server signs the signed-in customer's id (7: Ana's Shopify id).
    shop = storefront(app, serve, f'data-store="{store_id}" data-buyer-id="7" '
                                  f'data-buyer-hash="{buyer_hash("s3cret" * 8, "7")}"')
    context = browser.new_context()
    try:
        chat = open_widget(context, shop)
        chat.get_by_label("Message").fill("Olá, sou a Ana")
        chat.get_by_role("button", name="Send").click()
        expect(chat.locator("#messages .body")).to_have_text(["Olá, sou a Ana"])
        expect(chat.locator("#chat-start")).to_be_hidden()
        conversation = db.session.scalar(select(Conversation))
        assert (conversation.customer.name, conversation.buyer_email) == ("Ana Sousa", "ana@example.pt")
        db.session.rollback()
    finally:
        context.close()


def test_only_listed_storefronts_may_frame_the_chat(client, app):
    app.config["CHAT_WIDGET_ORIGINS"] = ["https://shop.example.com"]
    policy = client.get("/chat/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://shop.example.com" in policy
    assert "X-Frame-Options" not in client.get("/chat/").headers
    assert client.get("/chat/inbox").headers["X-Frame-Options"] == "DENY"
