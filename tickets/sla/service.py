"""Per-ticket SLA targets, kept as things happen, and the scan that fires warnings,
breaches and escalations exactly once.

Reactions to the ticket domain events (:mod:`tickets.events`), wired by
:func:`tickets.sla.register`:

* created → the first matching policy's ``first_response`` and ``resolution`` targets;
* an agent's public reply → ``first_response`` and the open ``next_response`` achieved;
  the ``periodic_update`` cycle achieved and the next one started;
* a buyer's message once the first response is given → a ``next_response`` cycle;
* pending (and on hold, when the policy says so) → every running target paused;
  any other open status → resumed (``due_at`` moved by the business time spent paused);
* solved or closed → ``resolution`` achieved, anything else still running cancelled;
* reopened → a new ``resolution`` cycle: a fresh target, or what was left
  (``fresh_resolution_on_reopen``).

The rows are the truth. :func:`fire_due` claims each notice with a conditional
``UPDATE ... WHERE <notice>_at IS NULL`` (after ``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two scheduler processes work on different rows), records it on the
ticket's timeline in the same transaction, and only after the commit sends e-mail and
console notices. Two processes, or a restart after deadlines passed, therefore fire each
warning, breach and escalation once.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from helpdesk.extensions import db
from helpdesk.mail import MailError, send_text
from helpdesk.models import Agent
from tickets import service as tickets
from tickets.models import PRIORITIES, Ticket
from tickets.service import Actor
from tickets.sla import clock, policies
from tickets.sla.calendars import calendar_for
from tickets.sla.models import SlaPolicy, SlaTarget

log = logging.getLogger(__name__)

RUNNING = ("active", "paused")
SYSTEM = Actor("system")
BATCH = 200


# ---------------------------------------------------------------- one target's arithmetic

def _calendar(target: SlaTarget) -> clock.Calendar | None:
    return calendar_for(target.calendar_id) if target.business else None


def used_seconds(target: SlaTarget, at: datetime) -> int:
    """Business (or calendar) seconds the target has used by ``at``: from its start,
    less the time paused (a paused target stopped using time at ``paused_at``)."""
    calendar = _calendar(target)
    until = target.paused_at if target.state == "paused" else at
    return clock.between(calendar, target.started_at, min(until, at)) - target.paused_seconds


def left_seconds(target: SlaTarget, at: datetime) -> int:
    """Seconds of the target left at ``at`` (negative once breached)."""
    return target.target_seconds - used_seconds(target, at)


def open_target(ticket: Ticket, policy: SlaPolicy, metric: str, cycle: int, at: datetime,
                seconds: int | None = None) -> SlaTarget | None:
    """Start ``metric``'s cycle ``cycle`` for ``ticket`` at ``at`` (in the session).

    Args:
        seconds: the target; default the policy's for ``metric`` (``None`` there: not
            measured, nothing started).
    """
    seconds = policy.target_for(metric) if seconds is None else seconds
    if seconds is None:
        return None
    target = SlaTarget(ticket_id=ticket.id, policy_id=policy.id, metric=metric, cycle=cycle,
                       business=policy.business, calendar_id=policy.calendar_id if policy.business else None,
                       target_seconds=seconds, warn_seconds=math.ceil(seconds * policy.warn_ratio),
                       started_at=at, paused_seconds=0, state="active", breached=False)
    calendar = _calendar(target)
    target.due_at = clock.add(calendar, at, seconds)
    target.warn_at = clock.add(calendar, at, target.warn_seconds)
    db.session.add(target)
    return target


def pause(target: SlaTarget, at: datetime) -> None:
    """Stop the clock at ``at``."""
    if target.state == "active":
        target.state, target.paused_at = "paused", at


def resume(target: SlaTarget, at: datetime) -> None:
    """Run the clock again from ``at``: the paused business time is added to
    ``paused_seconds`` and the deadlines move by it (a target already missed keeps its
    ``due_at``)."""
    if target.state != "paused":
        return
    calendar = _calendar(target)
    used = used_seconds(target, at)
    target.paused_seconds += clock.between(calendar, target.paused_at, at)
    target.state, target.paused_at = "active", None
    if used < target.target_seconds:
        target.due_at = clock.add(calendar, at, target.target_seconds - used)
    if target.warned_at is None and used < target.warn_seconds:
        target.warn_at = clock.add(calendar, at, target.warn_seconds - used)


def achieve(target: SlaTarget, at: datetime) -> None:
    """The target is met (or missed) at ``at``: ``elapsed_seconds`` and ``breached`` are
    written once and never recomputed."""
    if target.state not in RUNNING:
        return
    resume(target, at)
    target.elapsed_seconds = used_seconds(target, at)
    target.state, target.achieved_at = "achieved", at
    if target.elapsed_seconds > target.target_seconds and not target.breached:
        target.breached, target.breached_at = True, target.due_at


def cancel(target: SlaTarget, at: datetime) -> None:
    """No longer measured (the ticket was solved before this target applied)."""
    if target.state in RUNNING:
        resume(target, at)
        target.state = "cancelled"


# ---------------------------------------------------------------- reactions to ticket events

def _targets(ticket: Ticket, *, running: bool = False) -> list[SlaTarget]:
    targets = targets_of(ticket.id)
    return [t for t in targets if t.state in RUNNING] if running else targets


def _latest(targets: list[SlaTarget], metric: str) -> SlaTarget | None:
    return next((t for t in reversed(targets) if t.metric == metric), None)


def _policy(targets: list[SlaTarget]) -> SlaPolicy | None:
    policy_id = next((t.policy_id for t in targets if t.policy_id), None)
    return db.session.get(SlaPolicy, policy_id) if policy_id else None


def _pauses(policy: SlaPolicy | None, status: str) -> bool:
    return status == "pending" or (status == "on_hold" and policy is not None and policy.pause_on_hold)


def on_created(ticket: Ticket, *, at: datetime, **_extra) -> None:
    """Give the new ticket its policy's first-response and resolution targets."""
    policy = policies.policy_for(ticket)
    if policy is not None:
        for metric in ("first_response", "resolution"):
            open_target(ticket, policy, metric, 0, at)
    db.session.commit()


def on_agent_replied(ticket: Ticket, *, at: datetime, **_extra) -> None:
    """An agent answered the buyer: responses achieved, the periodic update cycle renewed."""
    targets = _targets(ticket)
    for target in targets:
        if target.metric in ("first_response", "next_response", "periodic_update"):
            achieve(target, at)
    policy = _policy(targets)
    if policy is not None and ticket.is_open:
        latest = _latest(targets, "periodic_update")
        renewed = open_target(ticket, policy, "periodic_update", latest.cycle + 1 if latest else 0, at)
        if renewed is not None and _pauses(policy, ticket.status):
            pause(renewed, at)
    db.session.commit()


def on_buyer_replied(ticket: Ticket, *, at: datetime, **_extra) -> None:
    """The buyer wrote: once they have had a first answer, a next-response clock starts
    (unless one already runs)."""
    targets = _targets(ticket)
    first = _latest(targets, "first_response")
    latest = _latest(targets, "next_response")
    policy = _policy(targets)
    if policy is None or (first is not None and first.state in RUNNING) or (latest and latest.state in RUNNING):
        return
    if first is None and not any(t.metric == "periodic_update" for t in targets):
        return  # nobody has answered yet: the first response is what is awaited
    open_target(ticket, policy, "next_response", latest.cycle + 1 if latest else 0, at)
    db.session.commit()


def on_status_changed(ticket: Ticket, *, new: str, at: datetime, **_extra) -> None:
    """Pause, resume, achieve or cancel the running targets for the new status."""
    targets = _targets(ticket, running=True)
    policy = _policy(targets)
    for target in targets:
        if new in ("solved", "closed"):
            (achieve if target.metric == "resolution" else cancel)(target, at)
        elif _pauses(policy, new):
            pause(target, at)
        else:
            resume(target, at)
    db.session.commit()


def on_reopened(ticket: Ticket, *, at: datetime, **_extra) -> None:
    """A solved ticket is open again: a new resolution cycle, fresh or with what was
    left of the last one (at least a minute)."""
    targets = _targets(ticket)
    last = _latest(targets, "resolution")
    policy = _policy(targets)
    if last is None or policy is None:
        return
    if policy.fresh_resolution_on_reopen:
        seconds = policy.resolution_seconds or last.target_seconds
    else:
        seconds = max(60, last.target_seconds - (last.elapsed_seconds or 0))
    target = open_target(ticket, policy, "resolution", last.cycle + 1, at, seconds)
    if _pauses(policy, ticket.status):
        pause(target, at)
    db.session.commit()


# ---------------------------------------------------------------- the scan

@dataclass
class Fired:
    """What one :func:`fire_due` run fired: target ids per kind."""

    warnings: list[int] = field(default_factory=list)
    breaches: list[int] = field(default_factory=list)
    escalations: list[int] = field(default_factory=list)


NOTICES = {
    # kind: (the column a process claims, the column saying when it is due)
    "warning": ("warned_at", "warn_at"),
    "breach": ("breach_notified_at", "due_at"),
}


def _candidates(claim_column: str, due_column: str, now: datetime) -> list[SlaTarget]:
    column, due = getattr(SlaTarget, claim_column), getattr(SlaTarget, due_column)
    stmt = (select(SlaTarget).where(SlaTarget.state == "active", column.is_(None), due <= now)
            .order_by(due).limit(BATCH))
    if claim_column == "warned_at":
        stmt = stmt.where(SlaTarget.due_at > now)  # past due: the breach says it
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=SlaTarget)
    return list(db.session.scalars(stmt))


def _claim(target: SlaTarget, column: str, now: datetime, **values) -> bool:
    """Set ``column`` to ``now`` on ``target`` unless someone did; True when we did."""
    result = db.session.execute(
        update(SlaTarget).where(SlaTarget.id == target.id, getattr(SlaTarget, column).is_(None))
        .values({column: now, **values}).execution_options(synchronize_session=False))
    return result.rowcount == 1


def fire_due(now: datetime) -> Fired:
    """Fire every warning, breach and escalation due by ``now`` that no process fired
    yet: a timeline entry each (committed with the claim), then e-mail and console
    notices. Safe to run in several processes at once and after any downtime.

    Args:
        now: the aware instant the scan runs at (tests pass their own).

    Returns:
        The target ids fired this run, per kind.
    """
    fired = Fired()
    for kind, (claim_column, due_column) in NOTICES.items():
        while True:
            batch = _candidates(claim_column, due_column, now)
            won = []
            for target in batch:
                extra = {"breached": True, "breached_at": target.due_at} if kind == "breach" else {}
                if _claim(target, claim_column, now, **extra):
                    won.append((target.id, _notice(kind, target, now)))
                    tickets.record(db.session.get(Ticket, target.ticket_id), SYSTEM, f"sla_{kind}",
                                   _payload(target, now), internal=True, now=now)
            db.session.commit()
            for target_id, notice in won:
                getattr(fired, "warnings" if kind == "warning" else "breaches").append(target_id)
                _send(notice)
            if len(batch) < BATCH:
                break
    fired.escalations = _escalate_breached(now)
    return fired


def _payload(target: SlaTarget, now: datetime) -> dict:
    return {"target": target.id, "metric": target.metric, "cycle": target.cycle,
            "due_at": target.due_at.isoformat(), "left_seconds": left_seconds(target, now)}


def _escalate_breached(now: datetime) -> list[int]:
    done = []
    while True:
        stmt = (select(SlaTarget).where(SlaTarget.breached.is_(True), SlaTarget.escalated_at.is_(None),
                                        SlaTarget.breach_notified_at.is_not(None), SlaTarget.state.in_(RUNNING))
                .order_by(SlaTarget.due_at).limit(BATCH))
        if db.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=SlaTarget)
        batch = list(db.session.scalars(stmt))
        won = []
        for target in batch:
            if _claim(target, "escalated_at", now):
                won.append((target.id, target.ticket_id, target.policy_id, _notice("escalation", target, now)))
                tickets.record(db.session.get(Ticket, target.ticket_id), SYSTEM, "sla_escalated",
                               _payload(target, now), internal=True, now=now)
        db.session.commit()
        for target_id, ticket_id, policy_id, notice in won:
            _escalation_actions(ticket_id, policy_id, now)
            db.session.commit()  # end the actions' reads before sending
            _send(notice)
            done.append(target_id)
        if len(batch) < BATCH:
            return done


def _escalation_actions(ticket_id: int, policy_id: int | None, now: datetime) -> None:
    policy = db.session.get(SlaPolicy, policy_id) if policy_id else None
    ticket = db.session.get(Ticket, ticket_id)
    if policy is None or not ticket.is_open:
        return
    try:
        if policy.escalate_raise_priority and ticket.priority != PRIORITIES[-1]:
            tickets.update_fields(ticket, SYSTEM, priority=PRIORITIES[PRIORITIES.index(ticket.priority) + 1], now=now)
        agent = policy.escalate_to_agent
        if agent is not None and agent.active and ticket.assignee_id != agent.id:
            tickets.assign(ticket, SYSTEM, agent_id=agent.id, now=now)
    except tickets.InvalidTicket:
        db.session.rollback()
        log.exception("sla escalation action failed", extra={"ticket_id": ticket.id})


def team_leads(ticket: Ticket) -> list[Agent]:
    """Who hears of an escalation: the active managers of the ticket's team, else every
    active manager and admin."""
    managers = select(Agent).where(Agent.active.is_(True), Agent.role.in_(("manager", "admin")))
    if ticket.team_id is not None:
        found = list(db.session.scalars(managers.where(Agent.team_id == ticket.team_id).order_by(Agent.id)))
        if found:
            return found
    return list(db.session.scalars(managers.order_by(Agent.id)))


SUBJECTS = {
    "warning": "SLA warning: ticket #{id} {metric} due soon",
    "breach": "SLA breached: ticket #{id} {metric}",
    "escalation": "SLA escalation: ticket #{id} {metric} was missed",
}


@dataclass
class Notice:
    """A notice to send once its claim is committed: the console event's ``payload``,
    the e-mail's ``subject`` and ``body``, and ``recipients`` ``[(e-mail, name)]``."""

    payload: dict
    subject: str
    body: str
    recipients: list[tuple[str, str]]


def _notice(kind: str, target: SlaTarget, now: datetime) -> Notice:
    """What to tell about ``kind`` on ``target``, read before the claim commits (so
    sending holds no transaction): the assignee hears of a warning, the team leads of an
    escalation; a breach goes to the consoles only."""
    ticket = db.session.get(Ticket, target.ticket_id)
    people = {"warning": [ticket.assignee] if ticket.assignee else [], "breach": [],
              "escalation": team_leads(ticket)}[kind]
    metric = target.metric.replace("_", " ")
    return Notice(payload={"kind": kind, "ticket": ticket.id, **_payload(target, now)},
                  subject=SUBJECTS[kind].format(id=ticket.id, metric=metric),
                  body=(f"Ticket #{ticket.id}: {ticket.subject}\nTarget: {metric} (cycle {target.cycle})\n"
                        f"Due: {target.due_at.isoformat()}\n"),
                  recipients=[(agent.email, agent.display_name) for agent in people])


def _send(notice: Notice) -> None:
    """Tell the agents' consoles (Socket.IO room ``agents``) and e-mail the recipients;
    a mail server that fails is logged (the notice stays on the timeline)."""
    log.warning("sla %s", notice.payload["kind"], extra={"ticket_id": notice.payload["ticket"],
                                                         "metric": notice.payload["metric"]})
    current_app.extensions["socketio"].emit("sla", notice.payload, to="agents")
    if not current_app.config["MAIL_SERVER"]:
        return
    for email, name in notice.recipients:
        try:
            send_text(email, notice.subject, notice.body, to_name=name)
        except MailError:
            log.exception("sla notice e-mail failed", extra={"ticket_id": notice.payload["ticket"]})


def targets_of(ticket_id: int) -> list[SlaTarget]:
    """Every SLA target of the ticket, by metric and cycle."""
    return list(db.session.scalars(select(SlaTarget).filter_by(ticket_id=ticket_id)
                                   .order_by(SlaTarget.metric, SlaTarget.cycle)))


def next_due(ticket_ids: list[int]) -> dict[int, SlaTarget]:
    """The running target due first of each ticket in ``ticket_ids`` (badge data)."""
    rows = db.session.scalars(select(SlaTarget).where(SlaTarget.ticket_id.in_(ticket_ids),
                                                      SlaTarget.state.in_(RUNNING)).order_by(SlaTarget.due_at))
    first: dict[int, SlaTarget] = {}
    for row in rows:
        first.setdefault(row.ticket_id, row)
    return first


