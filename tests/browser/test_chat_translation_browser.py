"""The agent reads the buyer's message translated, with a toggle to the original, and
sends a reply whose translation they previewed and edited; nothing is ever markup."""
from __future__ import annotations

from playwright.sync_api import expect

from helpdesk.translation.worker import worker
from tests.browser.test_chat_browser import sign_in, start_chat
from tests.translation.test_engines import EscapingEngine  # noqa: F401  (registers the "escaping" engine)

expect.set_options(timeout=15_000)
PT = "Olá, a chávena chegou partida. A encomenda #5001 custou 30,00 €."


def test_agent_toggles_between_translation_and_original(browser, app, serve, make_agent, order):
    app.config["TRANSLATION_ENGINE"] = "escaping"  # answers HTML-escaped "<b>en:</b> ... & co"
    url = serve(app).url
    make_agent(email="lukas@test.example", name="Lukas", languages=["en"])
    dialogs = []
    buyer_ctx, agent_ctx = browser.new_context(base_url=url), browser.new_context(base_url=url)
    try:
        buyer = buyer_ctx.new_page()
        buyer.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        start_chat(buyer)
        buyer.get_by_label("Message").fill(PT)
        buyer.get_by_role("button", name="Send").click()
        expect(buyer.locator("#messages li.msg.buyer .body")).to_have_text([PT])

        agent = agent_ctx.new_page()
        agent.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(agent)
        agent.goto("/chat/inbox")
        agent.get_by_role("link", name="Ana").click()
        message = agent.locator("#messages li.msg.buyer")
        translated = f"<b>en:</b> {PT} & co"
        expect(message.locator(".translated-text")).to_have_text(translated)  # shown as text, not bold markup
        expect(message.locator(".translated-text")).to_be_visible()
        expect(message.locator(".body")).to_be_hidden()
        assert message.locator("b").count() == 0
        message.get_by_role("button", name="Show original").click()
        expect(message.locator(".body")).to_be_visible()
        expect(message.locator(".body")).to_have_text(PT)
        expect(message.locator(".translated-text")).to_be_hidden()
        message.get_by_role("button", name="Show translation").click()
        expect(message.locator(".translated-text")).to_be_visible()

        agent.get_by_label("Message").fill("We will send another cup today.")
        agent.get_by_role("button", name="Translate for the buyer").click()
        edit = agent.get_by_label("The buyer will read (pt); edit it if needed:")
        expect(edit).to_have_value("<b>pt:</b> We will send another cup today. & co")
        edit.fill("Enviamos outra chávena hoje.")
        agent.get_by_role("button", name="Send", exact=True).click()
        reply = buyer.locator("#messages li.msg.agent")
        expect(reply.locator(".translated-text")).to_have_text("Enviamos outra chávena hoje.")
        expect(reply.locator(".translation-note")).to_contain_text("Translated by the agent")
        reply.get_by_role("button", name="Show original").click()
        expect(reply.locator(".body")).to_have_text("We will send another cup today.")
        expect(agent.locator("#messages li.msg.agent .translation")).to_contain_text("The buyer reads (pt):")
        buyer.reload()  # the translation comes back with the history
        expect(buyer.locator("#messages li.msg.agent .translated-text")).to_have_text("Enviamos outra chávena hoje.")
        assert dialogs == []
    finally:
        buyer_ctx.close()
        agent_ctx.close()
        worker(app).drain()
        app.config["TRANSLATION_ENGINE"] = "none"
