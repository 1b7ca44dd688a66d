"""Canned replies and ticket macros: placeholders filled in from the conversation or the
ticket's order."""
from __future__ import annotations

import re

from chat.models import Conversation
from helpdesk.models import Agent, Order

PLACEHOLDERS = ("buyer_name", "order_number", "tracking_number", "tracking_link", "agent_name")
_PATTERN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def order_placeholder_values(buyer_name: str | None, order: Order | None, agent: Agent) -> dict[str, str]:
    """What each placeholder stands for ("" when unknown, e.g. no order or no shipment
    yet); the tracking data is the order's latest shipment."""
    shipment = order.shipments[-1] if order and order.shipments else None
    return {
        "buyer_name": buyer_name or "",
        "order_number": order.number if order else "",
        "tracking_number": (shipment.tracking_number or "") if shipment else "",
        "tracking_link": (shipment.tracking_url or "") if shipment else "",
        "agent_name": agent.display_name,
    }


def placeholder_values(conversation: Conversation, agent: Agent) -> dict[str, str]:
    """The placeholders' values in this conversation (its buyer's name and order)."""
    return order_placeholder_values(conversation.buyer_name, conversation.order, agent)


def fill_placeholders(body: str, values: dict[str, str]) -> str:
    """``body`` with ``{buyer_name}``, ``{order_number}``, ``{tracking_number}``,
    ``{tracking_link}`` and ``{agent_name}`` replaced from ``values``. Nothing else in
    the text is interpreted (no format-string attribute access, unknown braces stay as
    typed)."""
    return _PATTERN.sub(lambda match: values[match.group(1)], body)


def render_canned(body: str, conversation: Conversation, agent: Agent) -> str:
    """A canned reply filled in for ``conversation`` (see :func:`fill_placeholders`)."""
    return fill_placeholders(body, placeholder_values(conversation, agent))
