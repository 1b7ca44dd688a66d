"""``flask chat ...``: canned replies."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from chat.macros import PLACEHOLDERS
from chat.models import CannedReply
from chat.service import clean_body
from helpdesk.cli import checked
from helpdesk.extensions import db
from helpdesk.validation import clean_name

chat_cli = AppGroup("chat", help="Live chat settings.")


def save_canned_reply(title: str, body: str) -> CannedReply:
    """Create or replace the canned reply called ``title``; commits.

    Raises:
        InvalidInput, chat.service.ChatError: an empty or too long title or body.
    """
    title = clean_name(title, "The title", 120)
    text = clean_body(body)
    reply = db.session.scalar(select(CannedReply).filter_by(title=title)) or CannedReply(title=title)
    reply.body = text
    db.session.add(reply)
    db.session.commit()
    return reply


@chat_cli.command("canned-add")
@click.option("--title", required=True, callback=checked(lambda v: clean_name(v, "The title", 120)))
@click.option("--body", required=True, help=f"Placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}.")
def canned_add(title, body):
    """Add or replace a canned reply agents can insert into their answers."""
    try:
        save_canned_reply(title, body)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--body") from None
    click.echo(f"Canned reply {title!r} saved.")
