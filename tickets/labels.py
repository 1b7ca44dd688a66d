"""The details of a ticket's timeline entries in words: labelled keys and values, order
lines by their titles, never a raw key or a Python repr (the payloads are JSON kept as
recorded, see :func:`tickets.service.record`)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_datetime, format_number, format_timedelta
from flask_babel import gettext as _

from helpdesk.labels import label
from helpdesk.models import Order
from tickets import bp
from tickets.models import STATUSES
from tickets.routes import reason_label, ticket_status_label, ticket_type_label

#: Payload keys whose values are codes, and how they are labelled.
VALUE_LABELS = {
    "type": ticket_type_label,
    "reason_code": reason_label,
    "channel": lambda value: label(value, "channel"),
    "priority": lambda value: label(value, "priority"),
    "resolution": lambda value: label(value, "resolution"),
    "outcome": lambda value: label(value, "outcome"),
    "metric": lambda value: label(value, "sla_metric"),
    "due_at": lambda value: format_datetime(datetime.fromisoformat(value)),
    "left_seconds": lambda value: format_timedelta(timedelta(seconds=value), threshold=1.5),
}


def _line(item: dict, titles: dict[int, str]) -> str:
    title = titles.get(item.get("order_line_id"), f"#{item.get('order_line_id')}")
    return f"{format_number(item.get('quantity') or 0)} × {title}"


@bp.app_template_global()
def timeline_value(key: str, value: object, order: Order | None = None) -> str:
    """One timeline detail as text: ``key`` is the payload's key (``"lines"``,
    ``"channel"``...), ``value`` its JSON value, ``order`` the ticket's order (for line
    titles). Order lines → "1 × Blue mug"; codes → their labels (a status in ``from``/``to``
    too); ``True``/``False`` → yes/no; a mapping → "agent: Ana, team: EU"; a list → its
    items joined."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "lines" and isinstance(value, list):
        titles = {line.id: line.title for line in order.lines} if order is not None else {}
        return ", ".join(_line(item, titles) for item in value if isinstance(item, dict))
    if isinstance(value, dict):
        return ", ".join(f"{label(k, 'field')}: {timeline_value(k, v, order)}" for k, v in value.items()
                         if v not in (None, "", [], {}))
    if isinstance(value, list):
        return ", ".join(timeline_value(key, item, order) for item in value)
    if key in VALUE_LABELS:
        return VALUE_LABELS[key](value)
    if key in ("from", "to") and value in STATUSES:
        return ticket_status_label(value)
    return "" if value is None else str(value)
