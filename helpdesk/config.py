"""Configuration read from environment variables (12-factor).

Every setting has a safe default for the embedded demo (SQLite in ``instance/``,
one process). Production mode (``HELPDESK_ENV=production``) refuses to start
without a real ``SECRET_KEY``.
"""
from __future__ import annotations

import os
from pathlib import Path

DEV_SECRET_KEY = "dev-only-not-secret"
MODES = ("development", "production")
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the environment describes a configuration that must not run."""


def _default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "helpdesk.sqlite3")


def _normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever scheme the operator wrote.

    ``postgres://`` and ``postgresql://`` (as Heroku-style platforms hand them out)
    would otherwise make SQLAlchemy look for psycopg2.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _origins(text: str) -> list[str]:
    """Space-separated storefront origins (``https://shop.example.com``) allowed to frame
    the chat widget.

    Raises:
        ConfigError: an entry that is not a bare http(s) origin.
    """
    origins = text.split()
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest or ";" in rest or "'" in rest:
            raise ConfigError(f"CHAT_WIDGET_ORIGINS: {origin!r} is not an origin such as https://shop.example.com.")
    return origins


def from_environment(instance_path: str, environ: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from ``environ`` (default ``os.environ``).

    Args:
        instance_path: the app's instance folder; the default SQLite file lives there.
        environ: the variables to read, for tests.

    Returns:
        A dict of Flask config keys.

    Raises:
        ConfigError: an unknown ``HELPDESK_ENV``; production mode without a ``SECRET_KEY``
            of at least 32 characters, or with the demo key.
    """
    env = os.environ if environ is None else environ
    mode = env.get("HELPDESK_ENV", "development")
    if mode not in MODES:
        raise ConfigError(f"HELPDESK_ENV={mode!r} is not one of {', '.join(MODES)}.")
    secret = env.get("SECRET_KEY", "")
    if mode == "production" and (len(secret) < MIN_SECRET_LENGTH or secret == DEV_SECRET_KEY):
        raise ConfigError(
            f"HELPDESK_ENV=production needs SECRET_KEY set to a random value of at least {MIN_SECRET_LENGTH} "
            "characters (python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    database_url = _normalise_database_url(env.get("DATABASE_URL") or _default_database_url(instance_path))
    return {
        "HELPDESK_ENV": mode,
        "SECRET_KEY": secret or DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Connections per process: SQLAlchemy's 5 + 10 suit threads; gevent serves hundreds
        # of chats per process on one pool (wsgi_gevent.py raises it).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": int(env.get("DATABASE_POOL_SIZE", "5")),
                                      "max_overflow": int(env.get("DATABASE_MAX_OVERFLOW", "10"))},
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE") or None,
        "SOCKETIO_CHANNEL": env.get("SOCKETIO_CHANNEL", "helpdesk-socketio"),
        # "threading" for the development server and the tests; wsgi_gevent.py sets "gevent".
        "SOCKETIO_ASYNC_MODE": env.get("SOCKETIO_ASYNC_MODE", "threading"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on 429
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "CHAT_START_RATE_LIMIT": env.get("CHAT_START_RATE_LIMIT", "10 per minute"),
        # Socket.IO events per connection: a fast typist with typing notices stays well below.
        "CHAT_WIDGET_ORIGINS": _origins(env.get("CHAT_WIDGET_ORIGINS", "")),
        "CHAT_EVENT_RATE_LIMIT": env.get("CHAT_EVENT_RATE_LIMIT", "60 per 10 seconds"),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "UTC"),
        "DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "en"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "LOG_FORMAT": env.get("LOG_FORMAT", "json"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": mode == "production",
        "REMEMBER_COOKIE_SECURE": mode == "production",
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        # Chat attachments (images, PDF): bytes per file, and where they are kept (never under static/).
        "CHAT_ATTACHMENT_MAX_BYTES": int(env.get("CHAT_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024))),
        # Ticket evidence (photos of damage, proofs of delivery, PDFs): bytes per file.
        "TICKET_EVIDENCE_MAX_BYTES": int(env.get("TICKET_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024))),
        "ATTACHMENT_DIR": env.get("ATTACHMENT_DIR") or str(Path(instance_path) / "attachments"),
        # How many proxies in front set X-Forwarded-For/-Proto/-Host (0: none, trust no such header).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_STARTTLS": env.get("MAIL_STARTTLS") == "1",
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "Helpdesk <helpdesk@localhost>"),
        # A folder that receives each e-mail as an .eml file instead of SMTP (the demo's outbox).
        "MAIL_OUTBOX_DIR": env.get("MAIL_OUTBOX_DIR", ""),
        # Machine translation of chat (helpdesk/translation): the engine (auto = argos when
        # argostranslate is installed, else none), where its models live, the agents' default
        # language, and the languages the detector chooses among.
        "TRANSLATION_ENGINE": env.get("TRANSLATION_ENGINE", "auto"),
        "TRANSLATION_MODELS_DIR": (env.get("TRANSLATION_MODELS_DIR") or env.get("ARGOS_PACKAGES_DIR")
                                   or str(Path(instance_path) / "translation-models")),
        "TRANSLATION_PACKAGE_INDEX": env.get("TRANSLATION_PACKAGE_INDEX", ""),
        "TRANSLATION_AGENT_LANGUAGE": env.get("TRANSLATION_AGENT_LANGUAGE", "en"),
        "TRANSLATION_DETECT_LANGUAGES": tuple(
            env.get("TRANSLATION_DETECT_LANGUAGES", "ar de en es fr it ja ko nl pl pt ru tr zh").replace(",", " ").split()),
        # Where buyers reach this helpdesk: the base of links in e-mails (survey links).
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://localhost:5000").rstrip("/"),
        # Satisfaction surveys (helpdesk/surveys): minutes after a solve or a closed chat before
        # the survey goes out, hours before the one reminder, days the link lives, hours a buyer
        # may change a rating, the NPS question (at most once a quarter per buyer), and whether a
        # rating of 1 or 2 reopens the ticket.
        "SURVEY_DELAY_MINUTES": int(env.get("SURVEY_DELAY_MINUTES", "60")),
        "SURVEY_REMINDER_HOURS": int(env.get("SURVEY_REMINDER_HOURS", "72")),
        "SURVEY_LINK_DAYS": int(env.get("SURVEY_LINK_DAYS", "30")),
        "SURVEY_CHANGE_HOURS": int(env.get("SURVEY_CHANGE_HOURS", "48")),
        "SURVEY_NPS": env.get("SURVEY_NPS", "0") == "1",
        "SURVEY_LOW_SCORE_REOPENS": env.get("SURVEY_LOW_SCORE_REOPENS", "0") == "1",
        # The periodic jobs (SLA warnings, breaches, escalations): in the serving process
        # (embedded layout), or off here and in one `flask scheduler run` (scaled out).
        "SCHEDULER_IN_PROCESS": env.get("SCHEDULER_IN_PROCESS", "1") == "1",
        "SCHEDULER_INTERVAL": int(env.get("SCHEDULER_INTERVAL", "30")),
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
    }
