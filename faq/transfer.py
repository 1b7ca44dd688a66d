"""FAQ import and export, JSON and CSV.

JSON (UTF-8)::

    {"articles": [{"slug": "track_order", "category": "ORDER", "status": "published",
                   "versions": [{"lang": "en", "question": "...", "phrasings": ["..."],
                                 "keywords": ["..."], "answer": "Markdown",
                                 "machine_translated": false, "needs_review": false}]}]}

CSV (UTF-8, a byte-order mark allowed, header row): one row per version, columns
:data:`CSV_COLUMNS`; ``phrasings`` and ``keywords`` hold one item per line of the cell.
Rows of the same slug are one article; its category and status come from its first row.
A text cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``: an answer
that opens with a Markdown list, say) is exported with a leading apostrophe
(:func:`helpdesk.csvsafe.safe_cell`), which the import takes off again, so a round trip
changes nothing.

An import is all or nothing: every article and version is checked first, and a file with
any problem changes nothing (:class:`ImportRefused` lists each problem with where it is).
Articles are matched by slug, versions by language; versions not in the file stay.
Counters (views, answers) are neither exported nor imported.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from faq.models import Article
from faq.service import (
    FaqError,
    VersionData,
    apply_version,
    clean_text,
    mark_changed,
    clean_slug,
    clean_status,
    clean_version,
    MAX_CATEGORY,
)
from helpdesk.csvsafe import FORMULA_PREFIXES, safe_cell
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db

CSV_COLUMNS = ("slug", "category", "status", "lang", "question", "phrasings", "keywords", "answer",
               "machine_translated", "needs_review")
MAX_IMPORT_BYTES = 8 * 1024 * 1024
MAX_PROBLEMS_SHOWN = 20


class ImportRefused(FaqError):
    """A file that cannot be imported; ``problems`` says what and where, one line each."""

    code = "import_refused"

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        super().__init__("Nothing was imported. " + " ".join(shown) + (f" (and {more} more)" if more > 0 else ""))


@dataclass
class ArticleData:
    """A checked article of an import."""

    slug: str
    category: str | None
    status: str | None
    versions: list[VersionData] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What an import did."""

    articles_created: int = 0
    articles_updated: int = 0
    versions_created: int = 0
    versions_updated: int = 0


def _decode(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused([f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB."])
    if not data.strip():
        raise ImportRefused(["The file is empty."])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused([f"The file is not UTF-8 text (byte {exc.start:,} cannot be read)."]) from None


def parse_json(data: bytes) -> list[ArticleData]:
    """Check a JSON export (see the module docstring).

    Raises:
        ImportRefused: not JSON of that shape, or any article or version fails its checks.
    """
    try:
        document = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise ImportRefused([f"The file is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."]) from None
    except RecursionError:
        raise ImportRefused(["The file nests lists or objects too deeply to be an export."]) from None
    articles = document.get("articles") if isinstance(document, dict) else document
    if not isinstance(articles, list):
        raise ImportRefused(['Expected {"articles": [...]} (see the export for the layout).'])
    problems: list[str] = []
    parsed: list[ArticleData] = []
    for number, item in enumerate(articles, 1):
        where = f"Article {number}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object.")
            continue
        where = f"Article {number} ({str(item.get('slug'))[:100]!r})"
        try:
            article = _article(item.get("slug"), item.get("category"), item.get("status"))
        except FaqError as exc:
            problems.append(f"{where}: {exc}")
            continue
        versions = item.get("versions")
        if not isinstance(versions, list) or not versions:
            problems.append(f"{where}: \"versions\" must be a non-empty list.")
            continue
        for index, version in enumerate(versions, 1):
            try:
                if not isinstance(version, dict):
                    raise FaqError("not an object.")
                article.versions.append(clean_version(version))
            except FaqError as exc:
                problems.append(f"{where}, version {index}: {exc}")
        parsed.append(article)
    return _checked(parsed, problems)


def parse_csv(data: bytes) -> list[ArticleData]:
    """Check a CSV export (see the module docstring).

    Raises:
        ImportRefused: a missing column, or any row that fails its checks (by line number).
    """
    text = _decode(data)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = reader.fieldnames or []
        missing = [name for name in ("slug", "lang", "question", "answer") if name not in header]
        if missing:
            raise ImportRefused([f"The CSV has no column {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)})."])
        problems: list[str] = []
        articles: dict[str, ArticleData] = {}
        for row in reader:
            where = f"Line {reader.line_num}"
            if None in row:
                problems.append(f"{where}: more cells than columns.")
                continue
            row = {name: _unguarded(value) for name, value in row.items()}
            try:
                slug = clean_slug(row.get("slug"))
                article = articles.get(slug) or _article(slug, row.get("category"), row.get("status") or None)
                article.versions.append(clean_version(row))
                articles[slug] = article
            except FaqError as exc:
                problems.append(f"{where}: {exc}")
    except csv.Error as exc:
        raise ImportRefused([f"The file is not valid CSV: {exc}."]) from None
    return _checked(list(articles.values()), problems)


def _unguarded(value: str | None) -> str | None:
    """A cell as written before :func:`~helpdesk.csvsafe.safe_cell` guarded it (``None``:
    a row shorter than the header)."""
    if value is not None and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _article(slug: object, category: object, status: object) -> ArticleData:
    return ArticleData(
        slug=clean_slug(slug),
        category=None if category is None else clean_text(category, "The category", MAX_CATEGORY, required=False),
        status=None if status is None else clean_status(status),
    )


def _checked(articles: list[ArticleData], problems: list[str]) -> list[ArticleData]:
    seen: set[str] = set()
    for article in articles:
        if article.slug in seen:
            problems.append(f"The slug {article.slug!r} appears twice.")
        seen.add(article.slug)
        langs = [v.lang for v in article.versions]
        for lang in sorted({tag for tag in langs if langs.count(tag) > 1}):
            problems.append(f"{article.slug!r} has two {lang} versions.")
    if problems:
        raise ImportRefused(problems)
    if not articles:
        raise ImportRefused(["The file holds no article."])
    return articles


def parse(data: bytes, filename: str) -> list[ArticleData]:
    """Check a file by its extension (``.json`` or ``.csv``).

    Raises:
        ImportRefused: another extension, or see :func:`parse_json` / :func:`parse_csv`.
    """
    name = (filename or "").lower()
    if name.endswith(".json"):
        return parse_json(data)
    if name.endswith(".csv"):
        return parse_csv(data)
    raise ImportRefused(["Choose a .json or .csv file (an FAQ export)."])


def import_articles(articles: list[ArticleData]) -> ImportSummary:
    """Write checked articles in one transaction (commits; rolls back on any error)."""
    summary = ImportSummary()
    existing = {a.slug: a for a in db.session.scalars(
        select(Article).where(Article.slug.in_([a.slug for a in articles])).options(selectinload(Article.versions)))}
    try:
        for data in articles:
            article = existing.get(data.slug)
            if article is None:
                article = Article(slug=data.slug, category=data.category or "", status=data.status or "draft")
                db.session.add(article)
                summary.articles_created += 1
            else:
                article.category = article.category if data.category is None else data.category
                article.status = article.status if data.status is None else data.status
                summary.articles_updated += 1
            article.updated_at = utcnow()
            for version in data.versions:
                _, created = apply_version(article, version)
                summary.versions_created += created
                summary.versions_updated += not created
        mark_changed(*(data.slug for data in articles))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return summary


def export_rows() -> list[dict]:
    """Every article (drafts too), by slug, with its versions by language, as JSON-ready dicts."""
    articles = db.session.scalars(select(Article).order_by(Article.slug).options(selectinload(Article.versions)))
    return [{
        "slug": a.slug, "category": a.category, "status": a.status,
        "versions": [{"lang": v.lang, "question": v.question, "phrasings": list(v.phrasings or []),
                      "keywords": list(v.keywords or []), "answer": v.answer,
                      "machine_translated": v.machine_translated, "needs_review": v.needs_review}
                     for v in a.versions],
    } for a in articles]


def export_json() -> str:
    """The whole FAQ as the JSON of the module docstring (UTF-8 text, not ASCII-escaped)."""
    return json.dumps({"articles": export_rows()}, ensure_ascii=False, indent=1) + "\n"


def export_csv() -> str:
    """The whole FAQ as the CSV of the module docstring, every text cell guarded against
    formula injection."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for article in export_rows():
        for version in article["versions"]:
            row = {
                "slug": article["slug"], "category": article["category"], "status": article["status"], **version,
                "phrasings": "\n".join(version["phrasings"]), "keywords": "\n".join(version["keywords"]),
                "machine_translated": str(version["machine_translated"]).lower(),
                "needs_review": str(version["needs_review"]).lower(),
            }
            writer.writerow({name: safe_cell(value) for name, value in row.items()})
    return out.getvalue()
