"""Benchmark: the SLA clock against businesstimedelta, the breach scan and the agent queue.

1. Clock: deadlines of random business-hours targets (1 to 40 h) from random instants of
   2024–2025 in a Europe/Berlin calendar (Mon–Fri 09:00–18:00, German public holidays
   from the ``holidays`` library), computed by :func:`tickets.sla.clock.add` and by the
   ``businesstimedelta`` package (WorkDayRule + HolidayRule) in the same run. Every pair
   of deadlines must be equal (``agree=1``); the figure is deadlines per second of each,
   and their ratio (ours / businesstimedelta). Both run warm (ours caches each day's open
   spans, as a serving process would).
2. Breach scan: every target breaching in the next 15 minutes among N open tickets (one
   running target each, due times spread over ±30 days) on PostgreSQL: the query the
   scheduler's scan uses (``state``, ``due_at`` index), median of 20 runs, at 100,000 and
   1,000,000 tickets (``--quick``: 100,000 only).
3. Queue page: ``GET /tickets/?tab=open`` (sorted by the next SLA due) through the Flask
   test client, signed in, at 100,000 open tickets: p50 and p95 of 50 requests
   (``--quick``: 20).

    .venv/bin/python bench/sla.py [--quick] [--postgres URL]

The last line reads ``sla clock_ops_per_s=... ratio_vs_businesstimedelta=... agree=1
breach_scan_ms=... queue_p95_ms=...`` (breach_scan_ms at the largest size measured).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, time as clock_time, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("LOG_FORMAT", "text")

from bench.common import machine, postgres_database  # noqa: E402

UTC = timezone.utc
ZONE = "Europe/Berlin"


def clock_figures(count: int) -> tuple[float, float, bool]:
    """``(our deadlines/s, businesstimedelta's deadlines/s, all equal)``."""
    import businesstimedelta
    import holidays
    import pytz

    from tickets.sla.clock import Calendar, add

    german = holidays.country_holidays("DE", years=range(2023, 2028))
    ours = Calendar(ZONE, (((9 * 3600, 18 * 3600),),) * 5 + ((), ()), frozenset(german))
    zone = pytz.timezone(ZONE)
    theirs = businesstimedelta.Rules([
        businesstimedelta.WorkDayRule(start_time=clock_time(9), end_time=clock_time(18), working_days=[0, 1, 2, 3, 4],
                                      tz=zone),
        businesstimedelta.HolidayRule(german, tz=zone)])
    rng = random.Random(6)
    cases = [(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(2 * 365 * 86400)),
              rng.randrange(1, 41) * 3600 + rng.choice((0, 0, 1800, 59))) for _ in range(count)]
    for start, seconds in cases[:50]:  # warm both
        add(ours, start, seconds)
        start + businesstimedelta.BusinessTimeDelta(theirs, seconds=seconds)
    began = time.perf_counter()
    mine = [add(ours, start, seconds) for start, seconds in cases]
    ours_rate = count / (time.perf_counter() - began)
    began = time.perf_counter()
    reference = [start + businesstimedelta.BusinessTimeDelta(theirs, seconds=seconds) for start, seconds in cases]
    theirs_rate = count / (time.perf_counter() - began)
    disagree = [(s, n, a, b) for (s, n), a, b in zip(cases, mine, reference) if a != b]
    for start, seconds, a, b in disagree[:5]:
        print(f"  disagree: {start.isoformat()} + {seconds} s: ours {a.isoformat()}, businesstimedelta {b.isoformat()}")
    return ours_rate, theirs_rate, not disagree


def fill(url: str, tickets: int) -> None:
    """``tickets`` open tickets with one running first-response target each (bulk SQL)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE sla_target, ticket_event, ticket RESTART IDENTITY CASCADE")
        conn.execute("""
            INSERT INTO ticket (type, status, priority, channel, subject, description, tags, language,
                                created_at, updated_at)
            SELECT 'question', (ARRAY['new','open','pending'])[1 + g %% 3], 'normal', 'email', 'Ticket ' || g, '',
                   '[]', (ARRAY['en','de','pt'])[1 + g %% 3], now() - interval '1 day', now() - (g %% 1000) * interval '1 minute'
            FROM generate_series(1, %s) AS g""", (tickets,))
        conn.execute("""
            INSERT INTO sla_target (ticket_id, metric, cycle, business, target_seconds, warn_seconds, started_at,
                                    due_at, warn_at, paused_seconds, breached, state)
            SELECT id, 'first_response', 0, false, 14400, 10800, now() - interval '1 day',
                   now() + ((random() * 60 - 30) * interval '1 day'), now(), 0, false,
                   CASE WHEN status = 'pending' THEN 'paused' ELSE 'active' END
            FROM ticket""")
        conn.execute("ANALYZE ticket")
        conn.execute("ANALYZE sla_target")


def breach_scan_ms(app, runs: int = 20) -> tuple[float, int]:
    """Median ms of the scan's query for targets due within 15 minutes, and how many."""
    from sqlalchemy import select

    from helpdesk.extensions import db
    from tickets.sla.models import SlaTarget

    timings, found = [], 0
    with app.app_context():
        for _ in range(runs):
            now = datetime.now(UTC)
            began = time.perf_counter()
            found = len(db.session.execute(select(SlaTarget.id, SlaTarget.ticket_id).where(
                SlaTarget.state == "active", SlaTarget.due_at > now,
                SlaTarget.due_at <= now + timedelta(minutes=15))).all())
            timings.append((time.perf_counter() - began) * 1000)
            db.session.rollback()
    return statistics.median(timings), found


def queue_ms(app, requests: int) -> tuple[float, float]:
    """p50 and p95 ms of the open queue page for a signed-in agent."""
    from helpdesk.cli import create_agent

    with app.app_context():
        create_agent("bench@helpdesk.example", "Bench Agent", "correct horse battery")
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/login", data={"email": "bench@helpdesk.example", "password": "correct horse battery"})
    assert response.status_code == 302, response.status_code
    timings = []
    for _ in range(requests + 2):
        began = time.perf_counter()
        response = client.get("/tickets/?tab=open")
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200 and b"sla-badge" in response.data
    timings = sorted(timings[2:])
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clock cases, 100,000 tickets only, 20 requests")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    count = 2000 if args.quick else 20000
    ours, theirs, agree = clock_figures(count)
    print(f"clock: {count} deadlines (Berlin, Mon-Fri 09-18, German holidays, 1-40 h): "
          f"ours {ours:.0f}/s, businesstimedelta {theirs:.0f}/s, ratio {ours / theirs:.2f}, agree={int(agree)}")

    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db

    admin, name, url = postgres_database(args.postgres)
    scan, p95 = float("nan"), float("nan")
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                          "SECRET_KEY": "bench-secret", "TRANSLATION_ENGINE": "none", "TESTING": True,
                          "LOGIN_RATE_LIMIT": "1000 per minute"})
        with app.app_context():
            upgrade()
        for size in (100_000,) if args.quick else (100_000, 1_000_000):
            began = time.perf_counter()
            fill(url, size)
            print(f"postgresql: {size} open tickets with a running target filled in {time.perf_counter() - began:.1f} s")
            scan, found = breach_scan_ms(app)
            print(f"breach scan at {size}: {scan:.2f} ms median of 20 ({found} due within 15 minutes)")
            if size == 100_000:
                p50, p95 = queue_ms(app, 20 if args.quick else 50)
                print(f"queue page at {size}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (GET /tickets/?tab=open, 50 rows)")
        with app.app_context():
            db.engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    print(f"sla clock_ops_per_s={ours:.0f} ratio_vs_businesstimedelta={ours / theirs:.2f} agree={int(agree)} "
          f"breach_scan_ms={scan:.2f} queue_p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
