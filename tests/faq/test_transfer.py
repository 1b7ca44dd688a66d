"""Import and export: round trips in JSON and CSV, and bad files that change nothing."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from faq import transfer
from faq.cli import DEMO_FAQ
from faq.models import Article, ArticleVersion
from helpdesk.extensions import db


def counts():
    return (db.session.scalar(select(func.count()).select_from(Article)),
            db.session.scalar(select(func.count()).select_from(ArticleVersion)))


def upload(client, name: str, body: bytes):
    return client.post("/faq/admin/import", data={"file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def test_demo_has_every_bitext_intent_in_nine_languages(demo_faq):
    assert counts() == (27, 27 * 9)
    assert demo_faq.articles_created == 27 and demo_faq.versions_created == 243
    langs = {v.lang for v in ArticleVersion.query}
    assert langs == {"en", "zh-Hans", "zh-Hant", "ja", "es", "pt", "de", "fr", "ar"}
    assert all(a.status == "published" and a.category for a in Article.query)


def test_json_and_csv_round_trips(app, demo_faq):
    exported = transfer.export_json()
    csv_text = transfer.export_csv()
    for table in (ArticleVersion, Article):
        db.session.execute(table.__table__.delete())
    db.session.commit()
    transfer.import_articles(transfer.parse(csv_text.encode(), "faq.csv"))
    assert transfer.export_json() == exported
    summary = transfer.import_articles(transfer.parse(exported.encode(), "faq.json"))
    assert (summary.articles_created, summary.articles_updated, summary.versions_updated) == (0, 27, 243)
    assert transfer.export_json() == exported


def test_export_and_import_through_the_editor(client, signed_in, demo_faq):
    response = client.get("/faq/admin/export.csv")
    assert response.headers["Content-Type"].startswith("text/csv") and "attachment" in response.headers["Content-Disposition"]
    body = client.get("/faq/admin/export.json").get_data()
    assert json.loads(body)["articles"][0]["slug"] == "cancel_order"
    response = upload(client, "faq.json", body)
    assert response.status_code == 302 and counts() == (27, 243)
    page = client.get("/faq/admin/").get_data(as_text=True)
    assert "Imported: 0 new and 27 updated articles" in page


VALID = {"slug": "gift_wrap", "category": "ORDER", "status": "published",
         "versions": [{"lang": "en", "question": "Do you gift wrap?", "answer": "Yes."}]}


@pytest.mark.parametrize("name, body, message", [
    ("faq.json", b"{not json", "The file is not JSON"),
    ("faq.json", b'{"items": []}', 'Expected {"articles": [...]}'),
    ("faq.json", b"", "The file is empty."),
    ("faq.json", b"\xff\xfe{}", "not UTF-8"),
    ("faq.json", json.dumps({"articles": [VALID, {**VALID, "slug": "Bad Slug"}]}).encode(), "is not a slug"),
    ("faq.json", json.dumps({"articles": [VALID, VALID]}).encode(), "appears twice"),
    ("faq.json", json.dumps({"articles": [{**VALID, "versions": [{"lang": "xx-!!", "question": "q", "answer": "a"}]}]}).encode(),
     "is not a language tag"),
    ("faq.json", json.dumps({"articles": [{**VALID, "versions": [{"lang": "en", "question": "", "answer": "a"}]}]}).encode(),
     "The question must not be empty."),
    ("faq.json", json.dumps({"articles": [{**VALID, "status": "live"}]}).encode(), "The status must be one of"),
    ("faq.json", json.dumps({"articles": [{**VALID, "versions": [VALID["versions"][0]] * 2}]}).encode(), "two en versions"),
    ("faq.csv", b"slug,lang\nx,en\n", "The CSV has no column question, answer"),
    ("faq.csv", "slug,lang,question,answer\ngift_wrap,en,Q?,A\ngift_wrap,de,,A\n".encode(), "Line 3: The question must not be empty."),
    ("faq.csv", b'slug,lang,question,answer\n"gift_wrap,en,Q?,A\n', "not valid CSV"),
    ("faq.csv", "slug,lang,question,answer\ngift_wrap,en,Q?,A,extra\n".encode(), "more cells than columns"),
    ("faq.txt", b"hello", "Choose a .json or .csv file"),
])
def test_bad_files_are_refused_whole_and_change_nothing(client, signed_in, name, body, message):
    transfer.import_articles(transfer.parse_json(json.dumps({"articles": [{**VALID, "slug": "existing"}]}).encode()))
    before = counts()
    response = upload(client, name, body)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
    assert counts() == before


def test_import_without_a_file(client, signed_in):
    assert client.post("/faq/admin/import").status_code == 400


def test_cli_import_and_export(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["faq", "import", *map(str, sorted(DEMO_FAQ.glob("*.json")))])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["versions_created"] == 243
    bad = tmp_path / "bad.json"
    bad.write_text('{"articles": [{"slug": "x", "versions": []}]}')
    result = runner.invoke(args=["faq", "import", str(bad)])
    assert result.exit_code == 1 and "bad.json: Article 1" in result.output
    assert runner.invoke(args=["faq", "export", "--format", "csv"]).output.startswith("slug,category,status,lang")
    result = runner.invoke(args=["faq", "suggest", "wher is my pakage"])
    assert result.exit_code == 0 and "track_order" in result.output.splitlines()[0]


FORMULAS = {"slug": "formula_cells", "category": "=HYPERLINK(\"http://evil.example\")", "status": "published",
            "versions": [{"lang": "en", "question": "@SUM(A1:A2) why?", "phrasings": ["+1 for a refund", "plain"],
                          "keywords": ["-2+3"], "answer": "- first step\n- second step"}]}


def test_csv_export_guards_formula_cells_and_the_import_takes_the_guard_off(app):
    transfer.import_articles(transfer.parse_json(json.dumps({"articles": [FORMULAS]}).encode()))
    exported = transfer.export_json()
    rows = list(csv.DictReader(io.StringIO(transfer.export_csv(), newline="")))
    assert [(r["category"], r["question"], r["phrasings"], r["keywords"], r["answer"]) for r in rows] == [
        ("'=HYPERLINK(\"http://evil.example\")", "'@SUM(A1:A2) why?", "'+1 for a refund\nplain", "'-2+3",
         "'- first step\n- second step")]
    assert rows[0]["slug"] == "formula_cells" and rows[0]["machine_translated"] == "false"
    transfer.import_articles(transfer.parse(transfer.export_csv().encode(), "faq.csv"))
    assert transfer.export_json() == exported
    version = db.session.scalar(select(ArticleVersion))
    assert version.answer == "- first step\n- second step" and version.keywords == ["-2+3"]


def test_a_quote_that_guards_nothing_is_kept_on_import(app):
    body = "slug,lang,question,answer\nquoted,en,'quoted' question?,'Tis the answer\n".encode()
    transfer.import_articles(transfer.parse(body, "faq.csv"))
    version = db.session.scalar(select(ArticleVersion))
    assert (version.question, version.answer) == ("'quoted' question?", "'Tis the answer")


@pytest.mark.parametrize("name, body, message", [
    ("faq.csv", "slug,lang,question,answer\ngift_wrap,en,Größe?,A\n".encode("utf-16"), "not UTF-8"),
    ("faq.csv", "slug,lang,question,answer\ngift_wrap,en,Größe?,A\n".encode("latin-1"), "not UTF-8 text (byte 41"),
    ("faq.csv", b"slug;lang;question;answer\ngift_wrap;en;Q?;A\n", "The CSV has no column slug, lang, question, answer"),
    ("faq.csv", b"slug,lang,question,answer\n" + b"gift_wrap,en,Q?,A\n" * 500_000, "larger than 8 MiB"),
    ("faq.json", b" " * (transfer.MAX_IMPORT_BYTES + 1), "larger than 8 MiB"),
])
def test_files_in_the_wrong_encoding_layout_or_size_are_refused(client, signed_in, name, body, message):
    transfer.import_articles(transfer.parse_json(json.dumps({"articles": [{**VALID, "slug": "existing"}]}).encode()))
    before = transfer.export_json()
    response = upload(client, name, body)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert transfer.export_json() == before
