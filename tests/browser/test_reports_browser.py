"""A manager in Chromium: the dashboard draws its charts with the locally served Chart.js
(no CSP violation, no script error), and the downloaded CSV is the table on the screen.
The buyer answers a survey in the same browser: the link's GET shows the form, the
button posts it."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.models import Order
from helpdesk.surveys import service as surveys
from helpdesk.surveys.models import Survey
from tests.browser.test_chat_browser import sign_in
from tickets import service as tickets
from tickets.service import Actor

expect.set_options(timeout=15_000)


def test_buyer_rates_and_the_manager_sees_it_charted(browser, app, serve, make_agent, order, smtp_server):
    lukas = make_agent(email="lukas@test.example", name="Lukas", team="EU")
    make_agent(email="mei@test.example", name="Mei", role="manager", time_zone="Asia/Shanghai")
    solved = utcnow() - timedelta(hours=3)
    ticket = tickets.create_ticket(Actor.of_agent(lukas), order=db.session.scalar(select(Order)), type="question",
                                   subject="Chávena partida", language="pt-BR", now=solved)
    tickets.assign(ticket, Actor.of_agent(lukas), agent_id=lukas.id, now=solved)
    tickets.set_status(ticket, Actor.of_agent(lukas), "solved", now=solved)
    assert surveys.send_due_surveys(utcnow()) == 1
    link = re.search(r"http://\S+/survey/\S+", smtp_server.messages[0].get_content()).group(0)
    url = serve(app).url
    errors: list[str] = []
    context = browser.new_context(base_url=url, accept_downloads=True)
    try:
        buyer = context.new_page()
        buyer.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        buyer.on("pageerror", lambda e: errors.append(str(e)))
        buyer.goto("/" + link.split("/", 3)[3])
        expect(buyer.locator("html")).to_have_attribute("lang", "pt-BR")
        assert db.session.scalar(select(Survey.rating)) is None
        db.session.rollback()  # SQLite: do not hold the write lock while the server answers
        buyer.locator("input[name=rating][value='2']").check()
        buyer.locator("#reason").select_option("slow")
        buyer.locator("#comment").fill("Demorou muito 😞")
        buyer.locator("#survey-form button[type=submit]").click()
        expect(buyer.locator("#survey-saved")).to_contain_text("2")
        context.clear_cookies()

        manager = context.new_page()
        manager.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        manager.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(manager, "mei@test.example")
        manager.goto("/surveys/follow-ups")
        expect(manager.locator("article.follow-up")).to_contain_text("Demorou muito 😞")
        manager.goto("/reports/?report=csat&by=agent")
        expect(manager.locator("body")).to_have_attribute("data-charts-drawn", "1")
        expect(manager.locator("#chart-groups")).to_have_attribute("data-points", "1")
        cells = manager.locator("#report-table tr").evaluate_all(
            "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))")
        assert cells[1][:5] == ["Lukas", "1", "1", "100.0%", "0.0%"]
        with manager.expect_download() as download:
            manager.get_by_role("link", name="Download CSV").first.click()
        text = open(download.value.path(), encoding="utf-8-sig").read()
        assert list(csv.reader(io.StringIO(text))) == cells
    finally:
        context.close()
    assert errors == []
