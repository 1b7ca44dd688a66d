"""Benchmark: order sync rate through the Shopify connector against the local sandbox.

Serves the demo's Shopify orders (UCI Online Retail rendered in Shopify's REST format,
replicated with new ids to reach the size asked for) from a sandbox marketplace in a
separate process, then times a full ``sync_store`` into a fresh SQLite file and a fresh
PostgreSQL database. Each figure is orders stored per second of wall time, end to end
(HTTP, JSON, normalising, upserting, committing page by page).

    .venv/bin/python bench/orders.py [--quick] [--orders N] [--postgres URL]

The last line reads ``orders sqlite_per_s=... postgres_per_s=...``.
"""
from __future__ import annotations

import argparse
import copy
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.common import free_port, machine, postgres_database, wait_for  # noqa: E402

TOKEN = "bench-token"


def catalogue_of(size: int):
    from helpdesk.marketplace.sandbox import Catalogue, demo_catalogue

    base = demo_catalogue().shopify_orders
    orders = []
    for copy_number in range(-(-size // len(base))):
        for order in base:
            if len(orders) == size:
                break
            replica = copy.deepcopy(order)
            replica["id"] = order["id"] + copy_number * 10_000_000_000
            replica["name"] = f"{order['name']}-{copy_number}"
            if replica.get("customer"):
                replica["customer"]["id"] += copy_number * 10_000_000
            orders.append(replica)
    return Catalogue(shopify_orders=orders)


def serve_sandbox(port: int, size: int) -> None:
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from helpdesk.marketplace.sandbox import create_sandbox_app

    app = create_sandbox_app(catalogue_of(size), shopify_token=TOKEN, woo_key="k", woo_secret="s")
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def time_sync(database_url: str, sandbox_url: str) -> tuple[int, float]:
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.marketplace.sync import sync_store
    from helpdesk.models import Store

    os.environ["BENCH_SHOPIFY_TOKEN"] = TOKEN
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
        logging.getLogger("alembic").setLevel(logging.WARNING)
        store = Store(kind="shopify", name="bench", base_url=sandbox_url, credentials_ref="env:BENCH_SHOPIFY_TOKEN",
                      default_currency="GBP")
        db.session.add(store)
        db.session.commit()
        start = time.perf_counter()
        summary = sync_store(store)
        elapsed = time.perf_counter() - start
        assert summary.failed == 0, summary.failures[:3]
        db.engine.dispose()
        return summary.created, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 orders (under a minute)")
    parser.add_argument("--orders", type=int, default=None, help="orders to sync (default 5000, quick 600)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    size = args.orders or (600 if args.quick else 5000)

    port = free_port()
    sandbox = multiprocessing.Process(target=serve_sandbox, args=(port, size), daemon=True)
    sandbox.start()
    wait_for(port, "sandbox")
    sandbox_url = f"http://127.0.0.1:{port}"
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"orders: {size} Shopify orders (Online Retail rendered by the sandbox), page size 250, one run each")
    rates = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            created, elapsed = time_sync(f"sqlite:///{tmp}/bench.sqlite3", sandbox_url)
            rates["sqlite"] = created / elapsed
            print(f"sqlite:     {created} orders in {elapsed:.2f} s = {rates['sqlite']:.0f} orders/s")
        try:
            admin, name, url = postgres_database(args.postgres)
        except Exception as exc:  # noqa: BLE001 — report and go on without PostgreSQL
            print(f"postgresql: not measured ({str(exc).splitlines()[0]})")
            rates["postgres"] = float("nan")
        else:
            try:
                created, elapsed = time_sync(url.replace("postgresql://", "postgresql+psycopg://"), sandbox_url)
                rates["postgres"] = created / elapsed
                print(f"postgresql: {created} orders in {elapsed:.2f} s = {rates['postgres']:.0f} orders/s")
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
    finally:
        sandbox.terminate()
    print(f"orders sqlite_per_s={rates['sqlite']:.1f} postgres_per_s={rates['postgres']:.1f}")


if __name__ == "__main__":
    main()
