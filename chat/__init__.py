"""Live chat: the buyer's chat page and widget, the agent's inbox and conversation view
(HTTP), and the Socket.IO events (``chat.events``)."""
from flask import Blueprint

bp = Blueprint("chat", __name__, url_prefix="/chat")

from chat import routes  # noqa: E402,F401
