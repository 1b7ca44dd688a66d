"""``/api/v1/faq/...`` on SQLite and PostgreSQL, with the demo articles."""
from __future__ import annotations

import pytest

from faq import service
from faq.models import Article


def suggest(client, **params):
    return client.get("/api/v1/faq/suggest", query_string=params)


@pytest.mark.parametrize("q, lang, expected_lang", [
    ("wher is my pakage", "en", "en"),
    ("我的包裹在哪", "zh-Hans", "zh-Hans"),
    ("¿dónde está mi pedido?", "es", "es"),
    ("¿dónde está mi pedido?", "en-US", "es"),      # a Spanish question in an English browser
    ("我的包裹在哪", "en", "zh-Hans"),
    ("我的包裹在哪裡", "zh-TW", "zh-Hant"),
    ("荷物はどこですか", "ja", "ja"),
    ("أين طلبي", "ar", "ar"),
    ("cadê meu pedido", "pt-BR", "pt"),
])
def test_the_tracking_article_comes_first(client, demo_faq, q, lang, expected_lang):
    response = suggest(client, q=q, lang=lang)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert results[0]["slug"] == "track_order" and results[0]["lang"] == expected_lang
    assert set(results[0]) == {"slug", "lang", "title", "score"}
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_limit_and_defaults(client, demo_faq):
    assert len(suggest(client, q="refund", lang="en", limit=1).get_json()["results"]) == 1
    assert len(suggest(client, q="refund", lang="en", limit=20).get_json()["results"]) <= 20
    response = client.get("/api/v1/faq/suggest", query_string={"q": "refund"}, headers={"Accept-Language": "de-DE"})
    assert response.status_code == 200 and response.get_json()["results"][0]["slug"] in ("get_refund", "track_refund")


@pytest.mark.parametrize("q", ["", "   ", "?!?!", "📦🚚", "\u200b"])
def test_empty_and_symbol_only_queries_give_no_results(client, demo_faq, q):
    response = suggest(client, q=q, lang="en")
    assert response.status_code == 200 and response.get_json() == {"results": []}


def test_no_query_at_all(client, demo_faq):
    assert client.get("/api/v1/faq/suggest").get_json() == {"results": []}


@pytest.mark.parametrize("params, code", [
    ({"q": "order", "limit": "0"}, "invalid_limit"),
    ({"q": "order", "limit": "21"}, "invalid_limit"),
    ({"q": "order", "limit": "ten"}, "invalid_limit"),
    ({"q": "order", "limit": "-1"}, "invalid_limit"),
    ({"q": "order", "lang": "xx-!!"}, "invalid_language"),
    ({"q": "order", "lang": "<script>"}, "invalid_language"),
    ({"q": "a" * 501}, "query_too_long"),
])
def test_bad_parameters_are_a_400_that_says_why(client, demo_faq, params, code):
    response = suggest(client, **params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_a_huge_query_string_is_refused_without_searching(client, demo_faq):
    response = suggest(client, q="where is my order " * 10_000)
    assert response.status_code in (400, 413, 414)


def test_rate_limited(app, client, demo_faq, fresh_limits):
    app.config["FAQ_SUGGEST_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [suggest(client, q="order").status_code for _ in range(4)]
    finally:
        app.config["FAQ_SUGGEST_RATE_LIMIT"] = "120 per minute"
    assert codes == [200, 200, 200, 429]


def test_drafts_are_never_suggested_and_edits_show_at_once(client, app, demo_faq):
    article = Article.query.filter_by(slug="track_order").one()
    service.set_status(article, "draft")
    assert "track_order" not in [r["slug"] for r in suggest(client, q="where is my parcel").get_json()["results"]]
    service.set_status(article, "published")
    assert suggest(client, q="where is my parcel").get_json()["results"][0]["slug"] == "track_order"
    version = article.version("en")
    service.save_version(article, service.clean_version({
        "lang": "en", "question": version.question, "answer": version.answer,
        "phrasings": list(version.phrasings) + ["where is my llama"]}))
    assert suggest(client, q="where is my llama").get_json()["results"][0]["slug"] == "track_order"


def test_the_index_is_reused_until_something_changes(app, demo_faq):
    first = service.current_index()
    assert service.current_index() is first
    article = Article.query.filter_by(slug="review").one()
    service.set_status(article, "draft")
    second = service.current_index()
    assert second is not first and len(second) == len(first) - len(article.versions)


def test_article_json_in_the_nearest_language(client, demo_faq):
    body = client.get("/api/v1/faq/articles/track_order?lang=zh-Hant-TW").get_json()
    assert body["lang"] == "zh-Hant" and body["title"] == "我的訂單到哪裡了？"
    assert "<strong>" in body["answer_html"]
    assert "**" not in body["answer_text"] and "<" not in body["answer_text"]  # plain text for a chat reply
    assert client.get("/api/v1/faq/articles/track_order?lang=sw").get_json()["lang"] == "en"
    for path in ("/api/v1/faq/articles/nope", "/api/v1/faq/articles/..%2Fadmin", "/api/v1/faq/articles/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_feedback_counts_deflections(app, client, demo_faq, fresh_limits):
    url = "/api/v1/faq/articles/track_order/feedback"
    token = client.get("/api/v1/faq/articles/track_order?lang=en").get_json()["vote_token"]
    assert client.post(url, json={"helpful": True, "vote_token": token}).get_json() == {"ok": True, "changed": True}
    other = app.test_client().get("/api/v1/faq/articles/track_order?lang=en").get_json()["vote_token"]
    assert client.post(url, json={"helpful": False, "vote_token": other}).status_code == 200
    for bad in ({"helpful": "yes", "vote_token": token}, {}, [], None, {"helpful": True}):
        assert client.post(url, json=bad).status_code == 400
    article = Article.query.filter_by(slug="track_order").one()
    assert (article.helpful_count, article.not_helpful_count, article.deflection_count) == (1, 1, 1)
    assert client.post("/api/v1/faq/articles/nope/feedback", json={"helpful": True}).status_code == 404


def test_answer_text_is_plain_text_for_chat():
    from faq.service import answer_text

    assert answer_text("Open **My account › Orders**, then *Track*.\n\n1. First [our page](https://x.example/a)\n"
                       "2. Second\n\n- a `code`\n- [https://y.example](https://y.example)\n\n<b>raw</b>") == (
        "Open My account › Orders, then Track.\n1. First our page (https://x.example/a)\n2. Second\n"
        "• a code\n• https://y.example\n<b>raw</b>")


def test_an_edit_reanalyses_only_that_article(app, client, demo_faq):
    first = service.current_index()
    assert first.analysed_count == 243
    article = Article.query.filter_by(slug="track_order").one()
    version = article.version("en")
    service.save_version(article, service.clean_version({
        "lang": "en", "question": version.question, "answer": version.answer,
        "phrasings": list(version.phrasings) + ["where is my llama"]}))
    second = service.current_index()
    assert second is not first and second.analysed_count == 9  # track_order's nine languages
    assert suggest(client, q="where is my llama").get_json()["results"][0]["slug"] == "track_order"
    for key, item in first.prepared.items():
        if key[0] == "track_order":
            assert second.prepared[key] is not item
        else:
            assert second.prepared[key] is item  # untouched: the same analysed entry
    service.delete_article(Article.query.filter_by(slug="get_refund").one())
    third = service.current_index()
    assert third.analysed_count == 0 and not any(slug == "get_refund" for slug, _ in third.prepared)
    assert len(third) == 243 - 9


def test_a_renamed_or_unpublished_article_leaves_the_index(app, demo_faq):
    service.current_index()
    article = Article.query.filter_by(slug="track_order").one()
    service.save_article(article, slug="where_is_my_order", category=article.category, status="published")
    index = service.current_index()
    assert {slug for slug, _ in index.prepared} >= {"where_is_my_order"}
    assert "track_order" not in {slug for slug, _ in index.prepared} and index.analysed_count == 9
    service.set_status(article, "draft")
    assert "where_is_my_order" not in {slug for slug, _ in service.current_index().prepared}


def test_a_log_pruned_past_the_index_or_rows_written_directly_rebuild_it(app, demo_faq):
    from sqlalchemy import delete

    from faq.models import ArticleVersion, IndexChange
    from helpdesk.extensions import db

    service.current_index()
    article = Article.query.filter_by(slug="track_order").one()
    service.set_status(article, "draft")
    db.session.execute(delete(IndexChange).where(IndexChange.id < db.session.scalar(
        db.select(db.func.max(IndexChange.id)))))
    db.session.commit()
    assert service.current_index().analysed_count == 243 - 9  # the entry it had seen is gone: whole rebuild
    db.session.execute(delete(ArticleVersion).where(ArticleVersion.article_id == Article.query.filter_by(
        slug="get_refund").one().id))
    db.session.commit()
    assert service.current_index().analysed_count == 243 - 18  # behind the service's back: whole rebuild
