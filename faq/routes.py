"""HTTP side of the FAQ: the public pages (``/faq/<lang>/``), the agents' editor
(``/faq/admin/``), and the JSON API for suggestions (``/api/v1/faq/``). Thin: checks,
then :mod:`faq.service` / :mod:`faq.transfer`."""
from __future__ import annotations

import secrets

from babel import Locale, UnknownLocaleError
from flask import (abort, current_app, flash, jsonify, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from faq import api_bp, bp, service, transfer
from faq.translate import machine_translate
from faq.matcher import MAX_QUERY_LENGTH, InvalidLanguage, QueryTooLong, canonical_tag, fallback_chain
from faq.models import ARTICLE_STATUSES, Article, CategoryName
from helpdesk.errors import error_response
from helpdesk import CONTENT_LOCALE, chosen_language, i18n
from helpdesk.i18n import UI_LOCALES, bcp47
from helpdesk.extensions import csrf, db, limiter

MAX_LIMIT = 20
TRANSLATOR = "translator"  # app.extensions key of a translation engine: f(text, source_tag, target_tag) -> str | None
VOTE_SALT = "faq-vote"
VOTE_TOKEN_MAX_AGE = 24 * 3600  # seconds an answer shown in the widget can be voted on


def _translator():
    """The FAQ's translator (:func:`faq.translate.query_translator` unless a plugin set
    another), or ``None``."""
    return current_app.extensions.get(TRANSLATOR)


def _lang_or_404(lang: str) -> str:
    try:
        return canonical_tag(lang)
    except InvalidLanguage:
        abort(404)


def _published_or_404(slug: str):
    if not service.SLUG.fullmatch(slug):
        abort(404)
    try:
        return service.published_article(slug)
    except service.ArticleNotFound:
        abort(404)


def text_direction(lang: str) -> str:
    """``rtl`` for languages written right to left (Arabic, Hebrew, Persian...), else ``ltr``."""
    try:
        return "rtl" if Locale.parse(lang, sep="-").character_order == "right-to-left" else "ltr"
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"


def language_name(lang: str) -> str:
    """The language's own name for itself (``de`` → Deutsch, ``zh-Hant`` → 中文 (繁體))."""
    try:
        return Locale.parse(lang, sep="-").get_display_name() or lang
    except (UnknownLocaleError, ValueError, TypeError):
        return lang


def _voter() -> str:
    """This browser session's voter id (made on first use, kept in the signed session)."""
    if not isinstance(session.get("faq_voter"), str):
        session["faq_voter"] = secrets.token_hex(16)
    return session["faq_voter"]


def _vote_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=VOTE_SALT)


def vote_token(slug: str) -> str:
    """A signed token naming this browser session's voter and the article ``slug``: the
    widget, which often has no cookies, sends it back with its vote."""
    return _vote_serializer().dumps({"voter": _voter(), "slug": slug})


def read_vote_token(token: object, slug: str) -> str | None:
    """The voter id in a valid, unexpired token for ``slug``; ``None`` otherwise."""
    if not isinstance(token, str) or len(token) > 512 or not token.isascii():
        return None
    try:
        data = _vote_serializer().loads(token, max_age=VOTE_TOKEN_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("slug") != slug or not isinstance(data.get("voter"), str):
        return None
    return data["voter"]


@bp.app_context_processor
def faq_helpers():
    return {"text_direction": text_direction, "language_name": language_name}


# --- public pages ----------------------------------------------------------------------

PUBLIC_PAGES = ("faq.index", "faq.article", "faq.feedback")


@bp.url_value_preprocessor
def _page_speaks_its_url(endpoint: str | None, values: dict | None) -> None:
    """A public help-centre page is framed in the language of its URL (``/faq/zh-Hant/``
    in Traditional Chinese on any browser; see :func:`helpdesk.select_locale`)."""
    if endpoint in PUBLIC_PAGES and values and isinstance(values.get("lang"), str):
        request.environ[CONTENT_LOCALE] = i18n.match(values["lang"])


@bp.before_request
def _follow_the_language_menu():
    """``/faq/en/...?lang=ar`` (the language menu, a link with a choice) → the same page
    in that language, ``/faq/ar/...``; the choice is kept in the session as on every buyer
    page."""
    chosen = i18n.match(request.args.get("lang"))
    if request.endpoint not in PUBLIC_PAGES[:2] or not chosen or bcp47(chosen) == request.view_args.get("lang"):
        return None
    query = {key: value for key, value in request.args.items() if key != "lang"}
    return redirect(url_for(request.endpoint, **{**request.view_args, "lang": bcp47(chosen)}, **query))


@bp.get("/")
def home():
    """Send the visitor to the FAQ in the language they chose (``?lang=``, the session),
    else in the best of their browser's languages."""
    available = service.published_languages()
    chosen = chosen_language()
    if chosen:
        return redirect(url_for("faq.index", lang=chosen))
    for tag, _quality in request.accept_languages:
        try:
            chain = fallback_chain(tag)
        except InvalidLanguage:
            continue
        match = next((t for t in chain if t in available), None)
        if match:
            return redirect(url_for("faq.index", lang=match))
    return redirect(url_for("faq.index", lang="en" if "en" in available or not available else available[0]))


@bp.get("/<lang>/")
def index(lang: str):
    """The FAQ in one language: every published article, or those answering ``q``."""
    lang = _lang_or_404(lang)
    q = (request.args.get("q") or "")[:MAX_QUERY_LENGTH]
    if q:
        matches = service.suggest(q, lang, limit=MAX_LIMIT, translate=_translator())
        items = [(m.slug, m.lang, m.title) for m in matches]
        groups = [("", "", items)] if items else []
    else:
        articles = db.session.scalars(select(Article).where(Article.status == "published")
                                      .options(selectinload(Article.versions)).order_by(Article.category, Article.slug))
        by_category: dict[str, list] = {}
        for article in articles:
            version = service.best_version(article, lang)
            if version:
                by_category.setdefault(article.category, []).append((article.slug, version.lang, version.question))
        names = service.category_names(lang)
        groups = [(category, service.category_label(category, names), items) for category, items in by_category.items()]
    other = any(version_lang != lang for _category, _name, items in groups for _slug, version_lang, _title in items)
    return render_template("faq/index.html", lang=lang, q=q, groups=groups, languages=service.published_languages(),
                           shown_in_another_language=other)


@bp.get("/<lang>/<slug>")
def article(lang: str, slug: str):
    """One answer in the reader's language (or the nearest of its fallback chain)."""
    lang = _lang_or_404(lang)
    found = _published_or_404(slug)
    version = service.best_version(found, lang) or abort(404)
    service.count_view(found)
    return render_template("faq/article.html", lang=lang, article=found, version=version,
                           answer=service.render_answer(version.answer),
                           category=service.category_label(found.category, service.category_names(lang)))


@bp.post("/<lang>/<slug>/feedback")
@limiter.limit(lambda: current_app.config["FAQ_FEEDBACK_RATE_LIMIT"])
def feedback(lang: str, slug: str):
    """The answer to "did this answer your question?" from the article page (form, CSRF):
    one vote per browser session and article, a second answer replaces the first."""
    lang = _lang_or_404(lang)
    found = _published_or_404(slug)
    helpful = request.form.get("helpful")
    if helpful not in ("yes", "no"):
        return error_response(400, "bad_request", _("Answer yes or no."))
    service.vote(found, _voter(), helpful == "yes")
    flash(_("Thank you! Glad it helped.") if helpful == "yes" else
          _("Thank you. Write to us in the chat and an agent will help."), "info")
    return redirect(url_for("faq.article", lang=lang, slug=slug))


# --- JSON API --------------------------------------------------------------------------


@api_bp.get("/suggest")
@limiter.limit(lambda: current_app.config["FAQ_SUGGEST_RATE_LIMIT"])
def suggest():
    """``?q=&lang=&limit=`` → ``{"results": [{"slug", "lang", "title", "score"}]}``, best
    first. ``lang`` defaults to the browser's language, ``limit`` to 5 (1–20). An empty or
    symbol-only ``q`` gives no results; a ``q`` over 500 characters is a 400."""
    q = request.args.get("q", "")
    lang = request.args.get("lang") or request.accept_languages.best or "en"
    try:
        lang = canonical_tag(lang)
    except InvalidLanguage as exc:
        return error_response(400, "invalid_language", str(exc))
    raw_limit = request.args.get("limit", "5")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        return error_response(400, "invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    try:
        matches = service.suggest(q, lang, limit=int(raw_limit), translate=_translator())
    except QueryTooLong as exc:
        return error_response(400, "query_too_long", str(exc))
    return jsonify(results=[{"slug": m.slug, "lang": m.lang, "title": m.title, "score": m.score} for m in matches])


@api_bp.get("/articles/<slug>")
def article_json(slug: str):
    """``?lang=`` → ``{"slug", "lang", "title", "category", "answer_html", "answer_text",
    "url", "vote_token"}``: the answer in the nearest language (``answer_html`` sanitised,
    ``answer_text`` plain text for a chat reply, see :func:`faq.service.answer_text`),
    the category's name for a reader of ``lang``, and the token to vote with."""
    found = _published_or_404(slug)
    lang = request.args.get("lang") or "en"
    version = service.best_version(found, lang)
    if version is None:
        return error_response(404, "not_found", "This article is not written in that language.")
    return jsonify(slug=found.slug, lang=version.lang, title=version.question,
                   category=service.category_label(found.category, service.category_names(lang)),
                   vote_token=vote_token(found.slug), answer_html=str(service.render_answer(version.answer)), answer_text=service.answer_text(version.answer),
                   url=url_for("faq.article", lang=version.lang, slug=found.slug))


@api_bp.post("/articles/<slug>/feedback")
@csrf.exempt  # from the chat widget (often without cookies): the vote token names the voter
@limiter.limit(lambda: current_app.config["FAQ_FEEDBACK_RATE_LIMIT"])
def feedback_json(slug: str):
    """JSON ``{"helpful": true|false, "vote_token": "..."}`` (the token from
    :func:`article_json`): a yes counts as a deflection; one vote per voter and article,
    a second answer replaces the first (a replayed request changes nothing).
    → ``{"ok": true, "changed": bool}``."""
    found = _published_or_404(slug)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("helpful"), bool):
        return error_response(400, "bad_request", 'Send JSON {"helpful": true} or {"helpful": false}.')
    voter = read_vote_token(data.get("vote_token"), found.slug)
    if voter is None:
        return error_response(400, "invalid_vote_token",
                              "The vote_token is missing, expired or for another article: open the article again.")
    return jsonify(ok=True, changed=service.vote(found, voter, data["helpful"]))


# --- the agents' editor ----------------------------------------------------------------


def _article_or_404(article_id: int) -> Article:
    try:
        return service.get_article(article_id)
    except service.ArticleNotFound:
        abort(404)


def _admin_list(status: int = 200, import_error: str | None = None):
    articles = db.session.scalars(select(Article).options(selectinload(Article.versions))
                                  .order_by(Article.category, Article.slug)).all()
    return make_response(render_template("faq/admin/list.html", articles=articles, import_error=import_error,
                                         statuses=ARTICLE_STATUSES), status)


@bp.get("/admin/")
@login_required
def admin():
    """Every article (drafts too) with its languages and counters; import and export."""
    return _admin_list()


@bp.post("/admin/articles")
@login_required
def admin_create():
    """A new draft article: ``slug`` and ``category``."""
    try:
        created = service.save_article(None, slug=request.form.get("slug"), category=request.form.get("category"))
    except service.FaqError as exc:
        flash(str(exc), "error")
        return _admin_list(400)
    return redirect(url_for("faq.admin_article", article_id=created.id))


@bp.route("/admin/articles/<id:article_id>", methods=["GET", "POST"])
@login_required
def admin_article(article_id: int):
    """An article's slug, category and status, and its language versions."""
    found = _article_or_404(article_id)
    if request.args.get("lang"):  # "add a language"
        try:
            lang = canonical_tag(request.args["lang"])
        except InvalidLanguage as exc:
            flash(str(exc), "error")
            return render_template("faq/admin/article.html", article=found,
                                   translate_languages=_translate_languages()), 400
        return redirect(url_for("faq.admin_version", article_id=found.id, lang=lang))
    status = 200
    if request.method == "POST":
        try:
            service.save_article(found, slug=request.form.get("slug"), category=request.form.get("category"),
                                 status=found.status)
            flash(_("Saved."), "info")
            return redirect(url_for("faq.admin_article", article_id=found.id))
        except service.FaqError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 400
    return render_template("faq/admin/article.html", article=found,
                           translate_languages=_translate_languages()), status


@bp.post("/admin/articles/<id:article_id>/translate")
@login_required
def admin_translate(article_id: int):
    """Machine-translate one version (``source``) into the ticked languages (``targets``,
    plus ``other``: tags separated by spaces or commas) as drafts awaiting review;
    ``replace_human`` allows replacing versions people wrote."""
    found = _article_or_404(article_id)
    targets = request.form.getlist("targets") + (request.form.get("other") or "").replace(",", " ").split()
    try:
        report = machine_translate(found, request.form.get("source"), targets,
                                   replace_human=request.form.get("replace_human") == "on")
    except service.FaqError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("faq/admin/article.html", article=_article_or_404(article_id),
                               translate_languages=_translate_languages()), 400
    if report.created or report.replaced:
        flash(_("Machine-translated into %(tags)s: review each before buyers see it.",
                tags=", ".join(report.created + report.replaced)), "info")
    if report.kept:
        flash(_('Not replaced, written by a person: %(tags)s (tick "Replace versions written by people" to '
                'overwrite them).', tags=", ".join(report.kept)), "info")
    for tag, note in {**report.unavailable, **report.failed}.items():
        flash(_("%(tag)s: %(note)s", tag=tag, note=note), "error")
    return redirect(url_for("faq.admin_article", article_id=article_id))


def _translate_languages() -> list[str]:
    """Languages offered as targets: the FAQ's and the interface's, as BCP 47 tags."""
    return sorted(set(service.published_languages()) | {canonical_tag(bcp47(code)) for code in UI_LOCALES})


@bp.post("/admin/articles/<id:article_id>/status")
@login_required
def admin_status(article_id: int):
    """Publish or unpublish (``status`` = ``published`` or ``draft``)."""
    found = _article_or_404(article_id)
    try:
        service.set_status(found, request.form.get("status"))
    except service.FaqError as exc:
        flash(str(exc), "error")
    return redirect(url_for("faq.admin_article", article_id=found.id))


@bp.post("/admin/articles/<id:article_id>/delete")
@login_required
def admin_delete(article_id: int):
    """Delete an article and every version of it."""
    service.delete_article(_article_or_404(article_id))
    flash(_("Article deleted."), "info")
    return redirect(url_for("faq.admin"))


@bp.route("/admin/articles/<id:article_id>/versions/<lang>", methods=["GET", "POST"])
@login_required
def admin_version(article_id: int, lang: str):
    """Write or edit one language version, with a preview of the answer."""
    found = _article_or_404(article_id)
    lang = _lang_or_404(lang)
    version = found.version(lang)
    form = request.form if request.method == "POST" else None
    status = 200
    if form is not None:
        try:
            data = service.clean_version({**form.to_dict(), "lang": lang, "phrasings": form.get("phrasings", ""),
                                          "keywords": form.get("keywords", ""),
                                          "machine_translated": bool(version and version.machine_translated),
                                          "needs_review": form.get("needs_review") == "on"})
            service.save_version(found, data)
            flash(_("Saved."), "info")
            return redirect(url_for("faq.admin_article", article_id=found.id))
        except service.FaqError as exc:
            flash(str(exc), "error")
            status = 400
    preview = service.render_answer(form.get("answer", "") if form is not None else (version.answer if version else ""))
    return render_template("faq/admin/version.html", article=found, lang=lang, version=version, form=form,
                           preview=preview), status


@bp.post("/admin/articles/<id:article_id>/versions/<lang>/delete")
@login_required
def admin_version_delete(article_id: int, lang: str):
    """Remove one language version."""
    found = _article_or_404(article_id)
    service.delete_version(found, _lang_or_404(lang))
    return redirect(url_for("faq.admin_article", article_id=found.id))


@bp.route("/admin/categories", methods=["GET", "POST"])
@login_required
def admin_categories():
    """Every category of the articles with its names per language; a form names one."""
    status = 200
    if request.method == "POST":
        try:
            service.set_category_name(request.form.get("category"), request.form.get("lang"), request.form.get("name"))
            flash(_("Saved."), "info")
            return redirect(url_for("faq.admin_categories"))
        except service.FaqError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 400
    categories = sorted(set(db.session.scalars(select(Article.category).where(Article.category != ""))))
    names: dict[str, list[CategoryName]] = {}
    for row in db.session.scalars(select(CategoryName).order_by(CategoryName.category, CategoryName.lang)):
        names.setdefault(row.category, []).append(row)
    return render_template("faq/admin/categories.html", categories=categories, names=names), status


@bp.get("/admin/export.<fmt>")
@login_required
def admin_export(fmt: str):
    """The whole FAQ as ``faq.json`` or ``faq.csv`` (UTF-8), for a backup or another helpdesk."""
    if fmt not in ("json", "csv"):
        abort(404)
    body = transfer.export_json() if fmt == "json" else transfer.export_csv()
    response = make_response(body)
    response.headers["Content-Type"] = ("application/json" if fmt == "json" else "text/csv") + "; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="faq.{fmt}"'
    return response


@bp.post("/admin/import")
@login_required
def admin_import():
    """Import a JSON or CSV export (all or nothing); a bad file is a 400 saying what is wrong."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _admin_list(400, _("Choose a file to import."))
    try:
        summary = transfer.import_articles(transfer.parse(upload.read(transfer.MAX_IMPORT_BYTES + 1), upload.filename))
    except transfer.ImportRefused as exc:
        return _admin_list(400, str(exc))
    flash(_("Imported: %(a)d new and %(b)d updated articles, %(c)d new and %(d)d updated versions.",
            a=summary.articles_created, b=summary.articles_updated, c=summary.versions_created,
            d=summary.versions_updated), "info")
    return redirect(url_for("faq.admin"))
