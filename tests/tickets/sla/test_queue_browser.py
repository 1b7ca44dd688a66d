"""The queue in Chromium: SLA badges in the agent's zone, a new ticket appearing live
(Socket.IO), ticked boxes kept across the refresh, and a bulk take."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from tests.browser.test_chat_browser import sign_in
from tickets import service
from tickets.service import Actor
from tickets.sla.service import fire_due

expect.set_options(timeout=15_000)


def test_queue_updates_live_and_takes_in_bulk(browser, app, serve, make_agent, make_policy, make_order):
    make_policy(name="24 hours", business=False, first_response_hours=24)
    me = make_agent(email="lukas@test.example", name="Lukas", time_zone="Asia/Shanghai").id
    author = Actor.of_agent(make_agent(email="author@test.example", name="Author"))
    orders = [make_order("7001"), make_order("7002")]
    now = utcnow().replace(microsecond=0)

    def open_ticket(order, subject, age):
        """Open a ticket; end this thread's transaction (SQLite: it would hold the write lock)."""
        ticket_id = service.create_ticket(author, order=order, type="question", subject=subject, now=now - age).id
        db.session.rollback()
        return ticket_id

    first = open_ticket(orders[0], "<b>First</b> question", timedelta(hours=2))
    context = browser.new_context(base_url=serve(app).url)
    try:
        page = context.new_page()
        sign_in(page)
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto("/tickets/")
        row = page.locator(f'tr[data-ticket="{first}"]')
        expect(row.locator(".sla-badge")).to_have_text("22 hours left")
        expect(row).to_contain_text("<b>First</b> question")
        due = (now + timedelta(hours=22)).astimezone(ZoneInfo("Asia/Shanghai"))  # in the agent's zone
        expect(row.locator(".sla-badge")).to_have_attribute(
            "title", f"first response · {due.strftime('%-m/%-d/%y, %-I:%M')}\u202f{due.strftime('%p')} GMT+08:00")
        row.get_by_role("checkbox").check()
        late = open_ticket(orders[1], "Overdue question", timedelta(hours=25))
        late_row = page.locator(f'tr[data-ticket="{late}"]')
        expect(late_row.locator(".sla-badge")).to_have_text("overdue by 60 minutes")
        expect(page.locator("#queue-rows tr")).to_have_count(2)
        assert page.locator("#queue-rows tr").first.get_attribute("data-ticket") == str(late)
        expect(row.get_by_role("checkbox")).to_be_checked()
        fire_due(utcnow())  # the late ticket's first response breaches: the console hears it
        expect(page.locator("#sla-notice")).to_have_text(f"SLA escalated: ticket #{late}, first response")
        db.session.rollback()
        page.get_by_label("Action").select_option("take")
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_text("Done for 1 tickets.")).to_be_visible()
        expect(page.locator(f'tr[data-ticket="{first}"]')).to_contain_text("Lukas")
        expect(page.locator(f'tr[data-ticket="{late}"]')).not_to_contain_text("Lukas")
    finally:
        context.close()
    assert service.get_ticket(first).assignee_id == me
