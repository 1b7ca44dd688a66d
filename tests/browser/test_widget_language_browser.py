"""In Chromium, on an English browser: a storefront's widget with ``data-lang`` labels its
button in that language, opens the chat in it, and the buyer's conversation and FAQ
suggestions take it too (QA H1, H5, M5)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect
from sqlalchemy import select

from chat.models import Conversation
from helpdesk.extensions import db
from tests.browser.test_chat_browser import storefront

expect.set_options(timeout=15_000)


def test_the_widget_speaks_its_data_lang(browser, app, serve, order):
    shop = storefront(app, serve, 'data-order="5001" data-lang="zh-Hant"')
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(shop)
        button = page.get_by_role("button", name="線上客服")  # "Chat with us" in Traditional Chinese
        expect(button).to_have_attribute("lang", "zh-Hant")
        assert page.evaluate("getComputedStyle(document.querySelector('button')).whiteSpace") == "nowrap"
        button.click()
        chat = page.frame_locator("iframe[title='線上客服']")
        expect(chat.locator("html")).to_have_attribute("lang", "zh-Hant")
        chat.locator("#start-email").fill("ana@example.pt")
        chat.locator("#chat-start button[type=submit]").click()
        expect(chat.locator("#chat-room")).to_be_visible()
        assert db.session.scalar(select(Conversation.buyer_language)) == "zh-Hant"  # not the browser's en-US
        db.session.rollback()
        with page.expect_request(lambda request: "/api/v1/faq/suggest" in request.url) as asked:
            chat.locator("#message").fill("我想退貨")
        assert parse_qs(urlsplit(asked.value.url).query)["lang"] == ["zh-Hant"]
    finally:
        context.close()


def test_without_data_lang_the_button_follows_the_browser(browser, app, serve):
    shop = storefront(app, serve, "")
    context = browser.new_context(locale="ar-EG")
    try:
        page = context.new_page()
        page.goto(shop)
        button = page.get_by_role("button", name="تحدّث معنا")
        expect(button).to_have_attribute("dir", "rtl")
        expect(button).to_have_attribute("lang", "ar")
    finally:
        context.close()


def test_the_launcher_text_endpoint(client):
    answered = client.get("/chat/api/widget?language=pt-PT")
    assert answered.get_json() == {"label": "Fale conosco", "lang": "pt-BR", "dir": "ltr"}
    assert answered.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/chat/api/widget?language=<script>").get_json()["label"] == "Chat with us"
    assert client.get("/chat/api/widget").get_json()["lang"] == "en"
