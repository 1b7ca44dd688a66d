"""Multilingual FAQ: articles in many languages, a fuzzy matcher (``faq.matcher``), the
public FAQ pages, the agents' editor, and suggestions for buyers and agents
(``/api/v1/faq/...``)."""
import os

from flask import Blueprint, Flask

bp = Blueprint("faq", __name__, url_prefix="/faq")
api_bp = Blueprint("faq_api", __name__, url_prefix="/api/v1/faq")

# Settings read from the environment (with these defaults) unless the app config has them.
SETTINGS = {
    "FAQ_SUGGEST_RATE_LIMIT": "120 per minute",  # suggestions while typing, per client address
    "FAQ_FEEDBACK_RATE_LIMIT": "30 per minute",  # "did this answer your question?" answers
}


def init_app(app: Flask) -> None:
    """Register the FAQ's tables, blueprints and ``flask faq`` commands on ``app``, and the
    translation engine as its ``translator`` (a plugin may have set another before)."""
    from faq import models  # noqa: F401  (register the tables)
    from faq import routes  # noqa: F401  (attach the views to the blueprints)
    from faq.cli import faq_cli
    from faq.routes import TRANSLATOR
    from faq.translate import query_translator

    for name, default in SETTINGS.items():
        app.config.setdefault(name, os.environ.get(name, default))
    app.extensions.setdefault(TRANSLATOR, query_translator)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.cli.add_command(faq_cli)
