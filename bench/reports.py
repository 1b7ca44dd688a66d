"""Benchmark: the manager dashboard's queries on PostgreSQL at 100,000 and 1,000,000 tickets.

Generates, in a throw-away database migrated to the head, tickets spread over a year
(4 teams, 40 agents, 2 stores on 2 marketplaces, 5,000 buyers in 8 countries and
languages), their status changes (80 % solved, 15 % of those reopened and solved again)
a survey for every solved ticket (70 % answered 1–5, a tenth asked NPS), and SLA targets
(first response for every ticket, a third missed; resolution for every solved one, a
quarter missed), with ``INSERT ... SELECT generate_series``; then ``ANALYZE``. One dashboard view is what the page runs: the table
of a report by one dimension plus its weekly trend, for the last 28 days. Every view (6
reports: CSAT, volumes, NPS, SLA first response / next response / resolution × 7 dimensions) is timed ``--rounds`` times; p50/p95 are over all of them, in
milliseconds. The plans (``EXPLAIN``) of one view of each report are printed with the
indexes they use.

    .venv/bin/python bench/reports.py [--quick] [--sizes 100000,1000000] [--rounds 5] [--postgres URL]

The last line reads ``reports p50_ms=... p95_ms=...`` (the largest size measured).
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.common import machine, postgres_database  # noqa: E402

END = date(2026, 11, 30)
AGENTS, TEAMS, BUYERS = 40, 4, 5000

GENERATE = [
    """INSERT INTO team (name) SELECT 'Team ' || t FROM generate_series(1, {teams}) t""",
    """INSERT INTO store (kind, name, default_currency, time_zone, created_at)
       VALUES ('shopify', 'Shop A', 'EUR', 'UTC', now()), ('woocommerce', 'Woo B', 'USD', 'UTC', now())""",
    """INSERT INTO agent (email, password_hash, display_name, role, languages, team_id, time_zone, locale, active,
                          session_token, availability, max_chats, created_at)
       SELECT 'agent' || a || '@bench.example', 'x', 'Agent ' || a, 'agent', '["en"]', 1 + a % {teams}, 'UTC', 'en',
              true, md5(a::text), 'away', 5, now()
       FROM generate_series(1, {agents}) a""",
    """INSERT INTO customer (name, email, country, preferred_language, created_at, search_text)
       SELECT 'Buyer ' || c, 'buyer' || c || '@bench.example',
              (ARRAY['DE','FR','JP','BR','US','CN','ES','IT'])[1 + c % 8],
              (ARRAY['de','fr','ja','pt-BR','en','zh-Hans','es','it'])[1 + c % 8], now(), ''
       FROM generate_series(1, {buyers}) c""",
    """INSERT INTO ticket (type, status, priority, channel, subject, description, tags, store_id, customer_id,
                           assignee_id, team_id, language, buyer_email, created_at, updated_at, solved_at)
       SELECT (ARRAY['return','refund','exchange','warranty','logistics_claim','order_change','question'])[1 + n % 7],
              CASE WHEN n % 5 = 0 THEN 'open' ELSE 'solved' END, 'normal', 'web_form', 'Case ' || n, '', '[]',
              1 + n % 2, 1 + n % {buyers}, 1 + n % {agents}, 1 + (n % {agents}) % {teams},
              (ARRAY['de','fr','ja','pt-BR','en','zh-Hans','es','it'])[1 + (n % {buyers}) % 8],
              'buyer' || (1 + n % {buyers}) || '@bench.example',
              TIMESTAMPTZ '{end}' - (n * 365.0 / {tickets}) * INTERVAL '1 day',
              TIMESTAMPTZ '{end}' - (n * 365.0 / {tickets}) * INTERVAL '1 day',
              CASE WHEN n % 5 = 0 THEN NULL ELSE TIMESTAMPTZ '{end}' - (n * 365.0 / {tickets}) * INTERVAL '1 day'
                                                 + INTERVAL '20 hours' END
       FROM generate_series(1, {tickets}) n""",
    """INSERT INTO ticket_event (ticket_id, created_at, actor, agent_id, kind, internal, payload)
       SELECT id, created_at, 'agent', assignee_id, 'created', false, '{{}}' FROM ticket""",
    """INSERT INTO ticket_event (ticket_id, created_at, actor, agent_id, kind, internal, payload)
       SELECT id, created_at + INTERVAL '20 hours', 'agent', assignee_id, 'status_changed', false,
              '{{"from": "open", "to": "solved"}}' FROM ticket WHERE status = 'solved'""",
    """INSERT INTO ticket_event (ticket_id, created_at, actor, agent_id, kind, internal, payload)
       SELECT id, created_at + INTERVAL '30 hours', 'buyer', NULL, 'status_changed', false,
              '{{"from": "solved", "to": "open"}}' FROM ticket WHERE status = 'solved' AND id % 7 = 0""",
    """INSERT INTO ticket_event (ticket_id, created_at, actor, agent_id, kind, internal, payload)
       SELECT id, created_at + INTERVAL '40 hours', 'agent', assignee_id, 'status_changed', false,
              '{{"from": "open", "to": "solved"}}' FROM ticket WHERE status = 'solved' AND id % 7 = 0""",
    """INSERT INTO survey (ticket_id, nonce, email, buyer_name, buyer_key, language, agent_id, team_id, ticket_type,
                           store_id, marketplace, country, resolved_at, due_at, sent_at, expires_at, asks_nps,
                           rating, nps, answered_at, created_at)
       SELECT t.id, md5(t.id::text), t.buyer_email, '', 'c:' || t.customer_id, t.language, t.assignee_id, t.team_id,
              t.type, t.store_id, CASE WHEN t.store_id = 1 THEN 'shopify' ELSE 'woocommerce' END, c.country,
              t.solved_at, t.solved_at + INTERVAL '1 hour', t.solved_at + INTERVAL '1 hour',
              t.solved_at + INTERVAL '31 days', t.id % 10 = 3,
              CASE WHEN t.id % 10 < 7 THEN 1 + (t.id::bigint * 7919) % 5 END,
              CASE WHEN t.id % 10 = 3 THEN (t.id::bigint * 104729) % 11 END,
              CASE WHEN t.id % 10 < 7 THEN t.solved_at + INTERVAL '5 hours' END, t.solved_at
       FROM ticket t JOIN customer c ON c.id = t.customer_id WHERE t.status = 'solved'""",
    """INSERT INTO sla_target (ticket_id, metric, cycle, business, target_seconds, warn_seconds, started_at, due_at,
                               paused_seconds, achieved_at, elapsed_seconds, breached, breached_at, state)
       SELECT id, 'first_response', 0, true, 14400, 10800, created_at, created_at + INTERVAL '4 hours', 0,
              created_at + (1 + id % 6) * INTERVAL '1 hour', (1 + id % 6) * 3600, id % 6 >= 4,
              CASE WHEN id % 6 >= 4 THEN created_at + INTERVAL '4 hours' END, 'achieved'
       FROM ticket""",
    """INSERT INTO sla_target (ticket_id, metric, cycle, business, target_seconds, warn_seconds, started_at, due_at,
                               paused_seconds, achieved_at, elapsed_seconds, breached, breached_at, state)
       SELECT id, 'resolution', 0, true, CASE WHEN id % 4 = 0 THEN 57600 ELSE 86400 END, 43200, created_at,
              created_at + CASE WHEN id % 4 = 0 THEN INTERVAL '16 hours' ELSE INTERVAL '24 hours' END, 0,
              CASE WHEN status = 'solved' THEN solved_at END, CASE WHEN status = 'solved' THEN 72000 END,
              status = 'solved' AND id % 4 = 0,
              CASE WHEN status = 'solved' AND id % 4 = 0 THEN created_at + INTERVAL '16 hours' END,
              CASE WHEN status = 'solved' THEN 'achieved' ELSE 'active' END
       FROM ticket""",
]


def generate(app, tickets: int) -> float:
    """Fill the database; returns the seconds it took."""
    from sqlalchemy import text

    from helpdesk.extensions import db

    start = time.perf_counter()
    values = {"teams": TEAMS, "agents": AGENTS, "buyers": BUYERS, "tickets": tickets, "end": END.isoformat()}
    with app.app_context():
        for statement in GENERATE:
            db.session.execute(text(statement.format(**values)))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return time.perf_counter() - start


def views():
    from helpdesk.reports.queries import DIMENSIONS, REPORTS

    return [(report, key) for report in REPORTS.values() for key in DIMENSIONS]


def run_view(report, key: str, span) -> None:
    """What the dashboard computes for one page: the table and the weekly trend (the
    group names are looked up too)."""
    from helpdesk.reports.queries import DIMENSIONS

    figures = report.by_dimension(span, key)
    DIMENSIONS[key].names(list(figures))
    report.by_week(span)


def explain(app, report, key: str, span) -> list[str]:
    """The plan lines of the statements one view runs, and the indexes they name."""
    from sqlalchemy import event, text

    from helpdesk.extensions import db

    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            run_view(report, key, span)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        lines = []
        with db.engine.connect() as connection:
            raw = connection.connection.driver_connection
            for statement, parameters in captured:
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN " + statement, parameters)
                    lines.extend(row[0] for row in cursor.fetchall())
                    lines.append("")
        db.session.execute(text("SELECT 1"))
    return lines


def measure(url: str, tickets: int, rounds: int) -> list[float]:
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.reports.queries import date_range

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    print(f"\n{tickets:,} tickets: generated in {generate(app, tickets):.1f} s")
    span = date_range(END - timedelta(days=27), END, "Europe/Berlin")
    timings = []
    with app.app_context():
        for report, key in views():  # warm the caches once
            run_view(report, key, span)
        for _ in range(rounds):
            for report, key in views():
                start = time.perf_counter()
                run_view(report, key, span)
                timings.append((time.perf_counter() - start) * 1000)
                db.session.rollback()
        db.engine.dispose()
    for report_name, key in (("csat", "agent"), ("volume", "country"), ("sla_resolution", "team")):
        from helpdesk.reports.queries import REPORTS

        plan = explain(app, REPORTS[report_name], key, span)
        used = sorted(set(re.findall(r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)",
                                     "\n".join(plan))))
        print(f"plan of the {report_name} view by {key}: indexes used: {', '.join(used) or 'none'}")
        print("\n".join("    " + line for line in plan))
    with app.app_context():
        db.engine.dispose()
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 tickets, 2 rounds (under a minute)")
    parser.add_argument("--sizes", default=None, help="comma-separated ticket counts (default 100000,1000000)")
    parser.add_argument("--rounds", type=int, default=None, help="times each view is timed (default 5, quick 2)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or ("20000" if args.quick else "100000,1000000")).split(",")]
    rounds = args.rounds or (2 if args.quick else 5)
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"views: {len(views()) // 7} reports x 7 dimensions, table + weekly trend of the last 28 days, {rounds} rounds each")
    result = None
    for size in sizes:
        admin, name, url = postgres_database(args.postgres)
        try:
            timings = measure(url, size, rounds)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        result = (percentile(timings, 0.5), percentile(timings, 0.95))
        print(f"{size:,} tickets: {len(timings)} views, p50 {result[0]:.1f} ms, p95 {result[1]:.1f} ms, "
              f"max {max(timings):.1f} ms, mean {statistics.fmean(timings):.1f} ms")
    print(f"reports p50_ms={result[0]:.1f} p95_ms={result[1]:.1f}")


if __name__ == "__main__":
    main()
