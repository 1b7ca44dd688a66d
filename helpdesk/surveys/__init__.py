"""Satisfaction surveys (CSAT, optional NPS) and the low-score loop.

* :mod:`helpdesk.surveys.models` — surveys and follow-ups;
* :mod:`helpdesk.surveys.tokens` — the signed, single-purpose survey links;
* :mod:`helpdesk.surveys.service` — scheduling on the ticket and chat events, sending and
  reminding (idempotent, explicit ``now``), answers, follow-ups;
* :mod:`helpdesk.surveys.routes` — the buyer's survey page, the agent's ratings and the
  managers' follow-ups; :mod:`helpdesk.surveys.cli` — ``flask surveys ...``.
"""
from flask import Blueprint, Flask

bp = Blueprint("surveys", __name__)

from helpdesk.surveys import routes  # noqa: E402,F401


def register(app: Flask) -> None:
    """Add the survey pages and the ``flask surveys`` commands to ``app``; importing the
    service subscribes it to the ticket and chat events."""
    from helpdesk.surveys import service  # noqa: F401  (connects the event receivers)
    from helpdesk.surveys.cli import surveys_cli

    app.register_blueprint(bp)
    app.cli.add_command(surveys_cli)
