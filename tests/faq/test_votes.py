""""Did this answer your question?": one vote per browser session and article, exact counts."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from faq import service
from faq.models import Article, Vote
from helpdesk.extensions import db

URL = "/api/v1/faq/articles/track_order/feedback"


def counts(slug="track_order"):
    article = db.session.scalar(select(Article).where(Article.slug == slug).execution_options(populate_existing=True))
    return article.helpful_count, article.not_helpful_count, article.deflection_count


def token(client, slug="track_order"):
    return client.get(f"/api/v1/faq/articles/{slug}?lang=en").get_json()["vote_token"]


def test_a_replayed_vote_counts_once_and_a_second_answer_replaces_the_first(client, demo_faq, fresh_limits):
    mine = token(client)
    for _ in range(5):  # the same POST replayed
        assert client.post(URL, json={"helpful": True, "vote_token": mine}).status_code == 200
    assert counts() == (1, 0, 1)
    assert client.post(URL, json={"helpful": False, "vote_token": mine}).get_json() == {"ok": True, "changed": True}
    assert counts() == (0, 1, 0)  # the deflection is taken back
    assert client.post(URL, json={"helpful": False, "vote_token": mine}).get_json()["changed"] is False
    assert client.post(URL, json={"helpful": True, "vote_token": token(client)}).status_code == 200
    assert counts() == (1, 0, 1)  # a new token in the same session is the same voter
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1


def test_tokens_are_per_article_and_cannot_be_forged(client, demo_faq, fresh_limits):
    mine = token(client)
    response = client.post("/api/v1/faq/articles/get_refund/feedback", json={"helpful": True, "vote_token": mine})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_vote_token"
    for forged in (mine[:-2] + "xx", "", "x" * 600, 42, None, "\ud800"):
        response = client.post(URL, json={"helpful": True, "vote_token": forged})
        assert response.status_code == 400, forged
    assert counts() == (0, 0, 0) and counts("get_refund") == (0, 0, 0)


def test_separate_browser_sessions_each_count(app, demo_faq, fresh_limits):
    for helpful in (True, True, False):
        browser = app.test_client()
        assert browser.post(URL, json={"helpful": helpful, "vote_token": token(browser)}).status_code == 200
    assert counts() == (2, 1, 2)


def test_the_article_page_form_votes_once_per_session(client, demo_faq, fresh_limits):
    page = client.get("/faq/es/track_order").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for helpful in ("yes", "yes", "no", "yes"):
        assert client.post("/faq/es/track_order/feedback", data={"helpful": helpful, "csrf_token": csrf}).status_code == 302
    assert counts() == (1, 0, 1)
    widget_token = token(client)  # the widget in the same session is the same voter
    client.post(URL, json={"helpful": False, "vote_token": widget_token})
    assert counts() == (0, 1, 0)


def test_concurrent_votes_keep_exact_counts(app, demo_faq):
    article = Article.query.filter_by(slug="track_order").one()
    article_id = article.id
    db.session.rollback()  # no transaction (nor SQLite's write lock) held by the test itself
    errors = []

    def cast(voter, helpful):
        with app.app_context():
            try:
                service.vote(db.session.get(Article, article_id), voter, helpful)
            except Exception as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cast, args=(f"voter-{n % 10}", n % 3 != 0)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    votes = db.session.execute(select(Vote.helpful, func.count()).group_by(Vote.helpful)).all()
    yes = dict(votes).get(True, 0)
    no = dict(votes).get(False, 0)
    assert yes + no == 10
    assert counts() == (yes, no, yes)


@pytest.mark.parametrize("voter", ["", "x" * 65, None])
def test_a_vote_needs_a_voter(app, demo_faq, voter):
    with pytest.raises(service.FaqError):
        service.vote(Article.query.filter_by(slug="track_order").one(), voter, True)
    assert counts() == (0, 0, 0)
