"""FAQ domain operations on the database: write and publish articles, count views and
answers, keep the matcher's index current, render answers safely.

No Flask request in sight (an app context for the database is enough): views, the CLI
and the import call these. Every function that changes something commits before it
returns, and every change that the matcher can see logs the slugs it touched
(:class:`faq.models.IndexChange`, :func:`mark_changed`) in the same transaction, so each
process re-reads only those articles (:func:`current_index`).

A version that came from a translation engine and still awaits review
(``machine_translated`` and ``needs_review``) is a draft: buyers never see it and the
matcher does not index it, until an agent reviews and saves it.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from faq.matcher import Entry, FaqIndex, InvalidLanguage, Match, Translator, canonical_tag, fallback_chain
from faq.models import ARTICLE_STATUSES, Article, ArticleVersion, CategoryName, IndexChange, Vote
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
MAX_VOTER = 64
# Writes kept in the change log; a process that missed more rebuilds its index whole.
CHANGES_KEPT = 1000

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


def mark_changed(*slugs: str) -> None:
    """Log that the articles called ``slugs`` changed (in the caller's transaction), so
    every process re-reads them before its next query; prunes the log to its last
    :data:`CHANGES_KEPT` entries."""
    for slug in dict.fromkeys(slugs):
        db.session.add(IndexChange(slug=slug))
    db.session.flush()
    newest = db.session.scalar(select(func.max(IndexChange.id)))
    if newest is not None and newest > CHANGES_KEPT:
        db.session.execute(delete(IndexChange).where(IndexChange.id <= newest - CHANGES_KEPT))


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
    renamed = [article.slug] if article is not None and article.slug else []
    article = article or Article()
    article.slug, article.category, article.status, article.updated_at = slug, category, status, utcnow()
    db.session.add(article)
    mark_changed(*renamed, slug)
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
    mark_changed(article.slug)
    db.session.commit()
    return version


def delete_version(article: Article, lang: str) -> None:
    """Remove one language version (nothing happens when there is none); commits."""
    version = article.version(lang)
    if version is not None:
        article.versions.remove(version)
        article.updated_at = utcnow()
        mark_changed(article.slug)
        db.session.commit()


def delete_article(article: Article) -> None:
    """Remove an article with all its versions; commits."""
    mark_changed(article.slug)
    db.session.delete(article)
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
    mark_changed(article.slug)
    db.session.commit()
    return article


def count_view(article: Article) -> None:
    """Count a page view with one atomic ``UPDATE ... SET n = n + 1`` (concurrent
    requests never lose a count); commits."""
    db.session.execute(update(Article).where(Article.id == article.id).values(view_count=Article.view_count + 1))
    db.session.commit()
    db.session.refresh(article)


def _vote_counts(helpful: bool, sign: int) -> dict:
    columns = ("helpful_count", "deflection_count") if helpful else ("not_helpful_count",)
    return {name: getattr(Article, name) + sign for name in columns}


def vote(article: Article, voter: str, helpful: bool) -> bool:
    """Record ``voter``'s answer to "did this answer your question?" about ``article``:
    the first answer counts (a yes is helpful and one deflection, a no not helpful); a
    later different answer moves the counts (a yes turned no takes its deflection back);
    the same answer again changes nothing. The vote row is locked while it changes
    (``SELECT ... FOR UPDATE`` on PostgreSQL) and the counters move in the same
    transaction, so the counts always equal the votes; commits.

    Args:
        voter: an opaque id of the buyer's browser session, 1–64 characters.

    Returns:
        True when the counts changed.

    Raises:
        FaqError: an empty or too long ``voter``.
    """
    if not isinstance(voter, str) or not 0 < len(voter) <= MAX_VOTER:
        raise FaqError("A vote needs the voter's session.")
    for _attempt in range(3):
        try:
            row = db.session.scalar(select(Vote).where(Vote.article_id == article.id, Vote.voter == voter)
                                    .with_for_update())
            values: dict = {}
            if row is None:
                db.session.add(Vote(article_id=article.id, voter=voter, helpful=helpful))
                values = _vote_counts(helpful, +1)
            elif row.helpful != helpful:
                row.helpful, row.updated_at = helpful, utcnow()
                values = {**_vote_counts(row.helpful, +1), **_vote_counts(not helpful, -1)}
            if values:
                db.session.execute(update(Article).where(Article.id == article.id).values(values))
            db.session.commit()
        except IntegrityError:  # the same voter's first vote, twice at once: the other one won
            db.session.rollback()
            continue
        db.session.refresh(article)
        return bool(values)
    raise FaqError("The vote could not be recorded; try again.")


# --- category names --------------------------------------------------------------------


def set_category_name(category: object, lang: object, name: object) -> None:
    """Name ``category`` (an article category, e.g. ``ORDER``) for readers of ``lang``;
    an empty ``name`` removes that language's name. Commits.

    Raises:
        InvalidArticle: a category or name that is not short text, or a bad language tag.
    """
    category = clean_text(category, "The category", MAX_CATEGORY)
    lang = clean_lang(lang)
    name = clean_text(name, "The name", MAX_CATEGORY, required=False)
    row = db.session.scalar(select(CategoryName).where(CategoryName.category == category, CategoryName.lang == lang))
    if not name:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(CategoryName(category=category, lang=lang, name=name))
    else:
        row.name = name
    db.session.commit()


def category_label(category: str, names: dict[str, str]) -> str:
    """What a reader sees for ``category``: its name in ``names`` (what
    :func:`category_names` gave for the reader's language), else the category itself
    made readable (``SHIPPING_ADDRESS`` → "Shipping address")."""
    return names.get(category) or category.replace("_", " ").capitalize()


def category_names(lang: str) -> dict[str, str]:
    """Category → the name readers of ``lang`` see: the first language of its fallback
    chain (``pt-BR`` → ``pt`` → ``en``) that names it. Categories named in none of them
    are absent (show the category itself). ``{}`` for a ``lang`` that is not a tag."""
    try:
        chain = fallback_chain(lang)
    except InvalidLanguage:
        return {}
    rank = {tag: i for i, tag in enumerate(chain)}
    best: dict[str, tuple[int, str]] = {}
    for row in db.session.scalars(select(CategoryName).where(CategoryName.lang.in_(chain))):
        if row.category not in best or rank[row.lang] < best[row.category][0]:
            best[row.category] = (rank[row.lang], row.name)
    return {category: name for category, (_, name) in best.items()}


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


def is_draft(version: ArticleVersion) -> bool:
    """True for a machine translation awaiting review (hidden from buyers)."""
    return version.machine_translated and version.needs_review


def best_version(article: Article, lang: str) -> ArticleVersion | None:
    """The version for a reader of ``lang``: the first of its fallback chain that the
    article has (drafts of :func:`is_draft` left out); ``None`` when it has none of them
    (or ``lang`` is not a tag)."""
    try:
        chain = fallback_chain(lang)
    except InvalidLanguage:
        return None
    return next((v for tag in chain for v in article.versions if v.lang == tag and not is_draft(v)), None)


def _shown():
    """The condition on versions buyers may read: not a machine draft awaiting review."""
    return ~(ArticleVersion.machine_translated & ArticleVersion.needs_review)


def published_languages() -> list[str]:
    """The tags in which at least one published article can be read, sorted."""
    return list(db.session.scalars(
        select(ArticleVersion.lang).join(Article).where(Article.status == "published", _shown())
        .distinct().order_by(ArticleVersion.lang)))


def published_entries(slugs: Iterable[str] | None = None) -> list[Entry]:
    """The versions buyers may read of every published article (or of those called
    ``slugs``), as the matcher takes them."""
    query = (select(Article.slug, ArticleVersion.lang, ArticleVersion.question, ArticleVersion.phrasings,
                    ArticleVersion.keywords).join(Article).where(Article.status == "published", _shown()))
    if slugs is not None:
        query = query.where(Article.slug.in_(list(slugs)))
    return [Entry(slug, lang, question, tuple(phrasings or ()), tuple(keywords or ())) for slug, lang, question,
            phrasings, keywords in db.session.execute(query)]


@dataclass(frozen=True)
class _Cached:
    head: tuple | None  # (id, created_at) of the newest change log entry the index has seen
    versions: int       # how many versions the table held then
    index: FaqIndex


_indexes: dict[str, _Cached] = {}
_index_lock = threading.Lock()


def _stamp() -> tuple[tuple | None, int]:
    """The newest change log entry as ``(id, created_at)`` (``None`` when the log is
    empty; the instant tells a log emptied and refilled to the same id apart) and the
    number of versions (which catches rows written behind the service's back)."""
    newest = db.session.execute(select(IndexChange.id, IndexChange.created_at)
                                .order_by(IndexChange.id.desc()).limit(1)).first()
    return (tuple(newest) if newest else None), db.session.scalar(select(func.count()).select_from(ArticleVersion))


def _refreshed(cached: _Cached | None, head: tuple | None, versions: int) -> FaqIndex:
    """``cached``'s index brought up to ``head``: only the articles logged since are read
    and analysed again (:meth:`~faq.matcher.FaqIndex.replaced`); a whole new index when
    there is none yet, when the entry it had seen is no longer in the log (pruned, or the
    log emptied), or when versions changed without a log entry."""
    if cached is not None and cached.head is not None and cached.head != head:
        seen = db.session.execute(select(IndexChange.id, IndexChange.created_at)
                                  .where(IndexChange.id == cached.head[0])).first()
        if seen is not None and tuple(seen) == cached.head:
            slugs = set(db.session.scalars(select(IndexChange.slug).where(IndexChange.id > cached.head[0])))
            return cached.index.replaced(slugs, published_entries(slugs))
    elif cached is not None and cached.head == head and cached.versions == versions:
        return cached.index
    return FaqIndex(published_entries())


def current_index() -> FaqIndex:
    """The matcher's index of the published articles, built once per process and
    refreshed after a write (by any process: the change log lives in the database) by
    re-reading only the articles that changed. The stamp is read before the articles, so
    an index is never labelled newer than its content."""
    key = db.engine.url.render_as_string(hide_password=True)
    head, versions = _stamp()
    cached = _indexes.get(key)
    if cached is None or (cached.head, cached.versions) != (head, versions):
        with _index_lock:
            cached = _indexes.get(key)
            if cached is None or (cached.head, cached.versions) != (head, versions):
                cached = _Cached(head, versions, _refreshed(cached, head, versions))
                _indexes[key] = cached
    return cached.index


def suggest(query: str, lang: str, limit: int = 5, translate: Translator | None = None) -> list[Match]:
    """The best published answers to ``query`` for a reader of ``lang``; see
    :meth:`faq.matcher.FaqIndex.search` (its errors too)."""
    return current_index().search(query, lang, limit=limit, translate=translate)
