"""``flask`` commands: agents, stores, order sync and import, figures, and the demo."""
from __future__ import annotations

import json
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.marketplace import registered_kinds
from helpdesk.marketplace.base import MarketplaceError
from helpdesk.marketplace.csv_retail import CsvFormatError, parse_online_retail
from helpdesk.marketplace.sync import SyncSummary, import_pages, sync_store
from helpdesk.models import AGENT_ROLES, Agent, Customer, Order, Refund, Store, Team
from helpdesk.money import normalise_currency
from helpdesk.validation import (
    InvalidInput,
    clean_credentials_ref,
    clean_email,
    clean_http_url,
    clean_language_tag,
    clean_locale,
    clean_name,
    clean_time_zone,
)

agents_cli = AppGroup("agents", help="Helpdesk agents.")
stores_cli = AppGroup("stores", help="Marketplace stores.")
orders_cli = AppGroup("orders", help="Orders: sync from marketplaces, import CSV, figures.")


def parse_now(value: str | None) -> datetime:
    """A ``--now`` option as an aware UTC instant (ISO 8601; a value without offset is
    UTC), or the current instant when empty.

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


def checked(clean):
    """A click callback running a :mod:`helpdesk.validation` check on the option's value."""

    def callback(_ctx, param, value):
        if value is None:
            return None
        try:
            return clean(value)
        except ValueError as exc:  # InvalidInput, UnknownCurrency
            raise click.BadParameter(str(exc), param=param) from None

    return callback


def create_agent(email: str, name: str, password: str, *, role: str = "agent", team: str | None = None,
                 time_zone: str = "UTC", locale: str = "en", languages: list[str] | None = None) -> Agent:
    """Create (or update the password and profile of) the agent with ``email``; commits.

    Raises:
        InvalidInput: a value fails its check in :mod:`helpdesk.validation`, or ``role``
            is not one of :data:`~helpdesk.models.AGENT_ROLES`.
    """
    if role not in AGENT_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(AGENT_ROLES)}")
    email = clean_email(email)
    name, time_zone, locale = clean_name(name, "The name", 120), clean_time_zone(time_zone), clean_locale(locale)
    languages = [clean_language_tag(tag) for tag in languages or ["en"]]
    agent = db.session.scalar(select(Agent).filter_by(email=email)) or Agent(email=email)
    agent.display_name, agent.role, agent.time_zone, agent.locale = name, role, time_zone, locale
    agent.languages = languages
    if team:
        team = clean_name(team, "The team", 120)
        agent.team = db.session.scalar(select(Team).filter_by(name=team)) or Team(name=team)
    agent.set_password(password)
    db.session.add(agent)
    db.session.commit()
    return agent


@agents_cli.command("create")
@click.option("--email", required=True, callback=checked(clean_email))
@click.option("--name", required=True, help="Display name buyers and colleagues see.",
              callback=checked(lambda v: clean_name(v, "The name", 120)))
@click.option("--role", type=click.Choice(AGENT_ROLES), default="agent", show_default=True)
@click.option("--team", default=None, callback=checked(lambda v: clean_name(v, "The team", 120)))
@click.option("--time-zone", default="UTC", show_default=True, callback=checked(clean_time_zone))
@click.option("--locale", default="en", show_default=True, callback=checked(clean_locale))
@click.option("--languages", default="en", show_default=True, help="Comma-separated BCP 47 tags.",
              callback=checked(lambda v: [clean_language_tag(tag) for tag in v.split(",")]))
@click.option("--max-chats", type=click.IntRange(1, 50), default=5, show_default=True,
              help="Open chats routed to the agent at most (round-robin skips a full agent).")
@click.password_option(help="Prompted for when not given.")
def agents_create(email, name, role, team, time_zone, locale, languages, max_chats, password):
    """Create an agent, or reset an existing agent's password and profile."""
    if len(password) < 8 or not password.isprintable():
        raise click.BadParameter("use at least 8 printable characters", param_hint="--password")
    agent = create_agent(email, name, password, role=role, team=team, time_zone=time_zone, locale=locale,
                         languages=languages)
    agent.max_chats = max_chats
    db.session.commit()
    click.echo(f"Agent {agent.email} ({agent.role}) is ready.")


@stores_cli.command("add")
@click.option("--kind", type=click.Choice([*registered_kinds(), "csv"]), required=True)
@click.option("--name", required=True, callback=checked(lambda v: clean_name(v, "The store name", 200)))
@click.option("--base-url", default=None, help="API root, e.g. https://example.myshopify.com",
              callback=checked(clean_http_url))
@click.option("--credentials-ref", default=None, help="Where the API secret lives: env:VARIABLE",
              callback=checked(clean_credentials_ref))
@click.option("--currency", default="USD", show_default=True, callback=checked(normalise_currency))
@click.option("--time-zone", default="UTC", show_default=True, callback=checked(clean_time_zone))
@click.option("--webhook-secret", default=None, help="The secret the marketplace signs webhooks with.")
def stores_add(kind, name, base_url, credentials_ref, currency, time_zone, webhook_secret):
    """Add a store (a seller's account on one marketplace)."""
    if kind != "csv" and not base_url:
        raise click.BadParameter(f"a {kind} store needs its API root", param_hint="--base-url")
    store = Store(kind=kind, name=name, base_url=base_url, credentials_ref=credentials_ref,
                  default_currency=currency, time_zone=time_zone, webhook_secret=webhook_secret)
    db.session.add(store)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(f"A store named {name!r} already exists.") from None
    click.echo(f"Store {store.id}: {store.name} ({store.kind}).")


@stores_cli.command("list")
def stores_list():
    """List stores with their order counts, as JSON lines."""
    for store in db.session.scalars(select(Store).order_by(Store.id)):
        count = db.session.scalar(select(func.count()).select_from(Order).filter_by(store_id=store.id))
        click.echo(json.dumps({"id": store.id, "kind": store.kind, "name": store.name, "orders": count,
                               "synced_until": store.synced_until.isoformat() if store.synced_until else None}))


@stores_cli.command("identity-secret")
@click.argument("store_ref", metavar="STORE")
@click.option("--rotate", is_flag=True, help="Replace the secret (buyers signed with the old one are refused).")
def stores_identity_secret(store_ref, rotate):
    """Print the secret the store's server signs buyer ids with for the chat widget
    (hex HMAC-SHA256 of the buyer id), creating it on first use."""
    from chat.identity import new_identity_secret

    store = find_store(store_ref)
    if rotate or not store.identity_secret:
        store.identity_secret = new_identity_secret()
        db.session.commit()
    click.echo(store.identity_secret)


def find_store(ref: str) -> Store:
    """A store by id or exact name.

    Raises:
        click.ClickException: no such store (lists the ones that exist).
    """
    store = db.session.get(Store, int(ref)) if ref.isdigit() else None
    store = store or db.session.scalar(select(Store).filter_by(name=ref))
    if store is None:
        names = ", ".join(f"{s.id}={s.name}" for s in db.session.scalars(select(Store))) or "none yet"
        raise click.ClickException(f"Unknown store {ref!r}. Stores: {names}.")
    return store


def report(summary: SyncSummary) -> None:
    """Print the run's failures (stderr) and its counts as JSON (stdout)."""
    for failure in summary.failures[:50]:
        click.echo(f"  failed: {failure.reason}", err=True)
    if len(summary.failures) > 50:
        click.echo(f"  ... and {len(summary.failures) - 50} more (see sync run {summary.run_id})", err=True)
    click.echo(json.dumps({k: v for k, v in summary.as_dict().items() if k != "failures"}))


def run_sync(store: Store, full: bool = False) -> SyncSummary:
    """Sync ``store`` with a progress bar on stderr."""
    if store.kind not in registered_kinds():
        raise click.ClickException(f"Store {store.name!r} is a {store.kind} store: fill it with `flask orders import-csv`.")
    with click.progressbar(length=0, label=f"Syncing {store.name}", file=sys.stderr, show_eta=False,
                           item_show_func=lambda s: s) as bar:
        def progress(summary: SyncSummary) -> None:
            bar.update(0, f"created {summary.created} updated {summary.updated} skipped {summary.skipped} failed {summary.failed}")
        try:
            return sync_store(store, full=full, progress=progress)
        except MarketplaceError as exc:
            raise click.ClickException(f"Sync of {store.name} stopped: {exc}") from None


@orders_cli.command("sync")
@click.argument("store_ref")
@click.option("--full", is_flag=True, help="Ignore the saved cursor and high-water mark: read every order.")
def orders_sync(store_ref, full):
    """Pull orders from a store's marketplace (incremental, resumable)."""
    report(run_sync(find_store(store_ref), full))


def run_import(store: Store, path: Path, encoding: str = "utf-8-sig") -> SyncSummary:
    """Import one Online Retail CSV into ``store`` with a progress bar on stderr."""
    if store.kind != "csv":
        raise click.ClickException(
            f"Store {store.name!r} is a {store.kind} store, filled by `flask orders sync`; import CSV into a csv store."
        )
    try:
        with path.open("rb") as handle:
            pages, skipped = parse_online_retail(handle, source=path.name, currency=store.default_currency,
                                                 time_zone=store.time_zone, encoding=encoding)
    except CsvFormatError as exc:
        raise click.ClickException(str(exc)) from None
    with click.progressbar(pages, label=f"Importing {path.name}", file=sys.stderr) as bar:
        return import_pages(store, bar, source=path.name, skipped=skipped)


@orders_cli.command("import-csv")
@click.argument("store_ref")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", default="utf-8-sig", show_default=True)
def orders_import_csv(store_ref, files, encoding):
    """Import Online Retail CSV files (InvoiceNo,StockCode,...,Country) into a store."""
    store = find_store(store_ref)
    for path in files:
        report(run_import(store, path, encoding))


def order_stats() -> dict:
    """Counts of stores, orders, buyers, buyer countries and refunds."""
    def count(stmt):
        return db.session.scalar(stmt) or 0
    return {
        "stores": count(select(func.count()).select_from(Store)),
        "orders": count(select(func.count()).select_from(Order)),
        "buyers": count(select(func.count()).select_from(Customer)),
        "countries": count(select(func.count(distinct(Customer.country)))),
        "refunds": count(select(func.count()).select_from(Refund)),
    }


@orders_cli.command("stats")
def orders_stats():
    """Print the counts of stores, orders, buyers, countries and refunds as JSON."""
    click.echo(json.dumps(order_stats()))


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    from chat.cli import chat_cli
    from helpdesk.demo import demo_cli
    from helpdesk.scheduler import scheduler_cli
    from helpdesk.translation.cli import translate_cli

    for group in (agents_cli, stores_cli, orders_cli, chat_cli, demo_cli, translate_cli, scheduler_cli):
        app.cli.add_command(group)


def random_password() -> str:
    """A password for a demo agent, printed once."""
    return secrets.token_urlsafe(9)
