"""Machine translation of FAQ drafts through the translation engine (the tiny offline argos
models of tests/translation/tiny_model.py), and without any model or engine."""
from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from faq import service
from faq.models import Article
from faq.translate import markdown_pieces, query_translator, translate_markdown
from helpdesk.extensions import db

ANSWER = """### Where to look

Open **My account › Orders** and follow [the tracking page](https://shop.example/track_it?order=1 "Track").
- Order #5001 ships in *two* days
- Write to `help@shop.example`
1. Keep the box

```
flask faq suggest "wher is my pakage"
```
> The carrier scans it within 24 hours."""


def structure(markdown: str) -> list:
    """Markdown's block and inline token kinds, with link targets and code, not the words."""
    shape = []
    for token in MarkdownIt("commonmark").parse(markdown):
        shape.append((token.type, token.info, token.content if token.type == "fence" else None))
        for child in token.children or []:
            if child.type != "text":
                shape.append((child.type, child.attrs.get("href"), child.content if "code" in child.type else None))
    return shape


def test_only_the_text_of_markdown_is_translated():
    assert translate_markdown(ANSWER, str.upper) == """### WHERE TO LOOK

OPEN **MY ACCOUNT › ORDERS** AND FOLLOW [THE TRACKING PAGE](https://shop.example/track_it?order=1 "Track").
- ORDER #5001 SHIPS IN *TWO* DAYS
- WRITE TO `help@shop.example`
1. KEEP THE BOX

```
flask faq suggest "wher is my pakage"
```
> THE CARRIER SCANS IT WITHIN 24 HOURS."""
    assert "".join(piece for _, piece in markdown_pieces(ANSWER)) == ANSWER


def test_markup_in_a_translation_is_escaped_not_obeyed():
    out = translate_markdown("- one\n\nplain", lambda text: "# *not* [a](link) " + text)
    assert out == "- \\# \\*not\\* \\[a\\](link) one\n\n\\# \\*not\\* \\[a\\](link) plain"
    assert [t.type for t in MarkdownIt("commonmark").parse(out)] == [
        "bullet_list_open", "list_item_open", "paragraph_open", "inline", "paragraph_close", "list_item_close",
        "bullet_list_close", "paragraph_open", "inline", "paragraph_close"]


@pytest.fixture
def draft(app):
    article = service.save_article(None, slug="track_order", category="ORDER", status="published")
    service.save_version(article, service.clean_version({
        "lang": "en", "question": "Where is my parcel?", "phrasings": ["My order has not arrived."],
        "keywords": ["parcel", "tracking"], "answer": ANSWER}))
    service.save_version(article, service.clean_version({
        "lang": "de", "question": "Wo ist mein Paket?", "answer": "Von einem Menschen geschrieben."}))
    return article.id


def test_an_agent_translates_a_draft_with_the_engine(app, client, signed_in, translation, draft):
    translation.install("en-pt", "en-de")
    response = client.post(f"/faq/admin/articles/{draft}/translate",
                           data={"source": "en", "targets": ["pt", "de"], "other": "pt-BR, xx"})
    assert response.status_code == 400 and "is not a language tag" in response.get_data(as_text=True)
    response = client.post(f"/faq/admin/articles/{draft}/translate", data={"source": "en", "targets": ["pt", "de"]})
    assert response.status_code == 302
    article = db.session.get(Article, draft)
    db.session.refresh(article)
    pt = article.version("pt")
    assert (pt.machine_translated, pt.needs_review) == (True, True)
    assert len(pt.phrasings) == 1 and pt.keywords and pt.question != "Where is my parcel?"  # the tiny model may
    # give both keywords the same word (they are then one)
    assert structure(pt.answer) == structure(ANSWER)  # links, lists, code and quotes survive
    assert "#5001" in pt.answer  # protected through the model
    assert article.version("de").answer == "Von einem Menschen geschrieben."  # a person's version is kept
    page = client.get(f"/faq/admin/articles/{draft}").get_data(as_text=True)
    assert "Machine-translated into pt" in page and "Not replaced, written by a person: de" in page

    # a draft: buyers never see it until it is reviewed
    assert client.get("/api/v1/faq/articles/track_order?lang=pt").get_json()["lang"] == "en"
    assert all(r["lang"] != "pt" for r in client.get("/api/v1/faq/suggest?q=x&lang=pt").get_json()["results"])
    assert ("track_order", "pt") not in service.current_index().prepared

    response = client.post(f"/faq/admin/articles/{draft}/translate",
                           data={"source": "en", "targets": ["de"], "replace_human": "on"})
    assert response.status_code == 302
    db.session.refresh(article)
    assert article.version("de").machine_translated and structure(article.version("de").answer) == structure(ANSWER)

    client.post(f"/faq/admin/articles/{draft}/versions/pt", data={  # reviewed: needs_review unticked
        "question": pt.question, "phrasings": "\n".join(pt.phrasings), "keywords": "\n".join(pt.keywords),
        "answer": pt.answer})
    assert client.get("/api/v1/faq/articles/track_order?lang=pt").get_json()["lang"] == "pt"
    assert ("track_order", "pt") in service.current_index().prepared


def test_without_a_model_nothing_is_written_and_the_agent_is_told(app, client, signed_in, translation, draft):
    response = client.post(f"/faq/admin/articles/{draft}/translate", data={"source": "en", "targets": ["ja"]},
                           follow_redirects=True)
    assert "ja: No translation for en→ja" in response.get_data(as_text=True)
    assert db.session.get(Article, draft).version("ja") is None


def test_without_an_engine_the_agent_is_told_how_to_get_one(app, client, signed_in, draft):
    response = client.post(f"/faq/admin/articles/{draft}/translate", data={"source": "en", "targets": ["ja"]})
    assert response.status_code == 400
    assert "no translation engine is installed" in response.get_data(as_text=True)
    assert db.session.get(Article, draft).version("ja") is None


@pytest.mark.parametrize("form, message", [
    ({"source": "fr", "targets": ["de"]}, "has no fr version"),
    ({"source": "en"}, "Choose at least one language"),
    ({"source": "en", "targets": ["en"]}, "Choose at least one language"),
    ({"source": "en", "other": "de fr es it pt ja ko zh ar ru nl pl tr sv da fi nb cs el he hi th"},
     "At most 20 languages at once (there are 22)"),
    ({"source": "!!", "targets": ["de"]}, "is not a language tag"),
])
def test_bad_translation_requests_are_refused(app, client, signed_in, translation, draft, form, message):
    response = client.post(f"/faq/admin/articles/{draft}/translate", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert [v.lang for v in db.session.get(Article, draft).versions] == ["de", "en"]


def test_the_matcher_translates_an_unanswered_question_to_english(app, client, translation, draft):
    translation.install("pt-en")
    assert query_translator("Onde está a minha encomenda?", "pt", "en")
    assert query_translator("Onde está a minha encomenda?", "ja", "en") is None  # no model for the pair
