"""FAQ domain operations on the database: write and publish articles, count views and
answers, keep the matcher's index current, render answers safely.

No Flask request in sight (an app context for the database is enough): views, the CLI
and the import call these. Every function that changes something commits before it
returns, and every change that the matcher can see replaces
:attr:`faq.models.IndexState.token` in the same transaction.
"""
from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from faq.matcher import Entry, FaqIndex, InvalidLanguage, Match, Translator, canonical_tag, fallback_chain
from faq.models import ARTICLE_STATUSES, Article, ArticleVersion, IndexState
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.text import has_control_characters, is_blank

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
MAX_CATEGORY = 60
MAX_QUESTION = 300
MAX_PHRASINGS = 30
MAX_KEYWORDS = 40
MAX_KEYWORD = 80
MAX_ANSWER = 20_000

# Markdown: CommonMark without raw HTML, then nh3 (the ammonia sanitiser) as a second
# line: only these tags, links only to http(s) and mailto, never opening a window on us.
_markdown = MarkdownIt("commonmark", {"html": False})
ANSWER_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "blockquote", "h3", "h4", "hr"}


class FaqError(ValueError):
    """A request the FAQ refuses; ``code`` is stable for clients, the message is for people."""

    code = "bad_request"


class InvalidArticle(FaqError):
    code = "invalid_article"


class ArticleNotFound(FaqError):
    code = "not_found"


class DuplicateSlug(FaqError):
    code = "duplicate_slug"


def render_answer(markdown: str) -> Markup:
    """An answer's Markdown as HTML safe to put in a page: raw HTML in the source is shown
    as text, scripts, event handlers and ``javascript:`` links never survive."""
    html = _markdown.render(markdown or "")
    return Markup(nh3.clean(html, tags=ANSWER_TAGS, attributes={"a": {"href", "title"}},
                            url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow"))


def answer_text(markdown: str) -> str:
    """An answer's Markdown as plain text for a chat reply (chat messages are shown as
    text): emphasis marks dropped, list items as "• " or "1. ", links as "text (url)",
    one line per paragraph or item."""
    lines, prefix = [], ""
    for token in _markdown.parse(markdown or ""):
        if token.type == "list_item_open":
            prefix = f"{token.info}{token.markup} " if token.info else "• "
        elif token.type == "inline":
            lines.append(prefix + _inline_text(token.children or []))
            prefix = ""
    return "\n".join(lines)


def _inline_text(children) -> str:
    parts, href = [], None
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "link_open":
            href, start = child.attrs.get("href"), len(parts)
        elif child.type == "link_close" and href:
            if "".join(parts[start:]) != href:
                parts.append(f" ({href})")
            href = None
    return "".join(parts)


# --- checks ----------------------------------------------------------------------------


def clean_text(value: object, what: str, max_length: int, *, required: bool = True, lines: bool = False) -> str:
    """Text of at most ``max_length`` characters, trimmed, spaces collapsed (line breaks
    kept when ``lines``), without control characters.

    Raises:
        InvalidArticle: not text, empty while ``required``, too long, or with control characters.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidArticle(f"{what} must be text.")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not lines:
        text = " ".join(text.split())
    if required and (not text or is_blank(text)):
        raise InvalidArticle(f"{what} must not be empty.")
    if len(text) > max_length:
        raise InvalidArticle(f"{what} must be at most {max_length:,} characters (it has {len(text):,}).")
    if has_control_characters(text, allowed="\n\t" if lines else ""):
        raise InvalidArticle(f"{what} contains control characters.")
    return text


def _list(value: object, what: str, max_items: int, max_length: int) -> list[str]:
    """A list of short texts: a JSON list, or one text with an item per line."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list):
        raise InvalidArticle(f"{what} must be a list of texts.")
    items = [clean_text(item, f"Each of the {what.lower()}", max_length, required=False) for item in value]
    items = list(dict.fromkeys(item for item in items if item))
    if len(items) > max_items:
        raise InvalidArticle(f"{what}: at most {max_items} (there are {len(items)}).")
    return items


def _flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "0", "false", "no")):
        return False
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes"):
        return True
    raise InvalidArticle(f"{what} must be true or false.")


def clean_slug(value: object) -> str:
    """1–100 characters of ``a-z``, ``0-9``, ``_`` and ``-``, starting with a letter or digit.

    Raises:
        InvalidArticle: anything else.
    """
    slug = value.strip() if isinstance(value, str) else ""
    if not SLUG.fullmatch(slug):
        raise InvalidArticle(f"{value!r} is not a slug: use 1–100 lower-case letters, digits, _ and - (e.g. track_order).")
    return slug


def clean_lang(value: object) -> str:
    """A BCP 47 tag in its canonical form (``zh-hant`` → ``zh-Hant``).

    Raises:
        InvalidArticle: not a language tag.
    """
    try:
        return canonical_tag(value if isinstance(value, str) else "")
    except InvalidLanguage as exc:
        raise InvalidArticle(str(exc)) from None


def clean_status(value: object) -> str:
    """One of :data:`~faq.models.ARTICLE_STATUSES`."""
    if value not in ARTICLE_STATUSES:
        raise InvalidArticle(f"The status must be one of {', '.join(ARTICLE_STATUSES)}.")
    return value


@dataclass(frozen=True)
class VersionData:
    """Checked fields of one language version (see :func:`clean_version`)."""

    lang: str
    question: str
    phrasings: list[str]
    keywords: list[str]
    answer: str
    machine_translated: bool = False
    needs_review: bool = False


def clean_version(data: dict) -> VersionData:
    """Check a version given as a mapping (form, JSON or CSV row): ``lang``, ``question``,
    ``answer`` (Markdown) required; ``phrasings`` and ``keywords`` lists (or one item
    per line); ``machine_translated`` and ``needs_review`` true/false.

    Raises:
        InvalidArticle: the first problem found, in words.
    """
    return VersionData(
        lang=clean_lang(data.get("lang")),
        question=clean_text(data.get("question"), "The question", MAX_QUESTION),
        phrasings=_list(data.get("phrasings"), "Phrasings", MAX_PHRASINGS, MAX_QUESTION),
        keywords=_list(data.get("keywords"), "Keywords", MAX_KEYWORDS, MAX_KEYWORD),
        answer=clean_text(data.get("answer"), "The answer", MAX_ANSWER, lines=True),
        machine_translated=_flag(data.get("machine_translated"), "machine_translated"),
        needs_review=_flag(data.get("needs_review"), "needs_review"),
    )


# --- writes ----------------------------------------------------------------------------


def mark_changed() -> None:
    """Tell every process that its index is out of date (in the caller's transaction)."""
    token = secrets.token_hex(16)
    if db.session.execute(update(IndexState).where(IndexState.id == 1).values(token=token)).rowcount == 0:
        db.session.add(IndexState(id=1, token=token))


def get_article(article_id: int) -> Article:
    """The article with this id.

    Raises:
        ArticleNotFound: none has it.
    """
    article = db.session.get(Article, article_id)
    if article is None:
        raise ArticleNotFound("There is no such article.")
    return article


def save_article(article: Article | None, *, slug: object, category: object, status: object = "draft") -> Article:
    """Create (``article`` is ``None``) or change an article's slug, category and status; commits.

    Raises:
        InvalidArticle: a field fails its check.
        DuplicateSlug: another article has this slug.
    """
    slug = clean_slug(slug)
    category = clean_text(category, "The category", MAX_CATEGORY, required=False)
    status = clean_status(status)
    other = db.session.scalar(select(Article).where(Article.slug == slug))
    if other is not None and other is not article:
        raise DuplicateSlug(f"Another article already has the slug {slug!r}.")
    article = article or Article()
    article.slug, article.category, article.status, article.updated_at = slug, category, status, utcnow()
    db.session.add(article)
    mark_changed()
    db.session.commit()
    return article


def apply_version(article: Article, data: VersionData) -> tuple[ArticleVersion, bool]:
    """Create or update ``article``'s ``data.lang`` version in the session (no commit, no
    :func:`mark_changed`); returns it and whether it is new."""
    version = article.version(data.lang)
    created = version is None
    if created:
        version = ArticleVersion(lang=data.lang)
        article.versions.append(version)
    version.question, version.answer = data.question, data.answer
    version.phrasings, version.keywords = list(data.phrasings), list(data.keywords)
    version.machine_translated, version.needs_review = data.machine_translated, data.needs_review
    version.updated_at = article.updated_at = utcnow()
    return version, created


def save_version(article: Article, data: VersionData) -> ArticleVersion:
    """Create or replace the ``data.lang`` version of ``article``; commits."""
    version, _ = apply_version(article, data)
    mark_changed()
    db.session.commit()
    return version


def delete_version(article: Article, lang: str) -> None:
    """Remove one language version (nothing happens when there is none); commits."""
    version = article.version(lang)
    if version is not None:
        article.versions.remove(version)
        article.updated_at = utcnow()
        mark_changed()
        db.session.commit()


def delete_article(article: Article) -> None:
    """Remove an article with all its versions; commits."""
    db.session.delete(article)
    mark_changed()
    db.session.commit()


def set_status(article: Article, status: str) -> Article:
    """Publish or unpublish; commits.

    Raises:
        InvalidArticle: an unknown status, or publishing an article without any version.
    """
    status = clean_status(status)
    if status == "published" and not article.versions:
        raise InvalidArticle("Write at least one language version before publishing.")
    article.status, article.updated_at = status, utcnow()
    mark_changed()
    db.session.commit()
    return article


_COUNTERS = {"view": ("view_count",), "yes": ("helpful_count", "deflection_count"), "no": ("not_helpful_count",)}


def count(article: Article, what: str) -> None:
    """Count a page view (``"view"``) or an answer to "did this answer your question?"
    (``"yes"``: helpful and one deflection; ``"no"``: not helpful) with one atomic
    ``UPDATE ... SET n = n + 1`` (concurrent requests never lose a count); commits."""
    columns = _COUNTERS[what]
    db.session.execute(update(Article).where(Article.id == article.id)
                       .values({name: getattr(Article, name) + 1 for name in columns}))
    db.session.commit()
    db.session.refresh(article)


# --- reads and the index ---------------------------------------------------------------


def published_article(slug: str) -> Article:
    """The published article called ``slug``, with its versions.

    Raises:
        ArticleNotFound: no published article has this slug.
    """
    article = db.session.scalar(select(Article).where(Article.slug == slug, Article.status == "published")
                                .options(selectinload(Article.versions)))
    if article is None:
        raise ArticleNotFound("There is no such article.")
    return article


def best_version(article: Article, lang: str) -> ArticleVersion | None:
    """The version for a reader of ``lang``: the first of its fallback chain that the
    article has; ``None`` when it has none of them (or ``lang`` is not a tag)."""
    try:
        chain = fallback_chain(lang)
    except InvalidLanguage:
        return None
    return next((v for tag in chain for v in article.versions if v.lang == tag), None)


def published_languages() -> list[str]:
    """The tags in which at least one published article can be read, sorted."""
    return list(db.session.scalars(
        select(ArticleVersion.lang).join(Article).where(Article.status == "published")
        .distinct().order_by(ArticleVersion.lang)))


def published_entries() -> list[Entry]:
    """Every version of every published article, as the matcher takes them."""
    rows = db.session.execute(
        select(Article.slug, ArticleVersion.lang, ArticleVersion.question, ArticleVersion.phrasings,
               ArticleVersion.keywords).join(Article).where(Article.status == "published")
    )
    return [Entry(slug, lang, question, tuple(phrasings or ()), tuple(keywords or ())) for slug, lang, question,
            phrasings, keywords in rows]


_indexes: dict[str, tuple[tuple, FaqIndex]] = {}
_index_lock = threading.Lock()


def _stamp() -> tuple:
    """What identifies the FAQ's current content: the write token (every service write
    replaces it) and the number of versions (catches rows written behind our back)."""
    token = db.session.scalar(select(IndexState.token).where(IndexState.id == 1))
    return token, db.session.scalar(select(func.count()).select_from(ArticleVersion))


def current_index() -> FaqIndex:
    """The matcher's index of the published articles, built once per process and rebuilt
    only after a write (by any process: the stamp lives in the database). The stamp is
    read before the articles, so an index is never labelled newer than its content."""
    key = db.engine.url.render_as_string(hide_password=True)
    stamp = _stamp()
    cached = _indexes.get(key)
    if cached is None or cached[0] != stamp:
        with _index_lock:
            cached = _indexes.get(key)
            if cached is None or cached[0] != stamp:
                cached = (stamp, FaqIndex(published_entries()))
                _indexes[key] = cached
    return cached[1]


def suggest(query: str, lang: str, limit: int = 5, translate: Translator | None = None) -> list[Match]:
    """The best published answers to ``query`` for a reader of ``lang``; see
    :meth:`faq.matcher.FaqIndex.search` (its errors too)."""
    return current_index().search(query, lang, limit=limit, translate=translate)
