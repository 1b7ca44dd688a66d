"""Warnings, breaches and escalations fire exactly once: in one scan, in repeated scans,
in two scheduler processes racing on one database, and after a restart during which
deadlines passed (real `flask scheduler run` processes, a real SMTP server)."""
from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Team
from helpdesk.scheduler import build
from tickets import service
from tickets.models import TicketEvent
from tickets.service import Actor
from tickets.sla.models import SlaTarget
from tickets.sla.service import fire_due as fire
from tests.processes import ROOT, server_env

UTC = timezone.utc
START = datetime(2024, 6, 17, 7, 0, tzinfo=UTC)


@pytest.fixture
def team(app):
    row = Team(name="EU returns")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def people(make_agent, team):
    lead = make_agent(email="lead@test.example", name="Lea Lead", role="manager", team=team.name)
    other_lead = make_agent(email="boss@test.example", name="Other team's boss", role="manager")
    agent = make_agent(email="agent@test.example", name="Ada", team=team.name)
    senior = make_agent(email="senior@test.example", name="Sam Senior", team=team.name)
    return lead, other_lead, agent, senior


def sla_events(ticket_id=None) -> Counter:
    stmt = select(TicketEvent.kind, TicketEvent.payload).where(TicketEvent.kind.like("sla_%"))
    if ticket_id is not None:
        stmt = stmt.where(TicketEvent.ticket_id == ticket_id)
    return Counter((kind, payload["target"]) for kind, payload in db.session.execute(stmt))


def make_tickets(make_order, agent, count, team):
    out = []
    for i in range(count):
        ticket = service.create_ticket(Actor.of_agent(agent), order=make_order(f"30{i:02d}"), type="question",
                                       subject=f"Question {i}", now=START)
        service.assign(ticket, Actor.of_agent(agent), agent_id=agent.id, team_id=team.id, now=START)
        out.append(ticket)
    return out


def test_warning_breach_and_escalation_each_fire_once(make_policy, make_order, people, team, smtp_server):
    lead, _other, agent, senior = people
    make_policy(business=False, first_response_hours=4, warn_percent=75, escalate_raise_priority=True,
                escalate_to_agent_id=senior.id)
    [ticket] = make_tickets(make_order, agent, 1, team)
    first = db.session.scalar(select(SlaTarget).filter_by(ticket_id=ticket.id, metric="first_response"))
    assert fire(START + timedelta(hours=2, minutes=59)).warnings == []
    assert fire(START + timedelta(hours=3)).warnings == [first.id]
    assert fire(START + timedelta(hours=3, minutes=30)).warnings == []
    fired = fire(START + timedelta(hours=4))
    assert (fired.warnings, fired.breaches, fired.escalations) == ([], [first.id], [first.id])
    again = fire(START + timedelta(hours=5))
    assert (again.warnings, again.breaches, again.escalations) == ([], [], [])
    assert sla_events(ticket.id) == Counter({("sla_warning", first.id): 1, ("sla_breach", first.id): 1,
                                             ("sla_escalated", first.id): 1})
    db.session.expire_all()
    first = db.session.get(SlaTarget, first.id)
    assert first.breached and first.breached_at == START + timedelta(hours=4)
    assert first.warned_at == START + timedelta(hours=3) and first.escalated_at == START + timedelta(hours=4)
    assert (ticket.priority, ticket.assignee_id) == ("high", senior.id)
    assert sorted((m["To"], m["Subject"]) for m in smtp_server.messages) == [
        (f"Ada <{agent.email}>", f"SLA warning: ticket #{ticket.id} first response due soon"),
        (f"Lea Lead <{lead.email}>", f"SLA escalation: ticket #{ticket.id} first response was missed")]


def test_an_answered_ticket_never_breaches(make_policy, make_order, people, team):
    _lead, _other, agent, _senior = people
    make_policy(business=False, first_response_hours=4)
    [ticket] = make_tickets(make_order, agent, 1, team)
    service.add_message(ticket, Actor.of_agent(agent), "Hello", now=START + timedelta(hours=1))
    assert fire(START + timedelta(days=3)).breaches == []
    assert sla_events(ticket.id) == Counter()


def run_scheduler(app, tmp_path, now: datetime) -> subprocess.Popen:
    """``flask scheduler run --once --now`` in its own process, mailing the test's SMTP server."""
    env = server_env(app, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(app.config["MAIL_PORT"]),
                     SCHEDULER_IN_PROCESS="0")
    return subprocess.Popen([sys.executable, "-m", "flask", "scheduler", "run", "--once", "--now", now.isoformat()],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_scheduler_processes_notify_each_escalation_once(app, make_policy, make_order, people, team, smtp_server,
                                                            tmp_path):
    lead, _other, agent, _senior = people
    make_policy(business=False, first_response_hours=1, resolution_hours=2)
    tickets = make_tickets(make_order, agent, 40, team)
    later = START + timedelta(hours=3)
    processes = [run_scheduler(app, tmp_path, later) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    db.session.expire_all()
    events = sla_events()
    targets = db.session.scalars(select(SlaTarget)).all()
    assert len(targets) == 80
    assert events == Counter({(kind, t.id): 1 for t in targets for kind in ("sla_breach", "sla_escalated")})
    escalations = [m["Subject"] for m in smtp_server.messages if m["Subject"].startswith("SLA escalation")]
    assert sorted(escalations) == sorted(
        f"SLA escalation: ticket #{t.id} {metric} was missed" for t in tickets for metric in ("first response", "resolution"))
    assert {m["To"] for m in smtp_server.messages} == {f"Lea Lead <{lead.email}>"}
    totals = Counter()
    for out, _err in outputs:  # first line: "sla warnings=0 breaches=N escalations=M"
        for pair in out.splitlines()[0].split()[1:]:
            key, value = pair.split("=")
            totals[key] += int(value)
    assert totals == Counter({"warnings": 0, "breaches": 80, "escalations": 80})


def test_restart_catches_up_on_deadlines_passed_while_down(app, make_policy, make_order, people, team, smtp_server,
                                                          tmp_path):
    _lead, _other, agent, _senior = people
    make_policy(business=False, first_response_hours=1)
    tickets = make_tickets(make_order, agent, 3, team)
    # The scheduler was down from START until now: every deadline passed meanwhile.
    process = run_scheduler(app, tmp_path, START + timedelta(hours=6))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert out.splitlines() == ["sla warnings=0 breaches=3 escalations=3", "surveys sent=0 reminders=0",
                                "refunds made=0 failed=0 unreachable=0"]
    second = run_scheduler(app, tmp_path, START + timedelta(hours=7))
    assert second.communicate(timeout=120)[0].splitlines()[0] == "sla warnings=0 breaches=0 escalations=0"
    db.session.expire_all()
    assert sum(sla_events().values()) == 6
    assert {t.id for t in tickets} == {e.ticket_id for e in db.session.scalars(
        select(TicketEvent).where(TicketEvent.kind == "sla_breach"))}


def test_the_in_process_scheduler_scans_as_soon_as_it_starts(app, make_policy, make_order, people, team):
    _lead, _other, agent, _senior = people
    make_policy(business=False, first_response_hours=1)
    make_tickets(make_order, agent, 2, team)  # due at START + 1 h, long past by the real clock
    from apscheduler.events import EVENT_JOB_EXECUTED

    done, results = threading.Event(), []

    def listener(event):
        if event.job_id == "sla":
            results.append(event.retval)
            done.set()

    scheduler = build(app)
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        assert done.wait(30)
    finally:
        scheduler.shutdown()
    assert results[0] == "sla warnings=0 breaches=2 escalations=2"
