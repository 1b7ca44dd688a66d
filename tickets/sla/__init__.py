"""SLA: business-hours calendars, policies and per-ticket targets (first response, next
response, periodic update, resolution), with warnings, breaches and escalations fired once.

* :mod:`tickets.sla.clock` — the pure business-hours arithmetic;
* :mod:`tickets.sla.calendars` — calendar rows (zone, hours, holidays) to clock calendars;
* :mod:`tickets.sla.policies` — which policy a ticket gets, and checking admin input;
* :mod:`tickets.sla.service` — targets kept from the ticket events, and the scan that
  fires notices (driven by :mod:`helpdesk.scheduler`);
* :mod:`tickets.sla.routes` — admin pages and ``/api/v1/sla``.
"""
from __future__ import annotations

import functools

from flask import Flask

from helpdesk.extensions import db
from tickets import events


def _in_own_transaction(receiver):
    """A receiver in a transaction of its own: committed when it returns (so no read of
    it keeps SQLite's write lock), rolled back when it fails (the ticket's change stays)."""
    @functools.wraps(receiver)
    def run(ticket, **kwargs):
        try:
            receiver(ticket, **kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return run


def register(app: Flask) -> None:
    """Register the SLA tables, pages and API, and subscribe to the ticket events (the
    targets, and the live queue)."""
    from helpdesk.extensions import csrf
    from tickets.sla import models, queue, service  # noqa: F401  (register the tables)
    from tickets.sla.routes import api_bp, bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    for signal, receiver in ((events.ticket_created, service.on_created),
                             (events.ticket_agent_replied, service.on_agent_replied),
                             (events.ticket_buyer_replied, service.on_buyer_replied),
                             (events.ticket_status_changed, service.on_status_changed),
                             (events.ticket_reopened, service.on_reopened),
                             (events.ticket_created, queue.announce),
                             (events.ticket_status_changed, queue.announce),
                             (events.ticket_assigned, queue.announce)):
        if not any(getattr(r, "__wrapped__", None) is receiver for r in signal.receivers.values()):
            signal.connect(_in_own_transaction(receiver), weak=False)
