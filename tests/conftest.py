"""Fixtures: the app on SQLite and on PostgreSQL, a clean database per test, a local
sandbox marketplace over real HTTP, a live server for the browser.

Service URLs come from the environment:
  TEST_POSTGRES_URL  a PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/postgres);
                     each test session creates and drops its own database there.
  REQUIRE_SERVICES=1 makes an unreachable service an error instead of a skip (CI sets it).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.serving import make_server

os.environ.setdefault("LOG_FORMAT", "text")
# argos-translate reads its settings from the environment at its first import, and would
# otherwise write under ~/.local and ~/.cache: a throw-away home for this run, set before
# anything can import it (shared/notes/argos-offline-testing.md). MINISBD: the sentence
# splitter shipped in the package, never stanza's (which downloads).
ARGOS_HOME = Path(tempfile.mkdtemp(prefix="helpdesk-argos-"))
for _name, _value in {"ARGOS_PACKAGES_DIR": ARGOS_HOME / "packages", "XDG_DATA_HOME": ARGOS_HOME / "data",
                      "XDG_CONFIG_HOME": ARGOS_HOME / "config", "XDG_CACHE_HOME": ARGOS_HOME / "cache",
                      "ARGOS_CHUNK_TYPE": "MINISBD", "ARGOS_DEVICE_TYPE": "cpu"}.items():
    os.environ[_name] = str(_value)

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.marketplace.records import CustomerRecord, LineRecord, OrderRecord  # noqa: E402
from helpdesk.marketplace.sync import apply_order  # noqa: E402
from helpdesk.models import Store  # noqa: E402
from tickets.sla.models import SlaCalendar, SlaPolicy  # noqa: E402
from tickets.sla.policies import apply_calendar, apply_policy  # noqa: E402

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "demo_data"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
ORDER_PLACED = datetime(2024, 6, 1, 9, 0, tzinfo=timezone.utc)
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def unavailable(reason: str):
    """Skip with ``reason``, or fail when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """``demo_data/``: the real public payloads (Shopify's and WooCommerce's own samples,
    the UCI Online Retail days) copied verbatim into the repository, see its SOURCES.md."""
    return SAMPLE_DATA


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this session, dropped at the end."""
    import psycopg

    name = f"helpdesk_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).strip().splitlines()[0]}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_app(url: str, **config):
    """A migrated app on ``url``; ``config`` overrides the test defaults."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret",
                      # Messages are translated in the background; tests that look at it choose an engine.
                      "TRANSLATION_ENGINE": "none",
                      "ATTACHMENT_DIR": tempfile.mkdtemp(prefix="helpdesk-attachments-"),
                      "LOGIN_RATE_LIMIT": "1000 per minute", "CHAT_START_RATE_LIMIT": "1000 per minute", **config})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend_app(request, tmp_path_factory):
    """The app, migrated, once per backend for the session."""
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "helpdesk.sqlite3")
    else:
        url = request.getfixturevalue("postgres_database")
    app = build_app(url)
    app.config["BACKEND"] = request.param
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(backend_app):
    """The app inside an app context, with every table emptied after the test."""
    with backend_app.app_context():
        yield backend_app
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


@pytest.fixture
def sqlite_app(tmp_path):
    """``sqlite_app(**config)``: a separate migrated app on its own SQLite file."""
    return lambda **config: build_app(f"sqlite:///{tmp_path}/separate.sqlite3", **config)


@pytest.fixture
def client(app):
    return app.test_client()


class LiveServer:
    """A WSGI app served on 127.0.0.1 with a free port, in a daemon thread."""

    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def serve():
    """``serve(wsgi_app) -> LiveServer``; every server is stopped after the test."""
    servers = []

    def start(wsgi_app):
        servers.append(LiveServer(wsgi_app))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_agent(app):
    """``make_agent(email=..., password=..., **fields)`` creates an agent; returns it."""
    from helpdesk.cli import create_agent

    def make(email="agent@test.example", password="correct horse battery", **fields):
        fields.setdefault("name", "Test Agent")
        name = fields.pop("name")
        return create_agent(email, name, password, **fields)

    return make


@pytest.fixture
def login(client, make_agent):
    """Log the test client in as a fresh agent (through the real form, CSRF off)."""

    def do(**fields):
        agent = make_agent(**fields)
        client.application.config["WTF_CSRF_ENABLED"] = False
        response = client.post("/login", data={"email": agent.email, "password": "correct horse battery"})
        client.application.config["WTF_CSRF_ENABLED"] = True
        assert response.status_code == 302, response.data
        return agent

    return do


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's Chromium (Playwright's own browser download is not available)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"Chromium not found at {CHROMIUM}: apt-get install -y --no-install-recommends chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--disable-gpu"]}


@pytest.fixture
def order(app):
    """Order #5001 of buyer ana@example.pt, to identify a buyer by number and e-mail."""
    store = Store(kind="shopify", name="PT shop", base_url="https://pt.example", default_currency="EUR")
    db.session.add(store)
    db.session.commit()
    apply_order(store, OrderRecord(
        external_id="5001", number="#5001", currency="EUR", subtotal=Decimal("30.00"), shipping=Decimal(0),
        tax=Decimal(0), total=Decimal("30.00"), financial_status="paid", fulfillment_status="fulfilled",
        placed_at=ORDER_PLACED, updated_at=ORDER_PLACED, customer=CustomerRecord("7", "Ana Sousa", "ana@example.pt", "PT"),
        lines=(LineRecord("l1", "CUP-1", "Chávena azul", 3, Decimal("10.00"), Decimal("30.00")),)))
    db.session.commit()
    return "#5001"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on a free port; the app sends its e-mail there.
    ``smtp_server.messages`` holds what arrived, as :class:`email.message.EmailMessage`."""
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    inbox = Inbox()
    inbox.messages = []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    controller.stop()
    app.config.update(MAIL_SERVER="")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny real ``.argosmodel`` files built offline (tests/translation/tiny_model.py):
    ``pt-en``, ``en-pt``, ``en-de`` and a corrupt ``pt-en-corrupt`` (its model.bin cut short)."""
    from tests.translation.tiny_model import build_tiny_model

    folder = tmp_path_factory.mktemp("argosmodels")
    return {"pt-en": build_tiny_model(folder, "pt", "en"), "en-pt": build_tiny_model(folder, "en", "pt", seed=11),
            "en-de": build_tiny_model(folder, "en", "de", seed=13),
            "pt-en-corrupt": build_tiny_model(folder, "pt", "en", corrupt=True)}


@pytest.fixture
def translation(app, tiny_models):
    """Translation on with the argos engine: ``translation.install("pt-en", ...)`` installs
    tiny models. Afterwards the worker is drained, every model removed, and the engine set
    back to ``none``."""
    from helpdesk.translation import argos
    from helpdesk.translation.worker import worker

    class Translation:
        def install(self, *names):
            return [argos.install_file(app.config, tiny_models[name]) for name in names]

    app.config["TRANSLATION_ENGINE"] = "argos"
    yield Translation()
    worker(app).drain()
    for model in argos.installed_models(app.config):
        argos.remove(app.config, model.source, model.target)
    app.config["TRANSLATION_ENGINE"] = "none"


WEEKDAYS_9_18 = {"hours": ["09:00-18:00"] * 5 + ["", ""]}


@pytest.fixture
def berlin_calendar(app):
    """A Berlin calendar: Mon–Fri 09:00–18:00, German public holidays (made through the
    admin pages' checks)."""
    row = apply_calendar(SlaCalendar(), {"name": "Berlin office", "time_zone": "Europe/Berlin",
                                         "holiday_country": "DE", **WEEKDAYS_9_18})
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def make_policy(app, berlin_calendar):
    """``make_policy(**fields) -> SlaPolicy``: business hours of the Berlin calendar unless
    ``business=False``; targets in hours as ``first_response_hours=4`` etc."""

    def make(**fields):
        data = {"name": f"Policy {db.session.query(SlaPolicy).count() + 1}", "calendar_id": berlin_calendar.id,
                **fields}
        row = apply_policy(SlaPolicy(), data)
        db.session.add(row)
        db.session.commit()
        return row

    return make
