"""FAQ articles and their language versions.

An :class:`Article` is one answer (``slug`` names it in links and imports, e.g.
``track_order``); each :class:`ArticleVersion` is that answer in one language (BCP 47
tag): the question, other ways of asking it, keywords, and the answer in Markdown
(rendered by :func:`faq.service.render_answer`, never trusted as HTML). Only published
articles are shown to buyers and suggested.

:class:`IndexChange` logs, in the same transaction as every write to the FAQ, the slugs
it touched: each process compares the newest entry with the one its in-memory index has
seen and re-reads only the articles named since (see :mod:`faq.service`).

:class:`Vote` keeps each voter's answer to "did this answer your question?", so a second
answer changes the first instead of adding to the counts. :class:`CategoryName` holds
the name of a category (``Article.category``, e.g. ``ORDER``) in one language.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db

ARTICLE_STATUSES = ("draft", "published")


class Article(db.Model):
    """An FAQ answer. ``status`` is one of :data:`ARTICLE_STATUSES`. Counters:
    ``view_count`` (article pages shown to buyers), ``helpful_count`` and
    ``not_helpful_count`` ("did this answer your question?"), ``deflection_count`` (a yes:
    a question answered without an agent)."""

    __tablename__ = "faq_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    view_count: Mapped[int] = mapped_column(default=0)
    helpful_count: Mapped[int] = mapped_column(default=0)
    not_helpful_count: Mapped[int] = mapped_column(default=0)
    deflection_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleVersion.lang")

    def version(self, lang: str) -> ArticleVersion | None:
        """The version whose tag is ``lang`` (exact, as stored), or ``None``."""
        return next((v for v in self.versions if v.lang == lang), None)


class ArticleVersion(db.Model):
    """One language of an article. ``phrasings`` and ``keywords`` are lists of strings;
    ``machine_translated`` marks text that came from a translation engine,
    ``needs_review`` text a person should read before it is trusted (both shown to
    agents; neither hides the version from buyers once the article is published)."""

    __tablename__ = "faq_article_version"
    __table_args__ = (UniqueConstraint("article_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("faq_article.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(35))
    question: Mapped[str] = mapped_column(String(300))
    phrasings: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    machine_translated: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="versions")


class IndexChange(db.Model):
    """One write to the FAQ that the matcher may see: ``slug`` is the article it touched
    (an article renamed logs both slugs). ``id`` only grows; old rows are pruned (see
    :func:`faq.service.mark_changed`)."""

    __tablename__ = "faq_index_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Vote(db.Model):
    """One voter's answer about one article. ``voter`` is an opaque id of a browser
    session (see :func:`faq.service.vote`); ``helpful`` the latest answer."""

    __tablename__ = "faq_vote"
    __table_args__ = (UniqueConstraint("article_id", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("faq_article.id", ondelete="CASCADE"), index=True)
    voter: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CategoryName(db.Model):
    """The name readers of ``lang`` (BCP 47) see for ``category`` (the key stored on
    articles, e.g. ``ORDER``)."""

    __tablename__ = "faq_category_name"
    __table_args__ = (UniqueConstraint("category", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(60))
    lang: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(60))
