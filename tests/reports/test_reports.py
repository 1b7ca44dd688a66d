"""Reports on SQLite and PostgreSQL: figures equal an independent computation from the raw
rows of a generated data set (solves, pauses, reopenings, excluded cases, surveys with
every rating, SLA targets met and missed under a business-hours policy); date ranges are days in the viewer's time zone (DST included); the CSV is
the page's table; agents see their own figures only."""
from __future__ import annotations

import csv
import io
import math
import random
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.marketplace.records import CustomerRecord, LineRecord, OrderRecord
from helpdesk.marketplace.sync import apply_order
from helpdesk.models import Order, Store
from helpdesk.reports.queries import REPORTS, date_range, percentile
from helpdesk.surveys import service as surveys
from helpdesk.surveys.models import Survey
from tickets import service as tickets
from tickets.models import Ticket, TicketEvent
from tickets.service import Actor
from tickets.sla.models import SlaTarget
from tickets.sla.service import fire_due

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
BEGIN = datetime(2024, 3, 18, 0, 0, tzinfo=UTC)  # three weeks of cases, across the DST change of 31 March
DIMENSION_OF_TICKET = {"agent": "assignee_id", "team": "team_id", "type": "type", "store": "store_id",
                       "language": "language"}
SURVEY_ATTRIBUTE = {"agent": "agent_id", "team": "team_id", "type": "ticket_type", "store": "store_id",
                    "marketplace": "marketplace", "language": "language", "country": "country"}


def make_order(store: Store, number: str, email: str, country: str) -> Order:
    placed = datetime(2024, 3, 1, tzinfo=UTC)
    apply_order(store, OrderRecord(
        external_id=number, number=f"#{number}", currency="EUR", subtotal=Decimal("10.00"), shipping=Decimal(0),
        tax=Decimal(0), total=Decimal("10.00"), financial_status="paid", fulfillment_status="fulfilled",
        placed_at=placed, updated_at=placed, customer=CustomerRecord(number, f"Buyer {number}", email, country),
        lines=(LineRecord(f"{number}-1", "MUG", "Mug", 1, Decimal("10.00"), Decimal("10.00")),)))
    db.session.commit()
    return db.session.scalar(select(Order).where(Order.store_id == store.id, Order.external_id == number))


@pytest.fixture
def dataset(app, make_agent, make_policy, smtp_server):
    """50 tickets by 4 agents in 2 teams, 2 stores (shopify, woocommerce), buyers in 4
    countries and languages; each ticket is solved, paused, reopened and solved again at
    random instants; some are excluded; surveys are sent and answered 1–5 or not at all;
    SLA targets under a Berlin business-hours policy, met or missed (the scheduler's scan
    marks the ones never achieved)."""
    rng = random.Random(20240318)
    make_policy(first_response_hours=4, next_response_hours=8, resolution_hours=24)
    agents = [make_agent(email=f"a{i}@test.example", name=name, team=team)
              for i, (name, team) in enumerate([("Ana", "EU"), ("Bo", "EU"), ("=HYPERLINK(\"x\")", "Asia"),
                                                ("Chen", "Asia")])]
    stores = [Store(kind="shopify", name="Shop A", default_currency="EUR"),
              Store(kind="woocommerce", name="Woo B", default_currency="EUR")]
    db.session.add_all(stores)
    db.session.commit()
    buyers = [("de", "DE", "de-DE"), ("fr", "FR", "fr-FR"), ("jp", "JP", "ja"), ("br", "BR", None)]
    orders = [(make_order(stores[i % 2], f"{9000 + i}", f"{b[0]}{i}@example.com", b[1]), b[2])
              for i, b in enumerate(buyers * 3)]
    for n in range(50):
        at = BEGIN + timedelta(minutes=rng.randrange(0, 21 * 24 * 60))
        order, language = rng.choice(orders)
        agent = rng.choice(agents)
        ticket = tickets.create_ticket(Actor.of_agent(agent), order=order, subject=f"Case {n}", language=language,
                                       type=rng.choice(["question", "order_change"]), now=at)
        if rng.random() < 0.9:
            tickets.assign(ticket, Actor.of_agent(agent), agent_id=agent.id, now=at)
        step = lambda: timedelta(minutes=rng.randrange(10, 3 * 24 * 60))  # noqa: E731
        if rng.random() < 0.3:
            at += step()
            tickets.set_status(ticket, Actor.of_agent(agent), "pending", message="Photo?", now=at)
            at += step()
            tickets.add_message(ticket, Actor.of_buyer(ticket.customer_id), "Here", now=at)
            at += step()
            tickets.add_message(ticket, Actor.of_agent(agent), "Thank you, the refund is on its way.", now=at)
        if rng.random() < 0.1:
            surveys.exclude_ticket(ticket, rng.choice(["spam", "test"]))
        if rng.random() < 0.8:
            at += step()
            tickets.set_status(ticket, Actor.of_agent(agent), "solved", now=at)
            if rng.random() < 0.3:
                at += step()
                tickets.set_status(ticket, Actor.of_agent(agent), "open", now=at)
                at += step()
                tickets.set_status(ticket, Actor.of_agent(agent), "solved", now=at)
    surveys.send_due_surveys(BEGIN + timedelta(days=60))
    for survey in db.session.scalars(select(Survey)).all():
        roll = rng.random()
        if roll < 0.75:
            surveys.record_answer(survey, rating=rng.randint(1, 5), now=BEGIN + timedelta(days=61))
    # The sent instants spread over the weeks like the solves (the send run above was one moment).
    for survey in db.session.scalars(select(Survey)).all():
        survey.sent_at = survey.due_at
    db.session.commit()
    fire_due(BEGIN + timedelta(days=60))
    return agents


def independent_csat(first: date, last: date, zone: ZoneInfo, key: str, agent_id=None) -> dict:
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    end = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)  # wall clock: next midnight
    rows = db.session.execute(select(Survey, Ticket.excluded_as).outerjoin(Ticket, Ticket.id == Survey.ticket_id)).all()
    groups = defaultdict(list)
    for survey, excluded in rows:
        if excluded is None and start <= survey.sent_at < end and (agent_id is None or survey.agent_id == agent_id):
            groups[getattr(survey, SURVEY_ATTRIBUTE[key])].append(survey.rating)
    result = {}
    for value, ratings in groups.items():
        answered = [r for r in ratings if r is not None]
        result[value] = {
            "sent": len(ratings), "responses": len(answered),
            "response_rate": Decimal(len(answered)) / len(ratings),
            "csat": Decimal(sum(r >= 4 for r in answered)) / len(answered) if answered else None,
            "average": Decimal(sum(answered)) / len(answered) if answered else None,
            **{f"r{n}": answered.count(n) for n in range(1, 6)},
        }
    return result


def ticket_value(ticket: Ticket, key: str):
    """What grouping ``ticket`` by dimension ``key`` puts it under."""
    if key == "marketplace":
        return ticket.store.kind if ticket.store else None
    if key == "country":
        return ticket.customer.country if ticket.customer else None
    return getattr(ticket, DIMENSION_OF_TICKET[key])


def independent_volume(first: date, last: date, zone: ZoneInfo, key: str) -> dict:
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    end = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)  # wall clock: next midnight
    value = lambda ticket: ticket_value(ticket, key)  # noqa: E731

    created, solved, reopened = defaultdict(int), defaultdict(set), defaultdict(set)
    for ticket in db.session.scalars(select(Ticket)).all():
        if ticket.excluded_as is not None:
            continue
        if start <= ticket.created_at < end:
            created[value(ticket)] += 1
        for event in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all():
            if event.kind != "status_changed" or not start <= event.created_at < end:
                continue
            if event.payload["to"] == "solved":
                solved[value(ticket)].add(ticket.id)
            if event.payload["from"] == "solved" and event.payload["to"] != "closed":
                reopened[value(ticket)].add(ticket.id)
    return {v: {"created": created.get(v, 0), "solved": len(solved.get(v, ())), "reopened": len(reopened.get(v, ()))}
            for v in {*created, *solved, *reopened}}


def independent_sla(first: date, last: date, zone: ZoneInfo, key: str, metric: str) -> dict:
    """SLA figures straight from the stored targets: a target counts on the day it was
    decided (breached: its breach instant; otherwise its achievement); p50/p90 by nearest
    rank over the achieved ones' times."""
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    end = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)
    groups = defaultdict(list)
    for target in db.session.scalars(select(SlaTarget).where(SlaTarget.metric == metric)).all():
        ticket = db.session.get(Ticket, target.ticket_id)
        decided = target.breached_at if target.breached else target.achieved_at
        if ticket.excluded_as is None and decided is not None and start <= decided < end:
            groups[ticket_value(ticket, key)].append(target)

    def rank(times, p):
        return sorted(times)[math.ceil(p / 100 * len(times)) - 1] if times else None

    result = {}
    for value, targets in groups.items():
        missed = sum(t.breached for t in targets)
        times = [t.elapsed_seconds for t in targets if t.elapsed_seconds is not None]
        result[value] = {"targets": len(targets), "met": len(targets) - missed, "missed": missed,
                         "met_share": Decimal(len(targets) - missed) / len(targets),
                         "p50": rank(times, 50), "p90": rank(times, 90)}
    return result


SLA_METRICS = ("first_response", "next_response", "resolution")
RANGES = [(date(2024, 3, 18), date(2024, 4, 7)), (date(2024, 3, 25), date(2024, 3, 31)),
          (date(2024, 3, 31), date(2024, 3, 31))]


def test_report_figures_equal_an_independent_computation(dataset):
    for first, last in RANGES:  # one data set (slow to build) for every range
        span = date_range(first, last, "Europe/Berlin")
        for key in SURVEY_ATTRIBUTE:
            assert REPORTS["csat"].by_dimension(span, key) == independent_csat(first, last, BERLIN, key), key
            assert REPORTS["volume"].by_dimension(span, key) == independent_volume(first, last, BERLIN, key), key
            for metric in SLA_METRICS:
                assert REPORTS[f"sla_{metric}"].by_dimension(span, key) == independent_sla(
                    first, last, BERLIN, key, metric), (first, key, metric)
        ana = dataset[0]
        assert REPORTS["csat"].by_dimension(span, "type", ana.id) == independent_csat(first, last, BERLIN, "type",
                                                                                      ana.id)


def test_the_data_set_holds_what_the_figures_are_about(dataset):
    span = date_range(*RANGES[0], "Europe/Berlin")
    total = REPORTS["csat"].by_dimension(span, "marketplace")
    assert sum(row["responses"] for row in total.values()) < sum(row["sent"] for row in total.values())
    assert all(sum(row[f"r{n}"] for row in total.values()) > 0 for n in range(1, 6))
    volume = REPORTS["volume"].by_dimension(span, "agent")
    assert sum(row["reopened"] for row in volume.values()) > 0
    assert db.session.scalar(select(Ticket.id).where(Ticket.excluded_as.is_not(None)).limit(1)) is not None
    for metric in SLA_METRICS:
        sla = REPORTS[f"sla_{metric}"].by_dimension(span, "agent")
        assert sum(row["met"] for row in sla.values()) > 0 and sum(row["missed"] for row in sla.values()) > 0, metric


def test_weekly_trend_adds_up_to_the_range(dataset):
    span = date_range(*RANGES[0], "Europe/Berlin")
    assert [monday for monday, _s, _e in span.weeks] == [date(2024, 3, 18), date(2024, 3, 25), date(2024, 4, 1)]
    weekly = REPORTS["csat"].by_week(span)
    whole = independent_csat(*RANGES[0], BERLIN, "marketplace")
    assert sum(row["sent"] for row in weekly.values()) == sum(row["sent"] for row in whole.values())
    for index, (monday, _start, _end) in enumerate(span.weeks):
        week = independent_csat(monday, monday + timedelta(days=6), BERLIN, "marketplace")
        assert weekly.get(index, {}).get("responses", 0) == sum(row["responses"] for row in week.values())


def test_week_and_day_boundaries_follow_the_viewers_zone_across_dst():
    span = date_range(date(2024, 3, 4), date(2024, 3, 17), "America/New_York")
    assert span.start == datetime(2024, 3, 4, 5, 0, tzinfo=UTC)  # EST, UTC-5
    assert span.end == datetime(2024, 3, 18, 4, 0, tzinfo=UTC)  # EDT, UTC-4
    assert [(s, e) for _m, s, e in span.weeks] == [
        (datetime(2024, 3, 4, 5, tzinfo=UTC), datetime(2024, 3, 11, 4, tzinfo=UTC)),  # 167 hours
        (datetime(2024, 3, 11, 4, tzinfo=UTC), datetime(2024, 3, 18, 4, tzinfo=UTC)),
    ]
    cut = date_range(date(2024, 3, 6), date(2024, 3, 12), "Asia/Tokyo")
    assert [(m, s, e) for m, s, e in cut.weeks] == [
        (date(2024, 3, 4), datetime(2024, 3, 5, 15, tzinfo=UTC), datetime(2024, 3, 10, 15, tzinfo=UTC)),
        (date(2024, 3, 11), datetime(2024, 3, 10, 15, tzinfo=UTC), datetime(2024, 3, 12, 15, tzinfo=UTC)),
    ]


def login_as(client, make_agent, **fields):
    agent = make_agent(**fields)
    client.application.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/login", data={"email": agent.email, "password": "correct horse battery"}).status_code == 302
    client.application.config["WTF_CSRF_ENABLED"] = True
    return agent


def test_a_day_in_new_york_is_its_local_midnight_to_midnight(app, client, make_agent):
    agent = login_as(client, make_agent, email="boss@test.example", name="Boss", role="manager",
                     time_zone="America/New_York")
    for n, at in enumerate([datetime(2024, 3, 10, 4, 59, tzinfo=UTC),   # 9 March 23:59 EST
                            datetime(2024, 3, 10, 5, 0, tzinfo=UTC),    # 10 March 00:00 EST
                            datetime(2024, 3, 11, 3, 59, tzinfo=UTC),   # 10 March 23:59 EDT
                            datetime(2024, 3, 11, 4, 0, tzinfo=UTC)]):  # 11 March 00:00 EDT
        tickets.create_ticket(Actor.of_agent(agent), order=None, type="question", subject=f"Q{n}", now=at)
    page = client.get("/reports/?report=volume&by=type&from=2024-03-10&to=2024-03-10").get_data(as_text=True)
    assert table_cells(page, "report-table") == [["Ticket type", "Created", "Solved", "Reopened"],
                                                 ["Question", "2", "0", "0"]]


def table_cells(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S).group(1)
    return [[unescape(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def csv_rows(answer) -> list[list[str]]:
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff") and answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_is_the_table_on_the_screen(dataset, client, make_agent):
    login_as(client, make_agent, email="boss@test.example", name="Boss", role="manager", time_zone="Europe/Berlin")
    for report in ("csat", "volume", "sla_resolution"):  # one data set (slow to build) for every view
        for key in ("agent", "country", "language"):
            query = f"report={report}&by={key}&from=2024-03-18&to=2024-04-07"
            page = client.get(f"/reports/?{query}")
            assert page.status_code == 200
            html = page.get_data(as_text=True)
            screen = table_cells(html, "report-table")
            exported = csv_rows(client.get(f"/reports/export.csv?{query}"))
            guarded = [[("'" + c) if c.startswith(("=", "+", "-", "@")) else c for c in row] for row in screen]
            assert exported == guarded and len(exported) > 2, query
            assert table_cells(html, "trend-table") == csv_rows(client.get(f"/reports/export.csv?{query}&part=trend"))
            if key == "agent":
                assert ["'=HYPERLINK(\"x\")"] == [row[0] for row in exported if "HYPERLINK" in row[0]]
                assert '=HYPERLINK(&#34;x&#34;)' in html or "=HYPERLINK(&quot;x&quot;)" in html


def test_shown_figures_are_the_exact_ones_rounded(dataset, client, make_agent):
    login_as(client, make_agent, email="boss@test.example", name="Boss", role="manager", time_zone="Europe/Berlin")
    rows = table_cells(client.get("/reports/?report=csat&by=marketplace&from=2024-03-18&to=2024-04-07")
                       .get_data(as_text=True), "report-table")
    exact = independent_csat(date(2024, 3, 18), date(2024, 4, 7), BERLIN, "marketplace")
    shown = {row[0]: row for row in rows[1:]}
    for value, figures in exact.items():
        row = shown[value]
        assert row[1:3] == [str(figures["sent"]), str(figures["responses"])]
        assert row[4] == f"{(figures['csat'] * 100).quantize(Decimal('0.1'))}%"
        assert row[5] == str(figures["average"].quantize(Decimal("0.01")))


def test_an_agent_sees_only_their_own_figures(dataset, client):
    ana = dataset[0]
    client.application.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": ana.email, "password": "correct horse battery"})
    client.application.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/reports/?report=csat&by=agent&from=2024-03-18&to=2024-04-07").get_data(as_text=True)
    rows = table_cells(page, "report-table")
    assert [row[0] for row in rows[1:]] == ["Ana"]
    assert "Only your own cases." in page


@pytest.mark.parametrize("query, message", [
    ("from=2024-04-07&to=2024-03-18", "The end date is before the start date."),
    ("from=yesterday", "Dates must look like 2026-12-01."),
    ("from=2020-01-01&to=2024-01-01", "Choose at most 731 days."),
    ("report=nope", "There is no such report or grouping."),
    ("by=<script>", "There is no such report or grouping."),
])
def test_bad_parameters_are_a_400_with_a_reason(client, make_agent, query, message):
    login_as(client, make_agent, email="boss@test.example", name="Boss", role="manager")
    for path in ("/reports/", "/reports/export.csv"):
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 400 and message in answer.get_data(as_text=True)


def test_reports_need_a_signed_in_agent(client):
    assert client.get("/reports/").status_code == 302
    assert client.get("/reports/export.csv").status_code == 302


def test_nps_on_known_answers(app, make_agent):
    """NPS = (promoters 9–10 − detractors 0–6) / answers; surveys that did not ask it are
    not counted."""
    from helpdesk.surveys import tokens

    agent = make_agent()
    sent = datetime(2024, 5, 6, 12, tzinfo=UTC)
    for n, (asks, score) in enumerate([(True, 10), (True, 9), (True, 8), (True, 6), (True, 0), (True, None),
                                       (False, None)]):
        db.session.add(Survey(nonce=tokens.new_nonce(), buyer_key=f"e:{n}", ticket_type="question",
                              agent_id=agent.id, resolved_at=sent, sent_at=sent, expires_at=sent + timedelta(days=30),
                              asks_nps=asks, nps=score, rating=5 if score is not None else None,
                              answered_at=sent if score is not None else None))
    db.session.commit()
    [row] = REPORTS["nps"].by_dimension(date_range(date(2024, 5, 6), date(2024, 5, 6), "UTC"), "agent").values()
    assert row == {"asked": 6, "answers": 5, "promoters": 2, "passives": 1, "detractors": 2, "nps": Decimal(0)}
    [csat] = REPORTS["csat"].by_dimension(date_range(date(2024, 5, 6), date(2024, 5, 6), "UTC"), "agent").values()
    assert (csat["sent"], csat["responses"], csat["csat"]) == (7, 5, Decimal(1))


def test_cells_are_the_figures_rounded_in_the_viewers_locale(app):
    from helpdesk.reports.routes import cell

    with app.test_request_context("/?lang=de"):  # German: a no-break space before %
        assert [cell("count", 12345), cell("share", Decimal(2) / 3), cell("average", Decimal(17) / 4),
                cell("hours", 5400), cell("share", None)] == ["12.345", "66,7\xa0%", "4,25", "1,5", ""]


def test_percentiles_by_nearest_rank_on_known_times():
    assert [percentile(list(range(10, 0, -1)), p) for p in (50, 90, 100)] == [5, 9, 10]
    assert percentile([3600, 7200, 5400], 50) == 5400
    assert percentile([42], 90) == 42
    assert percentile([], 50) is None
