"""The demo: a local sandbox marketplace, and a seed that pulls its orders through the
real connectors (``flask demo sandbox``, ``flask demo seed``; ``scripts/demo.sh`` runs both)."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.serving import make_server

from helpdesk.cli import create_agent, order_stats, random_password, report, run_import, run_sync
from helpdesk.extensions import db
from helpdesk.marketplace.sandbox import DEMO_DATA, create_sandbox_app, demo_catalogue
from helpdesk.models import Store

demo_cli = AppGroup("demo", help="Demo data on a local sandbox marketplace.")

# Credentials of the local sandbox only; real stores take theirs from the environment.
SANDBOX_SHOPIFY_TOKEN = "shpat_sandbox_demo"
SANDBOX_WOO_KEY, SANDBOX_WOO_SECRET = "ck_sandbox_demo", "cs_sandbox_demo"
DEMO_AGENTS = (
    ("admin@helpdesk.example", "Ada Admin", "admin", "UTC", "en", ["en"]),
    ("manager@helpdesk.example", "Mei Manager", "manager", "Asia/Shanghai", "en", ["en", "zh-Hans"]),
    ("agent@helpdesk.example", "Lukas Agent", "agent", "Europe/Berlin", "en", ["en", "de"]),
    ("agente@helpdesk.example", "Ana Agente", "agent", "America/Sao_Paulo", "en", ["en", "pt-BR", "es"]),
)


@demo_cli.command("env")
def env():
    """Print the shell exports of the sandbox stores' credentials (for ``eval``)."""
    click.echo(f"export DEMO_SHOPIFY_TOKEN={SANDBOX_SHOPIFY_TOKEN}")
    click.echo(f"export DEMO_WOO_CREDENTIALS={SANDBOX_WOO_KEY}:{SANDBOX_WOO_SECRET}")


@demo_cli.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5055, show_default=True)
def sandbox(host, port):
    """Serve the sandbox marketplace (Shopify and WooCommerce APIs) until stopped."""
    app = create_sandbox_app(demo_catalogue(), shopify_token=SANDBOX_SHOPIFY_TOKEN,
                             woo_key=SANDBOX_WOO_KEY, woo_secret=SANDBOX_WOO_SECRET)
    click.echo(f"Sandbox marketplace on http://{host}:{port}", err=True)
    make_server(host, port, app, threaded=True).serve_forever()


def _store(name: str, **fields) -> Store:
    store = db.session.scalar(select(Store).filter_by(name=name)) or Store(name=name)
    for key, value in fields.items():
        setattr(store, key, value)
    db.session.add(store)
    db.session.commit()
    return store


@demo_cli.command("seed")
@click.option("--sandbox-url", default="http://127.0.0.1:5055", show_default=True)
def seed(sandbox_url):
    """Create demo agents and stores, sync both sandbox shops, import the CSV days."""
    shopify = _store("Online Retail UK (Shopify)", kind="shopify", base_url=sandbox_url,
                     credentials_ref="env:DEMO_SHOPIFY_TOKEN", default_currency="GBP", time_zone="Europe/London",
                     webhook_secret="demo-shopify-webhook-secret")
    woo = _store("Online Retail EU (WooCommerce)", kind="woocommerce", base_url=sandbox_url,
                 credentials_ref="env:DEMO_WOO_CREDENTIALS", default_currency="GBP", time_zone="Europe/London",
                 webhook_secret="demo-woo-webhook-secret")
    archive = _store("Online Retail archive (CSV)", kind="csv", default_currency="GBP", time_zone="Europe/London")
    for store in (shopify, woo):
        report(run_sync(store))
    for path in sorted((DEMO_DATA / "online-retail").glob("*.csv"))[14:]:
        report(run_import(archive, path))
    from faq.cli import seed_demo
    from tickets.cli import seed_demo_rules

    seed_demo_rules()  # carrier claim deadlines and a default return policy, as data
    click.echo(f"FAQ: {json.dumps(seed_demo().__dict__)}")
    click.echo("Demo agents (e-mail / password):")
    for email, name, role, zone, locale, languages in DEMO_AGENTS:
        password = random_password()
        create_agent(email, name, password, role=role, team="After-sales", time_zone=zone, locale=locale,
                     languages=languages)
        click.echo(f"  {role:8} {email:28} {password}")
    from tickets.sla.demo import seed_demo_sla

    click.echo(f"SLA: calendar, policies and {seed_demo_sla()} demo tickets")
    click.echo(json.dumps(order_stats()))
