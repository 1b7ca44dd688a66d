"""After-sales cases tied to orders: returns, refunds, exchanges, warranty repairs,
logistics claims, payment disputes and questions.

* :mod:`tickets.models` — tickets, their lines, the append-only timeline, refund requests,
  store policies and carrier claim rules (data, not code);
* :mod:`tickets.rules` — the rules as plain functions with their own error types;
* :mod:`tickets.service` — the actions (create, note, status, refund ...) that commit and
  emit the domain events of :mod:`tickets.events`;
* :mod:`tickets.routes` (agent and buyer pages), :mod:`tickets.api` (``/api/v1/tickets``),
  :mod:`tickets.cli` (``flask tickets ...``).
"""
from flask import Blueprint, Flask

bp = Blueprint("tickets", __name__)
api_bp = Blueprint("tickets_api", __name__, url_prefix="/api/v1")

from tickets import api, labels, routes  # noqa: E402,F401


def register(app: Flask) -> None:
    """Add the ticket pages, the API (CSRF checked by the API itself: token callers have
    no cookie to forge) and the ``flask tickets`` commands to ``app``."""
    from helpdesk.extensions import csrf
    from tickets import models  # noqa: F401  (register the tables)
    from tickets.cli import tickets_cli

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    app.cli.add_command(tickets_cli)
