"""APScheduler wiring: the periodic jobs of the helpdesk, each an idempotent function of
the current instant that claims its rows before acting:

* ``sla``: SLA warnings, breaches and escalations (:func:`tickets.sla.service.fire_due`);
* ``surveys``: satisfaction surveys and their one reminder when due
  (:func:`helpdesk.surveys.service.send_due_surveys`, :func:`~helpdesk.surveys.service.send_reminders`);
* ``refunds``: refunds a stopped process left being made, settled against the marketplace
  (:func:`tickets.service.recover_stuck_refunds`).

Two layouts (see the README):

* embedded (default): a background scheduler inside the serving process, started by
  ``wsgi.py`` when ``SCHEDULER_IN_PROCESS`` is on (``1``, the default);
* scaled out: app processes run with ``SCHEDULER_IN_PROCESS=0`` and exactly one
  ``flask scheduler run`` process drives the jobs.

The jobs live in memory: the rows are the truth, so a scheduler that starts runs every job
at once and catches up on every deadline that passed while it was down; claims on the
rows make a second scheduler (or a second gunicorn worker) harmless.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable

import click
from apscheduler.events import EVENT_JOB_ERROR
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from helpdesk.cli import parse_now
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db

log = logging.getLogger(__name__)
scheduler_cli = AppGroup("scheduler", help="Periodic jobs: SLA notices, surveys, stuck refunds.")


def _sla(now: datetime) -> str:
    from tickets.sla.service import fire_due

    fired = fire_due(now)
    return f"sla warnings={len(fired.warnings)} breaches={len(fired.breaches)} escalations={len(fired.escalations)}"


def _surveys(now: datetime) -> str:
    from helpdesk.surveys.service import send_due_surveys, send_reminders

    return f"surveys sent={send_due_surveys(now)} reminders={send_reminders(now)}"


def _refunds(now: datetime) -> str:
    from tickets.service import recover_stuck_refunds

    done = recover_stuck_refunds(now)
    return f"refunds made={len(done.succeeded)} failed={len(done.failed)} unreachable={len(done.unreachable)}"


# Job id -> the job: does its work as of an aware UTC instant and returns one summary line
# (``name key=count ...``), printed by ``flask scheduler run --once``.
JOBS: dict[str, Callable[[datetime], str]] = {"sla": _sla, "surveys": _surveys, "refunds": _refunds}


def run_job(app: Flask, job: str, now: datetime | None = None) -> str:
    """Run the job ``job`` (a key of :data:`JOBS`) once in its own app context, as of
    ``now`` (aware UTC, default the real time); returns its summary line.

    Raises:
        KeyError: no such job.
    """
    work = JOBS[job]
    with app.app_context():
        try:
            return work(now or utcnow())
        finally:
            db.session.remove()


def build(app: Flask, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler (not started) running each of :data:`JOBS` every ``SCHEDULER_INTERVAL``
    seconds, the first time as soon as it starts (catch-up after downtime)."""
    # Every run of every job is not news: APScheduler's per-run INFO lines stay out of the log.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=timezone.utc)
    for job in JOBS:
        scheduler.add_job(run_job, "interval", args=[app, job], id=job, seconds=app.config["SCHEDULER_INTERVAL"],
                          next_run_time=utcnow(), coalesce=True, max_instances=1, replace_existing=True)
    scheduler.add_listener(lambda event: log.error("scheduled job failed: %s", event.exception), EVENT_JOB_ERROR)
    return scheduler


def start_in_process(app: Flask) -> BaseScheduler | None:
    """Start the background scheduler when ``SCHEDULER_IN_PROCESS`` is on; returns it."""
    if not app.config["SCHEDULER_IN_PROCESS"]:
        return None
    scheduler = build(app)
    scheduler.start()
    return scheduler


@scheduler_cli.command("run")
@click.option("--once", is_flag=True, help="Run every job once (catching up), print what each did, and exit.")
@click.option("--now", "now_text", help="The instant to run them at (ISO 8601; without offset: UTC); with --once, for tests.")
@with_appcontext
def run_command(once: bool, now_text: str | None) -> None:
    """Drive the periodic jobs (the one scheduler process of the scaled-out layout)."""
    app = current_app._get_current_object()
    if once:
        now = parse_now(now_text)
        for job in JOBS:
            click.echo(run_job(app, job, now))
        return
    click.echo(f"scheduler: {', '.join(JOBS)} every {app.config['SCHEDULER_INTERVAL']} s (Ctrl+C stops)")
    build(app, blocking=True).start()
