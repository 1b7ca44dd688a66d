"""Buyer pages in every interface language: lang and dir on <html>, the translated text,
the language menu, an explicit choice kept in the session, the agent's saved locale first,
and money and dates formatted for the chosen locale."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from flask_babel import force_locale

from helpdesk.i18n import UI_LOCALES, bcp47
from helpdesk.templating import money, when

START_CHAT = {
    "en": "Start chat", "zh_Hans": "开始聊天", "zh_Hant": "開始對話", "ja": "チャットを開始", "ko": "채팅 시작",
    "es": "Iniciar chat", "pt_BR": "Iniciar chat", "de": "Chat starten", "fr": "Démarrer la discussion",
    "it": "Avvia la chat", "ru": "Начать чат", "ar": "ابدأ المحادثة",
}


@pytest.mark.parametrize("locale", UI_LOCALES)
def test_buyer_chat_page_in_each_language(ui_client, locale):
    page = ui_client.get("/chat/", headers={"Accept-Language": bcp47(locale)}).get_data(as_text=True)
    direction = "rtl" if locale == "ar" else "ltr"
    assert f'<html lang="{bcp47(locale)}" dir="{direction}">' in page
    assert START_CHAT[locale] in page
    if locale != "en":
        assert "Start chat" not in page and "Write a message…" not in page
    for code in UI_LOCALES:  # the language menu offers every catalog, each named in its own language
        assert f'href="/chat/?lang={bcp47(code)}"' in page


@pytest.mark.parametrize("path", ["/help/", "/faq/ar/", "/login"])  # /faq/<lang>/ speaks its URL's language
def test_other_signed_out_pages_in_arabic(ui_client, path):
    response = ui_client.get(path, headers={"Accept-Language": "ar"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page and "مركز مساعدة التجارة عبر الحدود" in page


def test_an_unknown_page_is_answered_in_the_visitors_language(ui_client):
    page = ui_client.get("/no/such/page", headers={"Accept-Language": "de-AT"}).get_data(as_text=True)
    assert "Unter dieser Adresse gibt es nichts." in page and '<html lang="de" dir="ltr">' in page


def test_an_explicit_choice_beats_the_browser_and_is_kept(ui_client):
    page = ui_client.get("/chat/?order=42&lang=ja", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="ja"' in page and "チャットを開始" in page
    assert 'href="/chat/?order=42&amp;lang=de"' in page  # the menu keeps the other arguments
    page = ui_client.get("/help/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="ja"' in page  # kept in the session
    page = ui_client.get("/help/?lang=zh-TW", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="zh-Hant"' in page
    page = ui_client.get("/help/?lang=klingon", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="zh-Hant"' in page  # an unknown choice changes nothing


def test_the_json_apis_lang_is_not_an_interface_choice(ui_client):
    ui_client.get("/api/v1/faq/suggest?q=refund&lang=fr")
    page = ui_client.get("/help/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en"' in page


def test_the_agents_saved_locale_comes_first(ui_app):
    from helpdesk.cli import create_agent

    with ui_app.app_context():
        create_agent("mei@test.example", "Mei", "correct horse battery", locale="zh_Hans")
    client = ui_app.test_client()
    ui_app.config["WTF_CSRF_ENABLED"] = False
    try:
        client.post("/login", data={"email": "mei@test.example", "password": "correct horse battery"})
    finally:
        ui_app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/chat/inbox?lang=de", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="zh-Hans" dir="ltr"' in page and "退出登录" in page
    assert 'class="lang-menu"' not in page  # an agent's language is their saved locale, not a per-page choice


def test_money_and_dates_follow_the_locale(ui_app):
    instant = datetime(2024, 6, 1, 9, 30, tzinfo=timezone.utc)
    with ui_app.test_request_context("/"):
        with force_locale("de"):
            assert money(Decimal("1234.5"), "EUR") == "1.234,50\xa0€"
            assert "01.06.2024" in when(instant)
        with force_locale("ar"):
            assert money(Decimal("1234.5"), "USD") == "\u200f1,234.50\xa0US$"  # right-to-left mark first
            assert "غرينتش" in when(instant)
        with force_locale("ru"):
            assert money(Decimal("1234.5"), "USD") == "1\xa0234,50\xa0$"
            assert "1 июн. 2024\u202fг." in when(instant)
        with force_locale("ja"):
            assert money(Decimal("1500"), "JPY") == "￥1,500"
            assert "2024/06/01" in when(instant)
        with force_locale("zh_Hant"):
            assert "2024年6月1日" in when(instant)


def test_the_sign_in_request_is_translatable(ui_app, ui_client):
    """QA M4: Flask-Login's message is a lazy string resolved in the request's locale."""
    from flask_babel import LazyString

    from helpdesk.extensions import login_manager

    assert isinstance(login_manager.login_message, LazyString)
    with ui_app.test_request_context(headers={"Accept-Language": "de"}):
        assert str(login_manager.login_message) == "Bitte melden Sie sich an, um diese Seite aufzurufen."
    page = ui_client.get("/chat/inbox", headers={"Accept-Language": "ar"}, follow_redirects=True).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page and "يُرجى تسجيل الدخول للوصول إلى هذه الصفحة." in page


def test_the_two_request_columns_have_distinct_messages():
    """QA L1: "Subject" and the kind of request ("About") were both "Assunto" in pt-BR:
    the second has its own context, so translators tell them apart."""
    from babel.messages.extract import extract_from_file
    from jinja2.ext import babel_extract

    from pathlib import Path

    template = Path(__file__).resolve().parents[2] / "templates" / "tickets" / "buyer_requests.html"
    found = list(extract_from_file(babel_extract, str(template)))
    headers = {(message, context) for _line, message, _comments, context in found if message in ("Subject", "About")}
    assert headers == {("Subject", None), ("About", "the kind of request: return, refund...")}
