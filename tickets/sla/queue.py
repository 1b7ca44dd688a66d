"""The agents' queue: open tickets ordered by what breaches next, its views and filters,
taking a ticket under a row lock, and the assignment rules.

Views (:data:`VIEWS`): ``open`` (every open ticket), ``mine``, ``unassigned``,
``breaching_soon`` (a running clock due within :data:`SOON`), ``breached`` (a running
clock past due), and the older lists ``refund_failed``, ``solved`` and ``all``. Filters:
type, store, language (a BCP 47 prefix). Open views sort by the earliest due running
target (tickets without one last), then by the last update.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from helpdesk.extensions import db
from helpdesk.models import Agent
from tickets import service as tickets
from tickets.models import OPEN_STATUSES, Ticket
from tickets.service import Actor, InvalidTicket
from tickets.sla.models import SlaTarget

VIEWS = ("open", "mine", "unassigned", "breaching_soon", "breached", "refund_failed", "solved", "all")
SOON = timedelta(hours=1)
ASSIGNMENT_RULES = ("round_robin", "least_loaded", "language")


class AlreadyTaken(InvalidTicket):
    """Someone else took the ticket first."""

    code = "already_taken"
    status = 409


def next_due_subquery():
    """``(ticket_id, next_due)``: the earliest ``due_at`` of each ticket's active targets."""
    return (select(SlaTarget.ticket_id, func.min(SlaTarget.due_at).label("next_due"))
            .where(SlaTarget.state == "active").group_by(SlaTarget.ticket_id).subquery())


def queue_query(view: str, agent: Agent, *, now: datetime, type: str | None = None, store_id: int | None = None,
                language: str | None = None):
    """``select(Ticket, next_due)`` for ``view`` (one of :data:`VIEWS`) as ``agent`` sees
    it at ``now`` (aware UTC), filtered by ticket ``type``, ``store_id`` and
    ``language`` (``"de"`` also takes ``"de-AT"``)."""
    due = next_due_subquery()
    stmt = (select(Ticket, due.c.next_due).outerjoin(due, due.c.ticket_id == Ticket.id)
            .options(selectinload(Ticket.order), selectinload(Ticket.assignee), selectinload(Ticket.store)))
    if view in ("open", "mine", "unassigned", "breaching_soon", "breached"):
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    if view == "mine":
        stmt = stmt.where(Ticket.assignee_id == agent.id)
    elif view == "unassigned":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif view == "breaching_soon":
        stmt = stmt.where(due.c.next_due > now, due.c.next_due <= now + SOON)
    elif view == "breached":
        stmt = stmt.where(due.c.next_due <= now)
    elif view == "refund_failed":
        stmt = stmt.where(Ticket.refund_state == "failed")
    elif view == "solved":
        stmt = stmt.where(Ticket.status == "solved")
    if type:
        stmt = stmt.where(Ticket.type == type)
    if store_id:
        stmt = stmt.where(Ticket.store_id == store_id)
    if language:
        stmt = stmt.where((func.lower(Ticket.language) == language.lower())
                          | func.lower(Ticket.language).like(language.lower().replace("%", "").replace("_", "") + "-%"))
    return stmt.order_by(due.c.next_due.is_(None), due.c.next_due, Ticket.updated_at.desc(), Ticket.id.desc())


def take(ticket_id: int, agent: Agent, *, now: datetime) -> Ticket:
    """Assign an unassigned ticket to ``agent``, once: the row is locked (``SELECT ...
    FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers) and
    taken only while nobody has it, so two agents clicking together get one winner.

    Raises:
        tickets.TicketNotFound: no such ticket.
        AlreadyTaken: another agent has it.
    """
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    ticket = db.session.scalar(stmt.execution_options(populate_existing=True))
    if ticket is None:
        db.session.rollback()
        raise tickets.TicketNotFound("There is no such ticket.")
    if ticket.assignee_id is not None and ticket.assignee_id != agent.id:
        db.session.rollback()
        raise AlreadyTaken("Another agent has already taken this ticket.")
    return tickets.assign(ticket, Actor.of_agent(agent), agent_id=agent.id, team_id=ticket.team_id, now=now)


def open_load() -> dict[int, int]:
    """Open tickets per assignee id."""
    rows = db.session.execute(select(Ticket.assignee_id, func.count()).where(
        Ticket.status.in_(OPEN_STATUSES), Ticket.assignee_id.is_not(None)).group_by(Ticket.assignee_id))
    return dict(rows.all())


def choose_assignee(ticket: Ticket, rule: str, *, load: dict[int, int] | None = None) -> Agent | None:
    """The agent ``rule`` gives ``ticket`` to, among active agents (of the ticket's team
    when it has one with agents):

    * ``round_robin``: the one assigned longest ago (never first; ``last_assigned_at``);
    * ``least_loaded``: the fewest open tickets (then round-robin);
    * ``language``: those who speak the ticket's language (its primary subtag against
      each agent's ``languages``), least loaded; everyone when nobody does.

    Args:
        load: open tickets per agent id (:func:`open_load`), kept current by the caller
            across a bulk assignment.

    Raises:
        InvalidTicket: an unknown rule.
    """
    if rule not in ASSIGNMENT_RULES:
        raise InvalidTicket("Choose how to assign: round robin, least loaded or language.")
    agents = list(db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.id)))
    if ticket.team_id is not None and any(a.team_id == ticket.team_id for a in agents):
        agents = [a for a in agents if a.team_id == ticket.team_id]
    if rule == "language" and ticket.language:
        wanted = ticket.language.split("-")[0].lower()
        speakers = [a for a in agents if any(tag.split("-")[0].lower() == wanted for tag in a.languages or [])]
        agents = speakers or agents
    load = open_load() if load is None else load
    never = datetime.min.replace(tzinfo=timezone.utc)

    def recency(agent: Agent):
        return agent.last_assigned_at or never

    if rule == "round_robin":
        return min(agents, key=lambda a: (recency(a), a.id), default=None)
    return min(agents, key=lambda a: (load.get(a.id, 0), recency(a), a.id), default=None)


def auto_assign(ticket: Ticket, rule: str, actor: Actor, *, now: datetime, load: dict[int, int]) -> Agent | None:
    """Assign ``ticket`` by ``rule`` (see :func:`choose_assignee`); the chosen agent's
    ``last_assigned_at`` moves to ``now`` and ``load`` counts the ticket."""
    agent = choose_assignee(ticket, rule, load=load)
    if agent is None:
        return None
    db.session.execute(update(Agent).where(Agent.id == agent.id).values(last_assigned_at=now))
    tickets.assign(ticket, actor, agent_id=agent.id, now=now)
    load[agent.id] = load.get(agent.id, 0) + 1
    return agent


def announce(ticket: Ticket, **_extra) -> None:
    """Tell every agent console that ``ticket`` changed (Socket.IO event ``ticket`` to
    the ``agents`` room), so open queues refresh their rows."""
    current_app.extensions["socketio"].emit("ticket", {"id": ticket.id}, to="agents")
