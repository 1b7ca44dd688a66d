"""The issue's "done when", in Chromium against the local sandbox marketplace: an agent
turns a chat about a damaged parcel into a logistics claim on the right order line
(carrier, tracking and claim deadline shown), and a return with a partial refund goes
through the sandbox's Shopify refund API and shows on the order page."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk.extensions import db
from tests.browser.test_chat_browser import sign_in, start_chat
from tests.tickets.conftest import order_record
from tickets.cli import set_carrier_rule
from tickets.models import Ticket

expect.set_options(timeout=15_000)
RECENT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)  # pages use the real clock
LINES = (("MUG", "Blue mug", 2, "12.50"), ("VASE", "Glass vase", 1, "30.00"))


def test_a_damaged_parcel_chat_becomes_a_claim_and_a_partial_refund_goes_through_the_sandbox(
        browser, app, serve, market, make_agent):
    set_carrier_rule("dhl", None, 30, "shipped")
    record = order_record("4030", lines=LINES, shipping="4.90", delivered_at=RECENT, placed_at=RECENT - timedelta(days=3))
    # Shopify's order name carries the hash itself ("#4030"), as the sandbox adds one
    sandbox, _, order = market("shopify", replace(record, number="4030"))
    make_agent(email="lukas@test.example", name="Lukas")
    order_id, number, email = order.id, order.number, order.customer.email
    mug_id = next(line.id for line in order.lines if line.sku == "MUG")
    db.session.commit()  # end the test's transaction: on SQLite it would hold the write lock
    url = serve(app).url
    buyer_ctx, agent_ctx = browser.new_context(base_url=url), browser.new_context(base_url=url)
    try:
        agent = agent_ctx.new_page()
        sign_in(agent)
        agent.get_by_label("Chat status").select_option("available")
        buyer = buyer_ctx.new_page()
        # the sandbox gives the order's buyer an address of its own
        start_chat(buyer, "Ana", order=number, email=email)
        buyer.get_by_label("Message").fill("The glass vase arrived smashed, the box is crushed.")
        buyer.get_by_role("button", name="Send").click()
        expect(buyer.locator("#chat-agent")).to_contain_text("Lukas")
        agent.locator("#assigned-toast a").click()
        expect(agent.locator("#messages .body")).to_have_text(["The glass vase arrived smashed, the box is crushed."])

        # the chat becomes a logistics claim on the vase's line; order and buyer carry over
        agent.locator("#make-ticket").click()
        expect(agent.locator("h1")).to_contain_text("#4030")
        agent.get_by_label("Type").select_option("logistics_claim")
        agent.get_by_label("Subject").fill("Vase arrived broken")
        agent.get_by_label("Glass vase").fill("1")
        agent.get_by_label("What happened to the parcel").select_option("damaged")
        agent.get_by_label("Declared value").fill("30.00")
        agent.get_by_role("button", name="Open ticket").click()
        expect(agent.locator("h1")).to_contain_text("Vase arrived broken")
        claim = agent.locator("section", has=agent.get_by_role("heading", name="Logistics claim"))
        expect(claim).to_contain_text("DHL")
        expect(claim).to_contain_text("JD00024030")
        deadline = (RECENT - timedelta(days=2) + timedelta(days=30)).strftime("%b %-d, %Y")
        expect(claim.locator("dd").nth(3)).to_contain_text(deadline)
        expect(agent.locator("body")).to_contain_text("1 × Glass vase")
        db.session.expire_all()
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.type, ticket.channel, ticket.order_id, [l.order_line.sku for l in ticket.lines]) == (
            "logistics_claim", "chat", order_id, ["VASE"])
        assert ticket.conversation is not None and ticket.claim.declared_value == 30
        db.session.commit()

        # a return of one mug, refunded in part through the sandbox's Shopify
        agent.goto(f"/tickets/new?order={order_id}")
        agent.get_by_label("Type").select_option("return")
        agent.get_by_label("Subject").fill("Return one mug")
        agent.get_by_label("Blue mug").fill("1")
        agent.get_by_role("button", name="Open ticket").click()
        expect(agent.locator("h1")).to_contain_text("Return one mug")
        agent.locator(f"#refund-qty_{mug_id}").fill("1")
        agent.get_by_label("Reason (the marketplace shows it)").fill("Mug returned")
        agent.get_by_role("button", name="Refund", exact=True).click()
        refunds = agent.locator("#refunds")
        expect(refunds.locator(".refund-succeeded")).to_contain_text("€12.50")
        expect(refunds.locator(".refund-succeeded")).to_contain_text(re.compile(r"marketplace refund \d+"))
        expect(refunds).to_contain_text("Refunded on this order: €12.50 / €59.90")
        made = sandbox.catalogue.shopify_orders[0]["refunds"]
        assert [t["amount"] for r in made for t in r["transactions"]] == ["12.50"]

        agent.goto(f"/orders/{order_id}")
        expect(agent.locator("ul.refunds")).to_contain_text("€12.50")
        expect(agent.locator("ul.refunds")).to_contain_text("1 × Blue mug")
        expect(agent.locator("body")).to_contain_text("Refunded so far: €12.50")
    finally:
        buyer_ctx.close()
        agent_ctx.close()
