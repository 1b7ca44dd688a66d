"""The public help centre and the agents' editor."""
from __future__ import annotations

import re

import pytest
from flask_babel import refresh

from faq import service
from faq.models import Article
from helpdesk.extensions import db


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_help_centre_in_the_browsers_language(client, demo_faq):
    response = client.get("/faq/", headers={"Accept-Language": "zh-TW,zh;q=0.8"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/faq/zh-Hant/")
    assert client.get("/faq/", headers={"Accept-Language": "sw"}).headers["Location"].endswith("/faq/en/")
    page = client.get("/faq/de/").get_data(as_text=True)
    assert "Wo ist meine Bestellung?" in page and 'lang="de"' in page


def test_search_on_the_help_centre(client, demo_faq):
    page = client.get("/faq/fr/", query_string={"q": "ou est mon colis"}).get_data(as_text=True)
    assert 'href="/faq/fr/track_order"' in page
    page = client.get("/faq/fr/", query_string={"q": "?!"}).get_data(as_text=True)
    assert "track_order" not in page
    assert client.get("/faq/fr/", query_string={"q": "x" * 5000}).status_code == 200  # cut to 500
    assert client.get("/faq/not-a-language!/").status_code == 404


def test_arabic_article_reads_right_to_left_and_counts_views(client, demo_faq):
    page = client.get("/faq/ar/track_order").get_data(as_text=True)
    assert '<h1 lang="ar" dir="rtl">أين طلبي؟</h1>' in page and '<div class="faq-answer" lang="ar" dir="rtl">' in page
    assert Article.query.filter_by(slug="track_order").one().view_count == 1
    assert client.get("/faq/en/nope").status_code == 404


def test_feedback_form_needs_its_csrf_token(client, demo_faq, fresh_limits):
    page = client.get("/faq/es/track_order").get_data(as_text=True)
    assert client.post("/faq/es/track_order/feedback", data={"helpful": "yes"}).status_code == 400
    response = client.post("/faq/es/track_order/feedback", data={"helpful": "yes", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    article = Article.query.filter_by(slug="track_order").one()
    assert (article.helpful_count, article.deflection_count) == (1, 1)


def test_answers_are_markdown_rendered_safely(client, app):
    article = service.save_article(None, slug="evil", category="<b>cat</b>")
    service.save_version(article, service.clean_version({
        "lang": "en", "question": "<img src=x onerror=alert(1)> Is this safe?",
        "answer": "<script>alert(1)</script>\n\n**bold** [click](javascript:alert(1)) [ok](https://example.com)\n\n"
                  "<a href=\"x\" onclick=\"alert(1)\">raw</a>"}))
    service.set_status(article, "published")
    page = client.get("/faq/en/evil").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and '<a href="x" onclick' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text
    assert "href=\"javascript:" not in page and "&lt;img src=x" in page and "<strong>bold</strong>" in page
    assert 'href="https://example.com"' in page and 'rel="noopener noreferrer nofollow"' in page


def test_editor_needs_a_signed_in_agent(client):
    for path in ("/faq/admin/", "/faq/admin/export.json"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_agent_writes_publishes_and_unpublishes(client, signed_in):
    response = client.post("/faq/admin/articles", data={"slug": "gift_wrap", "category": "ORDER"})
    assert response.status_code == 302
    article = Article.query.filter_by(slug="gift_wrap").one()
    edit = f"/faq/admin/articles/{article.id}"
    assert client.post(f"{edit}/status", data={"status": "published"}).status_code == 302
    assert db.session.get(Article, article.id).status == "draft"  # no version yet: refused with a message
    assert client.get(f"{edit}?lang=pt-br").headers["Location"].endswith(f"{edit}/versions/pt-BR")
    response = client.post(f"{edit}/versions/pt-BR", data={
        "question": "Vocês fazem embrulho para presente?", "phrasings": "embrulho\npapel de presente\n",
        "keywords": "presente\nembrulho", "answer": "Sim, **grátis**.", "needs_review": "on"})
    assert response.status_code == 302
    version = article.version("pt-BR")
    assert version.phrasings == ["embrulho", "papel de presente"] and version.needs_review
    client.post(f"{edit}/status", data={"status": "published"})
    assert client.get("/api/v1/faq/suggest?q=embrulho para presente&lang=pt-BR").get_json()["results"][0]["slug"] == "gift_wrap"
    page = client.get(edit).get_data(as_text=True)
    assert "Vocês fazem embrulho para presente?" in page and "needs review" in page
    client.post(f"{edit}/status", data={"status": "draft"})
    assert client.get("/api/v1/faq/suggest?q=embrulho para presente&lang=pt-BR").get_json()["results"] == []


def test_editor_refuses_bad_input_with_a_message(client, signed_in):
    assert client.post("/faq/admin/articles", data={"slug": "Not A Slug!"}).status_code == 400
    client.post("/faq/admin/articles", data={"slug": "taken"})
    assert "already has the slug" in client.post("/faq/admin/articles", data={"slug": "taken"}).get_data(as_text=True)
    article = Article.query.filter_by(slug="taken").one()
    response = client.post(f"/faq/admin/articles/{article.id}/versions/en", data={"question": "  ", "answer": "x"})
    assert response.status_code == 400 and "The question must not be empty." in response.get_data(as_text=True)
    response = client.post(f"/faq/admin/articles/{article.id}/versions/en", data={"question": "Q?", "answer": "x" * 20_001})
    assert response.status_code == 400 and article.versions == []
    assert client.get(f"/faq/admin/articles/{article.id}/versions/xx-!!").status_code == 404
    assert client.get("/faq/admin/articles/999999999").status_code == 404


def test_category_names_in_the_readers_language_with_fallback(client, app, demo_faq, signed_in):
    assert "<h2 class=\"faq-category\" dir=\"auto\">Bestellungen</h2>" in client.get("/faq/de/").get_data(as_text=True)
    assert "注文" in client.get("/faq/ja/track_order").get_data(as_text=True)
    assert client.get("/api/v1/faq/articles/track_order?lang=zh-Hant-TW").get_json()["category"] == "訂單"
    assert client.get("/api/v1/faq/articles/track_order?lang=pt-BR").get_json()["category"] == "Encomendas"
    assert client.get("/api/v1/faq/articles/track_order?lang=sw").get_json()["category"] == "Orders"  # English
    response = client.post("/faq/admin/categories", data={"category": "ORDER", "lang": "en", "name": ""})
    assert response.status_code == 302
    assert client.get("/api/v1/faq/articles/track_order?lang=sw").get_json()["category"] == "Order"  # the key
    client.post("/faq/admin/categories", data={"category": "ORDER", "lang": "pt-BR", "name": "Pedidos"})
    assert client.get("/api/v1/faq/articles/track_order?lang=pt-BR").get_json()["category"] == "Pedidos"
    page = client.get("/faq/admin/categories").get_data(as_text=True)
    assert "Pedidos" in page and "SHIPPING_ADDRESS" in page


@pytest.mark.parametrize("form, message", [
    ({"category": "ORDER", "lang": "xx-!!", "name": "N"}, "is not a language tag"),
    ({"category": "", "lang": "de", "name": "N"}, "The category must not be empty."),
    ({"category": "ORDER", "lang": "de", "name": "N" * 61}, "at most 60"),
    ({"category": "ORDER", "lang": "de", "name": "a\x00b"}, "control characters"),
])
def test_bad_category_names_are_refused(client, demo_faq, signed_in, form, message):
    response = client.post("/faq/admin/categories", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert client.get("/api/v1/faq/articles/track_order?lang=de").get_json()["category"] == "Bestellungen"


def fresh_get(client, path, **kwargs):
    """A request whose locale is chosen anew (Flask-Babel keeps it in ``g``, which the
    ``app`` fixture's application context shares between requests)."""
    refresh()
    return client.get(path, **kwargs)


def test_the_help_centre_follows_the_buyers_choice(client, demo_faq):
    """QA H4: ``?lang=`` and the language menu choose the articles' language, and the page
    is framed in the language of its URL whatever the browser says."""
    english = {"Accept-Language": "en-US"}
    response = client.get("/faq/?lang=ar", headers=english)
    assert response.status_code == 302 and response.headers["Location"].endswith("/faq/ar/")
    assert client.get("/faq/", headers=english).headers["Location"].endswith("/faq/ar/")  # kept in the session
    menu = client.get("/faq/en/?lang=zh-Hant&q=refund", headers=english)  # the language menu's link
    assert menu.status_code == 302 and menu.headers["Location"].endswith("/faq/zh-Hant/?q=refund")
    article = client.get("/faq/de/track_order?lang=ja", headers=english)
    assert article.headers["Location"].endswith("/faq/ja/track_order")
    page = fresh_get(client, "/faq/zh-Hant/", headers=english).get_data(as_text=True)
    assert '<html lang="zh-Hant" dir="ltr">' in page and "說明中心" in page
    page = fresh_get(client, "/faq/ar/track_order", headers=english).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert client.get("/faq/en/?lang=klingon", headers=english).status_code == 200  # no choice: no redirect


def test_an_article_missing_in_the_readers_language_says_so(client, demo_faq):
    """QA L8: Korean has no articles: the English ones are shown, marked with their language."""
    page = fresh_get(client, "/faq/ko/").get_data(as_text=True)
    assert '<html lang="ko"' in page
    assert '<span class="muted small faq-lang" lang="en">(English)</span>' in page
    assert "아직 고객님의 언어로 작성되지 않은 문서는 다른 언어로 표시되며" in page
    assert "faq-fallback" not in fresh_get(client, "/faq/de/").get_data(as_text=True)
    article = fresh_get(client, "/faq/ko/track_order").get_data(as_text=True)
    assert "이 답변은 아직 고객님의 언어로 작성되지 않았습니다." in article
    assert '<h1 lang="en" dir="ltr">' in article and '<span class="faq-lang" lang="en">(English)</span>' in article
