"""In Chromium: the buyer sees the tracking article while typing, before sending; the
agent sees it beside the conversation and inserts it in the buyer's language."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from faq.models import Article
from tests.browser.test_chat_browser import sign_in

expect.set_options(timeout=15_000)


def test_buyer_sees_the_answer_while_typing_and_agent_inserts_it(browser, app, serve, demo_faq, make_agent):
    url = serve(app).url
    make_agent(email="lukas@test.example", name="Lukas")
    dialogs = []
    buyer_ctx, agent_ctx = browser.new_context(base_url=url), browser.new_context(base_url=url)
    try:
        buyer = buyer_ctx.new_page()
        buyer.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        buyer.goto("/chat/")
        buyer.get_by_label("E-mail").fill("ana@example.pt")
        buyer.get_by_role("button", name="Start chat").click()
        box = buyer.get_by_label("Message")
        expect(box).to_be_visible()  # typing starts once the chat room is shown
        box.press_sequentially("wher is my pakage")
        suggestions = buyer.locator("#faq-suggest .faq-suggest-list button")
        expect(suggestions.first).to_have_text("Where is my order?")
        suggestions.first.click()
        expect(buyer.locator("#faq-suggest .faq-answer")).to_contain_text("tracking number")
        expect(buyer.locator("#faq-suggest .faq-category")).to_have_text("Orders")  # the category's name
        buyer.get_by_role("button", name="Yes").click()
        expect(buyer.locator(".faq-suggest-thanks")).to_have_text("Glad it helped!")
        assert buyer.locator("#messages li").count() == 0  # nothing was sent

        box.fill("")
        box.press_sequentially("我的包裹在哪")
        expect(suggestions.first).to_have_text("我的订单到哪里了？")
        box.fill("")
        box.press_sequentially("¿dónde está mi pedido?")
        expect(suggestions.first).to_have_text("¿Dónde está mi pedido?")
        buyer.get_by_role("button", name="Send").click()
        expect(buyer.locator("#messages .body")).to_have_text(["¿dónde está mi pedido?"])

        agent = agent_ctx.new_page()
        sign_in(agent)
        agent.goto("/chat/inbox")
        agent.get_by_role("link", name="ana@example.pt").click()
        panel = agent.locator("#faq-suggest")
        expect(panel.locator("li a").first).to_have_text("¿Dónde está mi pedido? (es)")
        panel.get_by_role("button", name="Insert").first.click()
        expect(agent.get_by_label("Message")).to_have_value(
            "Abre Mi cuenta › Pedidos y elige el pedido: verás su estado y, una vez enviado, la empresa de "
            "transporte y el número de seguimiento con un enlace para seguir el paquete. El primer escaneo puede "
            "tardar hasta 24 horas. Si no se mueve en 7 días, escríbenos por el chat con el número de pedido.")
        assert dialogs == []
        article = Article.query.filter_by(slug="track_order").one()
        assert (article.helpful_count, article.deflection_count) == (1, 1)
    finally:
        buyer_ctx.close()
        agent_ctx.close()


def test_the_agent_sees_suggestions_beside_a_ticket_and_inserts_one(browser, app, serve, demo_faq, make_agent):
    from tickets.service import Actor, create_ticket

    ticket = create_ticket(Actor("system"), order=None, type="question", subject="¿Dónde está mi pedido?",
                           description="Lo pedí hace dos semanas.", language="es", channel="web_form")
    ticket_id = ticket.id
    url = serve(app).url
    make_agent(email="lukas@test.example", name="Lukas")
    context = browser.new_context(base_url=url)
    try:
        agent = context.new_page()
        sign_in(agent)
        agent.goto(f"/tickets/{ticket_id}")
        panel = agent.locator("#faq-suggest")
        expect(panel.locator(".faq-suggest-list a").first).to_have_text("¿Dónde está mi pedido? (es)")
        panel.get_by_role("button", name="Insert").first.click()
        expect(agent.locator("#body")).to_have_value(re.compile(r"^Abre Mi cuenta › Pedidos y elige el pedido"))
    finally:
        context.close()
