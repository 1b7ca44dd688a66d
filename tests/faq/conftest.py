"""Fixtures of the FAQ tests: the demo articles in the database, forms without CSRF."""
from __future__ import annotations

import pytest

from faq.cli import seed_demo
from helpdesk.extensions import limiter


@pytest.fixture
def demo_faq(app):
    """The demo FAQ (27 articles in 9 languages, ``demo_data/faq``) imported."""
    return seed_demo()


@pytest.fixture
def signed_in(app, login):
    """The test client signed in as an agent, posting forms without a CSRF token (CSRF is
    on again afterwards)."""
    login()
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def fresh_limits(app):
    """Rate-limit counters start from zero (the limiter's memory storage is per process)."""
    limiter.reset()
    yield
    limiter.reset()
