"""Canned replies: placeholders filled in from the conversation."""
from __future__ import annotations

import re

from chat.models import Conversation
from helpdesk.models import Agent

PLACEHOLDERS = ("buyer_name", "order_number", "tracking_number", "tracking_link", "agent_name")
_PATTERN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def placeholder_values(conversation: Conversation, agent: Agent) -> dict[str, str]:
    """What each placeholder stands for in this conversation ("" when unknown, e.g. no
    order or no shipment yet); the tracking data is the order's latest shipment."""
    order = conversation.order
    shipment = order.shipments[-1] if order and order.shipments else None
    return {
        "buyer_name": conversation.buyer_name or "",
        "order_number": order.number if order else "",
        "tracking_number": (shipment.tracking_number or "") if shipment else "",
        "tracking_link": (shipment.tracking_url or "") if shipment else "",
        "agent_name": agent.display_name,
    }


def render_canned(body: str, conversation: Conversation, agent: Agent) -> str:
    """``body`` with ``{buyer_name}``, ``{order_number}``, ``{tracking_number}``,
    ``{tracking_link}`` and ``{agent_name}`` replaced. Nothing else in the text is
    interpreted (no format-string attribute access, unknown braces stay as typed)."""
    values = placeholder_values(conversation, agent)
    return _PATTERN.sub(lambda match: values[match.group(1)], body)
