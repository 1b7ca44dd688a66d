"""APScheduler wiring: the periodic jobs of the helpdesk (today the SLA scan of
:func:`tickets.sla.service.fire_due`).

Two layouts (see the README):

* embedded (default): a background scheduler inside the serving process, started by
  ``wsgi.py`` when ``SCHEDULER_IN_PROCESS`` is on (``1``, the default);
* scaled out: app processes run with ``SCHEDULER_IN_PROCESS=0`` and exactly one
  ``flask scheduler run`` process drives the jobs.

The jobs live in memory: the SLA rows are the truth, so a scheduler that starts runs the
scan at once and catches up on every deadline that passed while it was down; claims on
the rows make a second scheduler (or a second gunicorn worker) harmless.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import click
from apscheduler.events import EVENT_JOB_ERROR
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db

log = logging.getLogger(__name__)
scheduler_cli = AppGroup("scheduler", help="Periodic jobs: SLA warnings, breaches and escalations.")
SLA_JOB = "sla-scan"


def sla_scan(app: Flask, now: datetime | None = None):
    """One SLA scan in its own app context (``now``: aware UTC, default the real time).

    Returns:
        :class:`tickets.sla.service.Fired`.
    """
    from tickets.sla.service import fire_due

    with app.app_context():
        try:
            return fire_due(now or utcnow())
        finally:
            db.session.remove()


def build(app: Flask, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler (not started) whose SLA scan runs every ``SCHEDULER_INTERVAL`` seconds,
    the first time as soon as it starts (catch-up after downtime)."""
    # Every run of every job is not news: APScheduler's per-run INFO lines stay out of the log.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=timezone.utc)
    scheduler.add_job(sla_scan, "interval", args=[app], id=SLA_JOB, seconds=app.config["SCHEDULER_INTERVAL"],
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
@click.option("--once", is_flag=True, help="Run the jobs once (catching up) and exit.")
@click.option("--now", "now_text", help="The instant to run them at (ISO 8601 with offset); with --once, for tests.")
@with_appcontext
def run_command(once: bool, now_text: str | None) -> None:
    """Drive the periodic jobs (the one scheduler process of the scaled-out layout)."""
    app = current_app._get_current_object()
    if once:
        now = None
        if now_text:
            try:
                now = datetime.fromisoformat(now_text)
            except ValueError:
                raise click.BadParameter("an ISO 8601 instant such as 2024-06-17T09:00:00+00:00", param_hint="--now")
            if now.tzinfo is None:
                raise click.BadParameter("give the instant's UTC offset", param_hint="--now")
        fired = sla_scan(app, now)
        click.echo(f"sla warnings={len(fired.warnings)} breaches={len(fired.breaches)} "
                   f"escalations={len(fired.escalations)}")
        return
    click.echo(f"scheduler: SLA scan every {app.config['SCHEDULER_INTERVAL']} s (Ctrl+C stops)")
    build(app, blocking=True).start()
