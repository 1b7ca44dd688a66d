"""The agent queue over HTTP (SQLite and PostgreSQL): views sorted by the next SLA due,
filters, SLA badges in the agent's zone, taking a ticket once, bulk actions and the
assignment rules. Pages read the real clock, so tickets are opened relative to it."""
from __future__ import annotations

import re
import threading
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.models import Agent
from tickets import service
from tickets.models import Ticket
from tickets.service import Actor
from tickets.sla import queue

UTC = timezone.utc


def ids_on(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-ticket="(\d+)"', page)]


@pytest.fixture
def setup(make_policy, make_order, make_agent):
    """Three open tickets with first-response clocks due in 30 min, 3 h and overdue by
    1 h (calendar hours), and one solved."""
    make_policy(name="Chat 4h", business=False, first_response_hours=4)
    author = make_agent(email="author@test.example", name="Author")
    now = utcnow().replace(microsecond=0)
    made = {}
    for name, age, language in (("soon", timedelta(hours=3, minutes=30), "de-AT"), ("later", timedelta(hours=1), "pt"),
                                ("late", timedelta(hours=5), "de"), ("solved", timedelta(hours=1), None)):
        made[name] = service.create_ticket(Actor.of_agent(author), order=make_order(f"40{len(made)}"), type="question",
                                           subject=f"Ticket {name}", language=language, now=now - age)
    service.set_status(made["solved"], Actor.of_agent(author), "solved", now=now)
    return made


def test_open_view_sorts_by_next_sla_due(client, login, setup):
    login(time_zone="America/New_York")
    page = client.get("/tickets/?tab=open").get_data(as_text=True)
    assert ids_on(page) == [setup["late"].id, setup["soon"].id, setup["later"].id]
    assert "overdue by 60 minutes" in page and "30 minutes left" in page and "3 hours left" in page
    due = (setup["later"].created_at + timedelta(hours=4)).astimezone(ZoneInfo("America/New_York"))
    # the badge's due time is in the agent's zone, with its offset
    assert f'{due.strftime("%-I:%M")}\u202f{due.strftime("%p")} GMT{due.strftime("%z")[:3]}:00">3 hours left' in page


def test_the_ticket_page_shows_its_targets(client, login, setup):
    login()
    page = client.get(f"/tickets/{setup['solved'].id}").get_data(as_text=True)
    table = page[page.index('id="sla-targets"'):page.index("</table>", page.index('id="sla-targets"'))]
    assert re.findall(r"<td>(first response|resolution)</td>\s*<td>([^<]+)</td>", table) == [
        ("first response", "not needed")]


def test_breaching_soon_breached_and_filters(client, login, setup, store):
    login()
    get = lambda query: ids_on(client.get(f"/tickets/?{query}").get_data(as_text=True))  # noqa: E731
    assert get("tab=breaching_soon") == [setup["soon"].id]
    assert get("tab=breached") == [setup["late"].id]
    assert get("tab=open&language=de") == [setup["late"].id, setup["soon"].id]
    assert get("tab=open&language=pt") == [setup["later"].id]
    assert get(f"tab=open&store={store.id}") == [setup["late"].id, setup["soon"].id, setup["later"].id]
    assert get("tab=open&type=refund") == []
    assert get("tab=solved") == [setup["solved"].id]
    for nonsense in ("tab=%3Cscript%3E", "language=%00%00", "store=abc", "store=99999999999999999999", "page=-5",
                     "language=" + "x" * 5000):
        response = client.get(f"/tickets/?{nonsense}")
        assert response.status_code == 200 and "<script>" not in response.get_data(as_text=True)


def test_take_gives_the_ticket_to_one_agent_only(client, login, setup, make_agent):
    me = login()
    other = make_agent(email="other@test.example", name="Other")
    response = client.post(f"/tickets/{setup['soon'].id}/take", data={"csrf_token": "x"})
    assert response.status_code in (400, 403)  # a forged form is refused
    client.application.config["WTF_CSRF_ENABLED"] = False
    try:
        assert client.post(f"/tickets/{setup['soon'].id}/take").status_code == 303
        queue.take(setup["later"].id, other, now=utcnow())
        response = client.post(f"/tickets/{setup['later'].id}/take")
        assert response.status_code == 409 and "Another agent has already taken" in response.get_data(as_text=True)
    finally:
        client.application.config["WTF_CSRF_ENABLED"] = True
    db.session.expire_all()
    assert db.session.get(Ticket, setup["soon"].id).assignee_id == me.id
    assert db.session.get(Ticket, setup["later"].id).assignee_id == other.id


def test_two_agents_taking_at_once_get_one_winner(app, setup, make_agent):
    agents = [make_agent(email=f"racer{i}@test.example", name=f"Racer {i}").id for i in range(2)]
    ticket_id, results, barrier = setup["late"].id, [], threading.Barrier(2)
    db.session.rollback()  # this thread's transaction would hold SQLite's write lock

    def race(agent_id):
        with app.app_context():
            agent = db.session.get(Agent, agent_id)
            db.session.rollback()  # end the read's transaction before racing
            barrier.wait()
            try:
                queue.take(ticket_id, agent, now=utcnow())
                results.append("won")
            except queue.AlreadyTaken:
                results.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=race, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["refused", "won"]
    assigned = db.session.scalars(select(Ticket.id).where(Ticket.assignee_id.in_(agents))).all()
    assert assigned == [ticket_id]


def test_bulk_actions(client, login, setup, make_agent):
    login()
    helper = make_agent(email="helper@test.example", name="Helper")
    client.application.config["WTF_CSRF_ENABLED"] = False
    try:
        chosen = [setup["soon"].id, setup["later"].id]
        response = client.post("/tickets/bulk?tab=open", data={"ids": chosen, "action": "assign", "agent_id": helper.id})
        assert response.status_code == 303 and response.location.endswith("/tickets/?tab=open")
        response = client.post("/tickets/bulk", data={"ids": [setup["late"].id], "action": "status", "status": "on_hold"})
        assert response.status_code == 303
        for bad in ({"ids": [], "action": "assign"}, {"ids": ["1; drop"], "action": "assign"},
                    {"ids": chosen, "action": "explode"}, {"ids": [str(i) for i in range(60)], "action": "take"}):
            response = client.post("/tickets/bulk", data=bad)
            assert response.status_code == 422, bad
        response = client.post("/tickets/bulk", data={"ids": chosen, "action": "status", "status": "bogus"},
                               follow_redirects=True)
        assert "Not done" in response.get_data(as_text=True)
    finally:
        client.application.config["WTF_CSRF_ENABLED"] = True
    db.session.expire_all()
    assert [db.session.get(Ticket, i).assignee_id for i in chosen] == [helper.id, helper.id]
    assert db.session.get(Ticket, setup["late"].id).status == "on_hold"
    assert [db.session.get(Ticket, i).status for i in chosen] == ["new", "new"]


def test_assignment_rules(app, setup, make_agent):
    ana = make_agent(email="ana@test.example", name="Ana", languages=["pt-BR", "en"])
    ben = make_agent(email="ben@test.example", name="Ben", languages=["de"])
    author = db.session.scalar(select(Agent).filter_by(email="author@test.example"))
    author.active = False
    db.session.commit()
    load = queue.open_load()
    assert queue.choose_assignee(setup["later"], "language", load=load) == ana
    assert queue.choose_assignee(setup["soon"], "language", load=load) == ben
    first = queue.auto_assign(setup["late"], "round_robin", Actor("system"), now=utcnow(), load=load)
    second = queue.auto_assign(setup["later"], "round_robin", Actor("system"), now=utcnow() + timedelta(seconds=1),
                               load=load)
    assert {first, second} == {ana, ben}
    assert load == {ana.id: 1, ben.id: 1}
    load[ben.id] = 5
    assert queue.choose_assignee(setup["soon"], "least_loaded", load=load) == ana
    with pytest.raises(service.InvalidTicket):
        queue.choose_assignee(setup["soon"], "coin_toss", load=load)
