"""One app on its own SQLite file for the module: these tests read pages, the database
backend plays no part (the suite's ``app`` fixture would run each of them twice)."""
from __future__ import annotations

import pytest

from helpdesk.extensions import db
from tests.conftest import build_app


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory):
    app = build_app("sqlite:///" + str(tmp_path_factory.mktemp("i18n") / "helpdesk.sqlite3"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def ui_client(ui_app):
    return ui_app.test_client()
