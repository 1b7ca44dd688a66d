"""Cross-border after-sales helpdesk: the application factory."""
from __future__ import annotations

import os
from pathlib import Path

import socketio
from flask import Flask, has_request_context, request, session
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import SocketIO
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from helpdesk import config as config_module
from helpdesk.extensions import (
    CONTENT_SECURITY_POLICY,
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    talisman,
)
from helpdesk import i18n
from helpdesk.routing import IdConverter

ROOT = Path(__file__).resolve().parent.parent
REDIS_MAX_CONNECTIONS = 2000
UI_LOCALES = i18n.UI_LOCALES
LOCALE_SESSION_KEY = "ui_locale"
CONTENT_LOCALE = "helpdesk.content_locale"  # WSGI environ key: the catalog of the content a URL names


def _explicit_choice() -> str | None:
    """A visitor's ``?lang=`` (buyer pages; not the JSON API, whose ``lang`` means the
    content's language), else the choice kept in their session."""
    if not request.path.startswith("/api/"):
        chosen = i18n.match(request.args.get("lang"))
        if chosen:
            return chosen
    kept = session.get(LOCALE_SESSION_KEY)
    return kept if kept in UI_LOCALES else None


def chosen_language(sent: object = None) -> str | None:
    """The BCP 47 tag of the interface language a buyer chose — ``sent`` (the language a
    page sends with a JSON request, its ``<html lang>`` chosen by ``?lang=`` or the widget's
    ``data-lang``), else their ``?lang=`` or the session's — or ``None`` when they chose
    none (and outside a request: an e-mail rendered by a job). ``sent`` that is not a tag of
    a catalog's language and script is ignored."""
    chosen = ((i18n.match(sent) if isinstance(sent, str) else None)
              or (_explicit_choice() if has_request_context() else None))
    return i18n.bcp47(chosen) if chosen else None


def buyer_language(sent: object = None) -> str | None:
    """The language (BCP 47) of a conversation or ticket a buyer opens: the language they
    chose (:func:`chosen_language`), else their browser's best ``Accept-Language`` tag
    (more precise than a catalog: ``sr-Latn``, ``pt-PT``), else ``None``."""
    return chosen_language(sent) or request.accept_languages.best or None


def select_locale() -> str | None:
    """The interface's catalog: the agent's saved locale, else the language of the
    content the URL names (``request.environ[CONTENT_LOCALE]``, set by the help centre's
    ``/faq/<lang>/`` pages), else
    the visitor's explicit choice (``?lang=``, kept in the session), else the best
    ``Accept-Language`` match of the same language and script (see
    :mod:`helpdesk.i18n`), else English. ``None`` (the default locale) outside a request:
    a command or a background job that builds a message."""
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and current_user.locale:
        saved = i18n.match(current_user.locale)
        if saved:
            return saved
    return request.environ.get(CONTENT_LOCALE) or _explicit_choice() or i18n.negotiate(request.accept_languages)


def remember_language_choice() -> None:
    """Keep a signed-out visitor's ``?lang=`` in their session, so the next page (the
    help centre after the chat, the request form after the lookup) speaks it too."""
    if "lang" in request.args and request.method == "GET" and not request.path.startswith("/api/"):
        chosen = i18n.match(request.args.get("lang"))
        if chosen and not (current_user and current_user.is_authenticated):
            session[LOCALE_SESSION_KEY] = chosen


def select_timezone() -> str | None:
    """The agent's IANA zone; anonymous visitors see the configured default."""
    if current_user and current_user.is_authenticated:
        return current_user.time_zone
    return None


def _sqlite_pragmas(engine) -> None:
    """Foreign keys on, WAL and a busy timeout, and transactions SQLAlchemy can nest
    (SAVEPOINT) — the pysqlite recipe from SQLAlchemy's SQLite dialect documentation —
    begun IMMEDIATE, so concurrent writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # IMMEDIATE takes the write lock up front: two transactions that read and then
        # write would otherwise deadlock, and SQLite answers "database is locked" at once
        # instead of waiting out busy_timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _message_queue(config) -> socketio.RedisManager | None:
    """The Socket.IO manager that joins processes through Redis, or ``None`` (one process).

    Built here rather than by Flask-SocketIO's ``message_queue=`` so Redis gets a pool
    large enough for bursts: redis-py 8 raises instead of waiting when its default pool
    of 100 connections is used up, and the emit would be dropped (seen at 500
    conversations; see shared/notes/socketio-serving.md)."""
    url = config["SOCKETIO_MESSAGE_QUEUE"]
    if not url:
        return None
    return socketio.RedisManager(url, channel=config["SOCKETIO_CHANNEL"],
                                 redis_options={"max_connections": REDIS_MAX_CONNECTIONS})


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply for Python's parser (a few KB of
    ``[[[[...`` reach the recursion limit) is refused like any other malformed JSON (a
    ``ValueError``: 400, or ``None`` with ``get_json(silent=True)``) instead of a 500."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def create_app(config: dict | None = None) -> Flask:
    """Build the helpdesk.

    Args:
        config: overrides applied after the environment (tests pass a database URL and
            ``TESTING``); keys are Flask config names.

    Raises:
        helpdesk.config.ConfigError: the environment is not safe to run (see config).
    """
    app = Flask(
        __name__,
        instance_path=os.environ.get("HELPDESK_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.url_map.converters["id"] = IdConverter
    app.json = JSONProvider(app)
    app.config.update(config_module.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from helpdesk.logging import assign_request_id, configure_logging

    if not app.testing:
        configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    app.before_request(assign_request_id)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_pragmas(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        # Client addresses (rate limits, logs) and the scheme come from the proxy's headers,
        # trusting only as many hops as there are proxies (werkzeug's ProxyFix).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    limiter.init_app(app)
    production = app.config["HELPDESK_ENV"] == "production"
    talisman.init_app(
        app,
        force_https=production,
        strict_transport_security=production,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="same-origin",
    )
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_locale=app.config["DEFAULT_LOCALE"],
        default_timezone=app.config["DEFAULT_TIMEZONE"],
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login flashes this when a page needs an agent: resolved in the request's locale.
    login_manager.login_message = _l("Please log in to access this page.")
    login_manager.localize_callback = str
    app.before_request(remember_language_choice)

    # One SocketIO per app (Flask-SocketIO binds its server to a single app); handlers
    # find it as app.extensions["socketio"].
    from chat import bp as chat_bp
    from chat import models as chat_models  # noqa: F401  (register the tables)
    from chat.events import register as register_chat_events

    register_chat_events(SocketIO(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"],
                                  client_manager=_message_queue(app.config)))
    from helpdesk import models  # noqa: F401  (register the tables with the metadata)
    from helpdesk.translation import models as translation_models  # noqa: F401  (the translation cache)
    from helpdesk.auth import bp as auth_bp
    from helpdesk.cli import register_cli
    from helpdesk.console import bp as console_bp
    from helpdesk.errors import register_error_handlers
    from helpdesk.health import bp as health_bp
    from helpdesk.marketplace.webhooks import bp as webhooks_bp
    from helpdesk.templating import register_template_helpers

    app.register_blueprint(auth_bp)
    app.register_blueprint(chat_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(webhooks_bp)
    csrf.exempt(webhooks_bp)
    from faq import init_app as init_faq

    init_faq(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)

    from tickets import register as register_tickets

    register_tickets(app)
    from helpdesk.surveys import register as register_surveys

    register_surveys(app)
    from helpdesk.reports import bp as reports_bp

    app.register_blueprint(reports_bp)
    from tickets.translation import init_app as init_ticket_translation

    init_ticket_translation(app)
    from tickets.sla import register as register_sla

    register_sla(app)
    return app
