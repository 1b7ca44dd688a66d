"""``flask surveys`` commands: send what is due (the scheduler's job), exclude a case."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.surveys import service
from tickets.models import EXCLUSIONS, Ticket

surveys_cli = AppGroup("surveys", help="Satisfaction surveys: sending, reminders, exclusions.")


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware UTC instant (ISO 8601; a value without offset is UTC), or the
    current instant when empty.

    Raises:
        click.BadParameter: not an ISO 8601 date and time.
    """
    if not value:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-12-01T09:00:00+00:00") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


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
