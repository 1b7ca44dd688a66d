"""Domain events of tickets, for the parts that react to them (SLA clocks, surveys,
reports) without editing ticket code.

Blinker signals (Flask itself depends on blinker and sends its own signals this way), in
a namespace of their own. Each is sent **after** the change is committed, with the
ticket as sender and keyword arguments::

    from tickets.events import ticket_solved

    @ticket_solved.connect
    def send_survey(ticket, *, actor, at, **extra):
        ...

``actor`` is ``"agent"``, ``"buyer"``, ``"system"`` or ``"api"``; ``agent_id`` names the
agent when there is one; ``at`` is the aware UTC instant of the change. A receiver that
raises is logged and does not undo the change or stop other receivers.

Signals:
    ticket_created: a ticket was opened (``channel`` too).
    ticket_status_changed: any status change (``old``, ``new``), including the ones below.
    ticket_solved: the status became ``solved``.
    ticket_reopened: a solved ticket became open again (by an agent or a buyer's reply).
    ticket_refunded: money went back through the marketplace (``refund_id``, ``amount``,
        ``currency``).
    ticket_refund_failed: the marketplace refused or did not answer (``error``,
        ``outcome_unknown``).
    ticket_buyer_replied / ticket_agent_replied: a public message on the timeline (SLA
        next-response clocks).
    ticket_assigned: the assignee or team changed (``agent_id`` of the new assignee is
        ``assignee_id``; queues refresh).
"""
from __future__ import annotations

import logging

from blinker import Namespace

log = logging.getLogger(__name__)

signals = Namespace()

ticket_created = signals.signal("ticket-created")
ticket_status_changed = signals.signal("ticket-status-changed")
ticket_solved = signals.signal("ticket-solved")
ticket_reopened = signals.signal("ticket-reopened")
ticket_refunded = signals.signal("ticket-refunded")
ticket_refund_failed = signals.signal("ticket-refund-failed")
ticket_buyer_replied = signals.signal("ticket-buyer-replied")
ticket_agent_replied = signals.signal("ticket-agent-replied")
ticket_assigned = signals.signal("ticket-assigned")


def emit(signal, ticket, **kwargs) -> None:
    """Send ``signal`` for ``ticket``; a failing receiver is logged, never raised, so a
    survey or SLA bug cannot undo a committed refund."""
    for receiver in signal.receivers_for(ticket):
        try:
            receiver(ticket, **kwargs)
        except Exception:  # noqa: BLE001 — a subscriber's bug must not break the action
            log.exception("ticket event receiver failed", extra={"signal": signal.name, "ticket_id": ticket.id})
