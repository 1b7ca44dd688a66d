"""``flask tickets`` commands: return policies, carrier claim rules, API tokens, stuck
refunds, ticket macros."""
from __future__ import annotations

import secrets
from decimal import Decimal

import click
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.cli import checked, find_store
from helpdesk.extensions import db
from helpdesk.marketplace import registered_kinds
from helpdesk.models import Agent
from helpdesk.money import normalise_currency, parse_amount
from helpdesk.validation import clean_email
from tickets.models import CLAIM_KINDS, ApiToken, CarrierClaimRule, ReturnPolicy
from tickets.macros import MACRO_STATUSES, save_macro
from tickets.models import PRIORITIES, TicketMacro
from tickets.rules import TicketRuleError
from tickets.service import Actor, recover_stuck_refunds

tickets_cli = AppGroup("tickets", help="After-sales tickets: policies, carrier claim rules, API tokens.")

# Starting points for the demo, not legal advice: every seller must check the deadlines
# in their own carrier contracts and change them with `flask tickets carrier-rule`.
DEMO_CARRIER_RULES = (
    ("*", None, 30, "shipped"),
    ("dhl", None, 30, "shipped"),
    ("ups", "damaged", 60, "delivered"),
    ("ups", "lost", 60, "shipped"),
    ("usps", None, 60, "shipped"),
)


def set_policy(*, store_id: int | None, marketplace: str | None, window_days: int, threshold: Decimal | None,
               currency: str | None, warranty_days: int) -> ReturnPolicy:
    """Create or change the policy row for a store, a marketplace, or the default (both
    ``None``); commits."""
    row = db.session.scalar(select(ReturnPolicy).filter_by(store_id=store_id, marketplace=marketplace))
    row = row or ReturnPolicy(store_id=store_id, marketplace=marketplace)
    row.return_window_days, row.approval_threshold = window_days, threshold
    row.threshold_currency, row.warranty_days = currency, warranty_days
    db.session.add(row)
    db.session.commit()
    return row


def set_carrier_rule(carrier: str, kind: str | None, days: int, counted_from: str) -> CarrierClaimRule:
    """Create or change a carrier's claim deadline (``carrier`` lower-cased); commits."""
    carrier = carrier.strip().lower()
    row = db.session.scalar(select(CarrierClaimRule).filter_by(carrier=carrier, kind=kind))
    row = row or CarrierClaimRule(carrier=carrier, kind=kind)
    row.days, row.counted_from = days, counted_from
    db.session.add(row)
    db.session.commit()
    return row


def seed_demo_rules() -> None:
    """The demo's carrier rules and a default policy (14-day window, approval above 250
    in the store's currency), unless rows exist already."""
    for carrier, kind, days, counted_from in DEMO_CARRIER_RULES:
        if db.session.scalar(select(CarrierClaimRule).filter_by(carrier=carrier, kind=kind)) is None:
            set_carrier_rule(carrier, kind, days, counted_from)
    if db.session.scalar(select(ReturnPolicy).filter_by(store_id=None, marketplace=None)) is None:
        set_policy(store_id=None, marketplace=None, window_days=14, threshold=Decimal("250"), currency=None,
                   warranty_days=730)


def create_token(agent: Agent, name: str) -> str:
    """A new API token for ``agent`` (returned once; only its hash is stored); commits."""
    token = "hdk_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(agent=agent, name=name[:120], token_hash=ApiToken.digest(token)))
    db.session.commit()
    return token


@tickets_cli.command("policy")
@click.option("--store", "store_ref", default=None, help="Store id or name (omit for a marketplace or the default).")
@click.option("--marketplace", type=click.Choice(registered_kinds() + ["csv"]), default=None)
@click.option("--window-days", type=click.IntRange(0, 3650), required=True, help="Return window after delivery.")
@click.option("--threshold", default=None, help="Refunds above this need a manager (omit: none).")
@click.option("--currency", default=None, callback=checked(normalise_currency), help="Currency of the threshold.")
@click.option("--warranty-days", type=click.IntRange(0, 36500), default=730, show_default=True)
def policy(store_ref, marketplace, window_days, threshold, currency, warranty_days):
    """Set the return window and refund approval threshold of a store, a marketplace or the default."""
    store = find_store(store_ref) if store_ref else None
    if store and marketplace:
        raise click.BadParameter("give a store or a marketplace, not both", param_hint="--marketplace")
    amount = None
    if threshold is not None:
        try:
            amount = parse_amount(threshold, currency or (store.default_currency if store else "USD"))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--threshold") from None
        if amount < 0:
            raise click.BadParameter("the threshold cannot be negative", param_hint="--threshold")
    row = set_policy(store_id=store.id if store else None, marketplace=marketplace, window_days=window_days,
                     threshold=amount, currency=currency, warranty_days=warranty_days)
    click.echo(f"Policy {row.id}: {window_days}-day returns, approval above {amount if amount is not None else 'never'}.")


@tickets_cli.command("carrier-rule")
@click.argument("carrier")
@click.option("--kind", type=click.Choice(CLAIM_KINDS), default=None, help="Omit for every kind of claim.")
@click.option("--days", type=click.IntRange(0, 3650), required=True)
@click.option("--from", "counted_from", type=click.Choice(["shipped", "delivered"]), default="shipped", show_default=True)
def carrier_rule(carrier, kind, days, counted_from):
    """Set how many days CARRIER (or * for any) takes claims."""
    if not carrier.strip() or len(carrier) > 100:
        raise click.BadParameter("a carrier name of 1 to 100 characters", param_hint="CARRIER")
    row = set_carrier_rule(carrier, kind, days, counted_from)
    click.echo(f"{row.carrier} {row.kind or 'any claim'}: {row.days} days after {row.counted_from}.")


@tickets_cli.command("token-create")
@click.option("--agent", "email", required=True, callback=checked(clean_email))
@click.option("--name", default="API", show_default=True)
def token_create(email, name):
    """Make an API token acting as the agent with this e-mail (printed once)."""
    agent = db.session.scalar(select(Agent).filter_by(email=email))
    if agent is None:
        raise click.ClickException(f"No agent {email}.")
    click.echo(create_token(agent, name))


@tickets_cli.command("refunds-recover")
def refunds_recover():
    """Settle refunds a stopped process left "being made": each order is re-read from its
    marketplace, and the refund marked made or failed (safe to run again)."""
    done = recover_stuck_refunds()
    click.echo(f"{len(done.succeeded)} made, {len(done.failed)} failed, "
               f"{len(done.unreachable)} left (marketplace not reachable).")


@tickets_cli.command("macro-save")
@click.option("--name", required=True, help="Unique name agents pick the macro by.")
@click.option("--reply", default="", help="Message to the buyer; may use {buyer_name}, {order_number}, "
              "{tracking_number}, {tracking_link}, {agent_name}.")
@click.option("--status", type=click.Choice(MACRO_STATUSES), default=None, help="Status to set.")
@click.option("--tags", default="", help="Comma-separated tags to add.")
@click.option("--priority", type=click.Choice(PRIORITIES), default=None, help="Priority to set.")
def macro_save(name, reply, status, tags, priority):
    """Create the macro NAME, or change it if it exists."""
    existing = db.session.scalar(select(TicketMacro).filter_by(name=name.strip()))
    try:
        macro = save_macro(Actor("system"), macro=existing, name=name, reply=reply, status=status, tags=tags,
                           priority=priority)
    except TicketRuleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Macro {macro.id} {macro.name!r} saved.")
