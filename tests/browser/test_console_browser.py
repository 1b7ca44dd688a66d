"""An agent signs in with a real browser and finds a German buyer's order lines."""
from __future__ import annotations

import csv

import pytest
from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.marketplace.csv_retail import parse_online_retail
from helpdesk.marketplace.sync import import_pages
from helpdesk.models import Store

expect.set_options(timeout=15_000)


@pytest.fixture
def live_console(app, serve, make_agent, sample_data):
    path = sample_data / "online-retail" / "2010-12-08.csv"
    store = Store(kind="csv", name="Online Retail", default_currency="GBP", time_zone="Europe/London")
    db.session.add(store)
    db.session.commit()
    with path.open("rb") as handle:
        pages, _ = parse_online_retail(handle, source=path.name)
    import_pages(store, pages, source=path.name)
    make_agent(email="lukas@test.example", name="Lukas", time_zone="Europe/Berlin")
    with path.open(newline="") as handle:
        german = next(r for r in csv.DictReader(handle) if r["Country"] == "Germany" and r["CustomerID"])
    return serve(app).url, german


def test_agent_finds_a_german_buyer_and_the_order_lines(page, live_console):
    url, german = live_console
    customer = str(int(float(german["CustomerID"])))
    page.goto(url + "/buyers")
    expect(page).to_have_url(url + "/login?next=%2Fbuyers")
    page.get_by_label("E-mail").fill("lukas@test.example")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Buyers")).to_be_visible()

    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#buyers tbody tr").first).to_contain_text("Germany")
    page.get_by_role("link", name=f"Customer {customer}", exact=True).click()

    expect(page.get_by_role("heading", name=f"Customer {customer}")).to_be_visible()
    first_order = page.locator("article.order").first
    expect(first_order.locator("table.lines")).to_contain_text(german["Description"].strip())
    expect(first_order.locator("table.lines")).to_contain_text(german["StockCode"])
    expect(first_order).to_contain_text("£")
