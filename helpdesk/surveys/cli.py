"""``flask surveys`` commands: send what is due (the scheduler's job), exclude a case."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from helpdesk.cli import parse_now
from helpdesk.extensions import db
from helpdesk.surveys import service
from tickets.models import EXCLUSIONS, Ticket

surveys_cli = AppGroup("surveys", help="Satisfaction surveys: sending, reminders, exclusions.")


@surveys_cli.command("send-due")
@click.option("--now", "now_text", default=None, help="The instant to act as of (ISO 8601); default: now.")
def send_due(now_text):
    """Send the surveys that are due and the reminders that are due (idempotent)."""
    now = parse_now(now_text)
    sent = service.send_due_surveys(now)
    reminded = service.send_reminders(now)
    click.echo(f"surveys sent: {sent}, reminders sent: {reminded}")


@surveys_cli.command("exclude")
@click.argument("ticket_id", type=int)
@click.argument("reason", type=click.Choice(EXCLUSIONS))
def exclude(ticket_id, reason):
    """Mark a ticket as spam, merged, internal or test: no survey, not in reports."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise click.ClickException(f"There is no ticket {ticket_id}.")
    service.exclude_ticket(ticket, reason)
    click.echo(f"ticket {ticket_id} excluded as {reason}")
