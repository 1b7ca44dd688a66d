"""Refunds through the marketplace: the sandbox serves Shopify's and WooCommerce's refund
endpoints over real HTTP and the helpdesk calls them through its real connectors.
Partial refunds to the exact total, approval thresholds, a 422 from Shopify, a
WooCommerce refusal, a marketplace that times out (and a retry that finds the refund it
made), and two agents refunding one order at once on PostgreSQL."""
from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.marketplace.sync import make_connector
from helpdesk.models import Agent, Order, Refund
from tests.tickets.conftest import order_record
from tickets import events, rules, service
from tickets.cli import set_policy
from tickets.models import TicketRefund
from tickets.service import Actor

LINES = (("MUG", "Blue mug", 2, "12.50"), ("VASE", "Glass vase", 1, "30.00"))  # 55.00 + shipping


def refunds_in_db(order: Order) -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)))


@pytest.fixture
def agent(make_agent):
    return Actor.of_agent(make_agent(email="lukas@test.example", name="Lukas"))


@pytest.fixture
def manager(make_agent):
    return Actor.of_agent(make_agent(email="mei@test.example", name="Mei", role="manager"))


def open_refund_ticket(order: Order, actor: Actor):
    return service.create_ticket(actor, order=order, type="refund", subject="Refund please")


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
def test_partial_refunds_sum_to_exactly_the_total_through_the_marketplace(market, agent, kind):
    sandbox, store, order = market(kind, order_record("4001", lines=LINES, shipping="4.90"))
    assert order.total == Decimal("59.90")
    ticket = open_refund_ticket(order, agent)
    heard = []
    events.ticket_refunded.connect(lambda t, **kw: heard.append((t.id, kw["amount"])), weak=False)
    try:
        mug = next(l for l in order.lines if l.sku == "MUG")
        first = service.request_refund(ticket, agent, kind="lines", lines=[{"order_line_id": mug.id, "quantity": 1}])
        assert (first.state, first.amount) == ("approved", Decimal("12.50"))
        service.execute_refund(first, agent)
        rest = service.request_refund(ticket, agent, kind="full")
        assert rest.amount == Decimal("47.40")
        service.execute_refund(rest, agent)
    finally:
        events.ticket_refunded.receivers.clear()
    stored = refunds_in_db(order)
    assert [(r.amount, r.origin) for r in stored] == [(Decimal("12.50"), "helpdesk"), (Decimal("47.40"), "helpdesk")]
    assert sum(r.amount for r in stored) == order.total
    assert [(l.order_line_id, l.quantity) for l in stored[0].lines] == [(mug.id, 1)]
    assert heard == [(ticket.id, Decimal("12.50")), (ticket.id, Decimal("47.40"))]
    assert first.refund_id == stored[0].id and ticket.refund_state == "succeeded"
    assert ticket.approved_amount == Decimal("59.90")
    with pytest.raises(rules.RefundExceedsOrderTotal, match="At most €0.00 can still"):
        service.request_refund(ticket, agent, kind="amount", amount="0.01")
    # the marketplace holds exactly what the helpdesk holds
    if kind == "shopify":
        made = sandbox.catalogue.shopify_orders[0]["refunds"]
        assert [t["amount"] for r in made for t in r["transactions"]] == ["12.50", "47.40"]
    else:
        assert [r["amount"] for r in sandbox.catalogue.woo_refunds[4001]] == ["12.50", "47.40"]


def test_one_cent_over_the_total_is_refused_before_the_marketplace_is_asked(market, agent):
    sandbox, store, order = market("shopify", order_record("4002", lines=LINES))
    ticket = open_refund_ticket(order, agent)
    service.execute_refund(service.request_refund(ticket, agent, kind="amount", amount="54.99"), agent)
    calls = len(sandbox.requests)
    with pytest.raises(rules.RefundExceedsOrderTotal, match="At most €0.01 can still"):
        service.request_refund(ticket, agent, kind="amount", amount="0.02")
    assert len(sandbox.requests) == calls
    assert db.session.scalar(select(func.count()).select_from(TicketRefund)) == 1


def test_jpy_and_kwd_amounts_go_to_the_marketplace_in_their_minor_units(market, agent):
    sandbox, _, yen = market("shopify", order_record("4003", currency="JPY", lines=(("TEA", "Sencha", 3, "1200"),)))
    ticket = open_refund_ticket(yen, agent)
    with pytest.raises(rules.InvalidRefund, match="JPY"):
        service.request_refund(ticket, agent, kind="amount", amount="100.5")
    service.execute_refund(service.request_refund(ticket, agent, kind="lines",
                                                  lines=[{"order_line_id": yen.lines[0].id, "quantity": 1}]), agent)
    assert refunds_in_db(yen)[0].amount == Decimal("1200")
    assert sandbox.catalogue.shopify_orders[0]["refunds"][0]["transactions"][0]["amount"] == "1200"
    sandbox2, _, dinar = market("woocommerce", order_record("4004", currency="KWD", lines=(("OUD", "Oud oil", 3, "4.125"),)))
    ticket = open_refund_ticket(dinar, agent)
    plan = service.request_refund(ticket, agent, kind="lines", lines=[{"order_line_id": dinar.lines[0].id, "quantity": 2}])
    assert plan.amount == Decimal("8.250")
    service.execute_refund(plan, agent)
    assert sandbox2.catalogue.woo_refunds[4004][0]["amount"] == "8.250"
    assert refunds_in_db(dinar)[0].amount == Decimal("8.250")


def test_refunds_above_the_threshold_wait_for_a_manager(market, agent, manager):
    _, store, order = market("shopify", order_record("4005", lines=LINES))
    set_policy(store_id=store.id, marketplace=None, window_days=14, threshold=Decimal("30.00"), currency="EUR",
               warranty_days=730)
    ticket = open_refund_ticket(order, agent)
    at_threshold = service.request_refund(ticket, agent, kind="amount", amount="30.00")
    assert at_threshold.state == "approved"
    # Splitting never avoids a manager: 30.00 + 0.01 on the same order passes the threshold.
    above_total = service.request_refund(ticket, agent, kind="amount", amount="0.01")
    assert above_total.state == "awaiting_approval"
    assert ticket.refund_state == "awaiting_approval"
    with pytest.raises(rules.InvalidTransition, match="approval"):
        service.execute_refund(above_total, agent)
    with pytest.raises(rules.ApprovalNotAllowed):
        service.approve_refund(above_total, agent)
    service.approve_refund(above_total, manager)
    assert above_total.state == "approved" and above_total.approved_by_id == manager.agent_id
    own = service.request_refund(ticket, manager, kind="amount", amount="24.99")
    assert own.state == "approved"  # a manager's own request needs no second approval
    assert refunds_in_db(order) == []


def test_shopify_422_leaves_a_visible_refund_failed_and_nothing_recorded(market, agent, client, login):
    sandbox, store, order = market("shopify", order_record("4006", lines=LINES))
    # Someone refunded 50.00 in Shopify's admin; the helpdesk has not synced it yet.
    sandbox.catalogue.shopify_orders[0]["refunds"].append({"id": 1, "transactions": [{"kind": "refund", "amount": "50.00"}],
                                                           "refund_line_items": []})
    ticket = open_refund_ticket(order, agent)
    refund = service.request_refund(ticket, agent, kind="amount", amount="10.00")
    with pytest.raises(service.RefundFailed, match="greater than the 5.00 left"):
        service.execute_refund(refund, agent)
    db.session.expire_all()
    assert (refund.state, refund.outcome_unknown, ticket.refund_state) == ("failed", False, "failed")
    assert refund.error.startswith("Shopify refused the refund: ") and "greater than the 5.00 left to refund" in refund.error
    assert refunds_in_db(order) == []
    assert [e.kind for e in ticket.events][-2:] == ["refund_started", "refund_failed"]
    login()
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="refund-failed"' in page and "greater than the 5.00 left to refund" in page
    assert f"/tickets/{ticket.id}" in client.get("/tickets/?tab=refund_failed").get_data(as_text=True)
    # the fault switch gives Shopify's own 422 body for any other refusal
    sandbox.faults["refund_error"] = (422, {"errors": {"refund_line_items.quantity": ["cannot refund more items than were purchased"]}})
    with pytest.raises(service.RefundFailed, match="cannot refund more items"):
        service.execute_refund(refund, agent)


def test_woocommerce_refusal_in_a_500_is_a_refusal_not_an_unknown_outcome(market, agent):
    sandbox, _, order = market("woocommerce", order_record("4007", lines=LINES))
    sandbox.catalogue.woo_refunds[4007].append({"id": 9, "amount": "50.00", "line_items": []})
    ticket = open_refund_ticket(order, agent)
    refund = service.request_refund(ticket, agent, kind="amount", amount="10.00")
    with pytest.raises(service.RefundFailed, match="Invalid refund amount"):
        service.execute_refund(refund, agent)
    assert (refund.state, refund.outcome_unknown) == ("failed", False)
    assert refunds_in_db(order) == []


def test_a_timeout_leaves_refund_failed_and_the_retry_finds_the_refund_the_marketplace_made(market, agent):
    sandbox, store, order = market("shopify", order_record("4008", lines=LINES))
    ticket = open_refund_ticket(order, agent)
    refund = service.request_refund(ticket, agent, kind="amount", amount="20.00")
    hold = threading.Event()
    sandbox.faults["refund_hold"] = hold
    slow = make_connector(store, write_timeout=(5, 0.5))
    try:
        with pytest.raises(service.RefundFailed, match="did not answer in time"):
            service.execute_refund(refund, agent, connector=slow)
    finally:
        hold.set()
    assert (refund.state, refund.outcome_unknown) == ("failed", True)
    assert refund.error == ("Shopify did not answer in time, so the refund may or may not have been made. Retry it: "
                            "the order is checked on Shopify first, so it is never refunded twice.")
    detail = ticket.events[-1].payload["detail"]  # the connector's own words stay in the timeline's detail
    assert detail.startswith(f"shopify did not answer in time at {sandbox.url}/admin/api/")
    assert refunds_in_db(order) == []
    # The marketplace went on and made the refund after all (the held request finishes).
    sandbox.faults["refund_hold"] = None
    deadline = time.monotonic() + 10
    while not sandbox.catalogue.shopify_orders[0]["refunds"] and time.monotonic() < deadline:
        time.sleep(0.05)  # the held request finishes in the sandbox's own thread (hold.wait would not wait: it is set)
    assert len(sandbox.catalogue.shopify_orders[0]["refunds"]) == 1
    service.execute_refund(refund, agent)  # retry: re-reads the order first, links, makes nothing new
    assert len(sandbox.catalogue.shopify_orders[0]["refunds"]) == 1
    stored = refunds_in_db(order)
    assert [(r.amount, r.origin) for r in stored] == [(Decimal("20.00"), "helpdesk")]
    assert (refund.state, refund.refund_id) == ("succeeded", stored[0].id)


def test_refund_api_returns_502_with_the_marketplace_error(market, make_agent, client):
    from tickets.cli import create_token

    sandbox, _, order = market("shopify", order_record("4009", lines=LINES))
    auth = {"Authorization": "Bearer " + create_token(make_agent(email="bot@test.example", name="Bot"), "t")}
    ticket = client.post("/api/v1/tickets", headers=auth, json={"type": "refund", "order_id": order.id,
                                                                "subject": "Refund"}).json
    sandbox.faults["refund_error"] = (422, {"errors": "Order has been cancelled"})
    failed = client.post(f"/api/v1/tickets/{ticket['id']}/refunds", headers=auth,
                         json={"kind": "amount", "amount": "5.00", "execute": True})
    assert failed.status_code == 502 and failed.json["error"] == {"code": "refund_failed",
                                                                  "message": "Shopify refused the refund: Order has been cancelled"}
    made = client.post(f"/api/v1/tickets/{ticket['id']}/refunds", headers=auth,
                       json={"kind": "amount", "amount": "5.00", "execute": True})
    assert made.status_code == 201 and made.json["state"] == "succeeded" and made.json["amount"] == "5.00"
    over = client.post(f"/api/v1/tickets/{ticket['id']}/refunds", headers=auth, json={"kind": "amount", "amount": "55.00"})
    assert (over.status_code, over.json["error"]["code"]) == (422, "refund_exceeds_order_total")


# ---------------------------------------------------------------- concurrency (PostgreSQL)

def test_two_agents_refunding_at_once_never_pass_the_total(market, agent, app):
    """Agent A's refund is being made (the marketplace has not answered yet) when agent B
    asks for a refund on the same order: B sees A's amount as taken and is refused."""
    sandbox, store, order = market("shopify", order_record("4010", lines=LINES))
    ticket_a, ticket_b = open_refund_ticket(order, agent), open_refund_ticket(order, agent)
    refund_a = service.request_refund(ticket_a, agent, kind="amount", amount="40.00")
    hold = threading.Event()
    sandbox.faults["refund_hold"] = hold
    outcome = {}
    refund_a_id, agent_id = refund_a.id, agent.agent_id
    db.session.commit()  # end this session's transaction (on SQLite it holds the write lock)

    def agent_a():
        with app.app_context():
            mine = db.session.get(TicketRefund, refund_a_id)
            service.execute_refund(mine, Actor.of_agent(db.session.get(Agent, agent_id)))
            outcome["a"] = mine.state
            db.session.remove()

    thread = threading.Thread(target=agent_a)
    thread.start()
    try:
        for _ in range(400):  # wait until A's request is at the marketplace
            if any("refunds.json" in r for r in sandbox.requests):
                break
            hold.wait(0.025)
        with pytest.raises(rules.RefundExceedsOrderTotal, match="At most €15.00 can still be refunded"):
            service.request_refund(ticket_b, agent, kind="amount", amount="40.00")
    finally:
        hold.set()
        thread.join(30)
    assert outcome == {"a": "succeeded"}
    assert [r.amount for r in refunds_in_db(order)] == [Decimal("40.00")]
    assert [r.state for r in db.session.scalars(select(TicketRefund))] == ["succeeded"]


def test_two_agents_asking_at_the_same_moment_get_one_refund(market, agent, app):
    """Two agents ask for 40.00 of a 55.00 order at the same instant: the order lock
    serialises them; one request is approved, the other refused, nothing is over."""
    _, _, order = market("shopify", order_record("4012", lines=LINES))
    tickets = [open_refund_ticket(order, agent).id for _ in range(2)]
    agent_id = agent.agent_id
    db.session.commit()
    start, results = threading.Barrier(2), {}

    def ask(ticket_id):
        with app.app_context():
            actor = Actor.of_agent(db.session.get(Agent, agent_id))
            ticket = service.get_ticket(ticket_id)
            db.session.commit()
            start.wait(10)
            try:
                results[ticket_id] = service.request_refund(ticket, actor, kind="amount", amount="40.00").state
            except rules.RefundExceedsOrderTotal as exc:
                results[ticket_id] = exc.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask, args=(t,)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results.values()) == ["approved", "refund_exceeds_order_total"]
    db.session.expire_all()
    assert [r.amount for r in db.session.scalars(select(TicketRefund))] == [Decimal("40.00")]


def test_the_order_row_is_locked_while_a_refund_is_checked(market, agent, app):
    """On PostgreSQL, a refund waits for another transaction holding the order row
    (SELECT ... FOR UPDATE) and then sees what that transaction committed."""
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers with BEGIN IMMEDIATE")
    sandbox, store, order = market("shopify", order_record("4011", lines=LINES))
    ticket = open_refund_ticket(order, agent)
    refund = service.request_refund(ticket, agent, kind="amount", amount="40.00")
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    other = psycopg.connect(url)
    other.execute('SELECT id FROM "order" WHERE id = %s FOR UPDATE', (order.id,))
    outcome = {}
    refund_id, agent_id = refund.id, agent.agent_id
    db.session.commit()

    def agent_b():
        with app.app_context():
            mine = db.session.get(TicketRefund, refund_id)
            try:
                service.execute_refund(mine, Actor.of_agent(db.session.get(Agent, agent_id)))
                outcome["b"] = mine.state
            except rules.TicketRuleError as exc:
                outcome["b"] = exc.code
            db.session.remove()

    thread = threading.Thread(target=agent_b)
    thread.start()
    try:
        with psycopg.connect(url, autocommit=True) as watcher:
            waiting = 0
            for _ in range(400):
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%%FOR UPDATE%%'"
                ).fetchone()[0]
                if waiting:
                    break
                threading.Event().wait(0.025)
        assert waiting == 1, "the refund did not wait for the order row lock"
        # Meanwhile the other transaction records a refund of 20.00 (as a sync would) and commits.
        other.execute("INSERT INTO refund (order_id, external_id, amount, currency, origin, created_at) "
                      "VALUES (%s, 'elsewhere', %s, 'EUR', 'marketplace', now())", (order.id, 20_0000))
        other.commit()
    finally:
        other.close()
        thread.join(30)
    assert outcome == {"b": "refund_exceeds_order_total"}
    assert sandbox.catalogue.shopify_orders[0]["refunds"] == []


def test_orders_from_a_file_import_are_refused_up_front(make_order, agent):
    from helpdesk.models import Store

    archive = Store(kind="csv", name="Archive", default_currency="GBP")
    db.session.add(archive)
    db.session.commit()
    order = make_order("9001", into=archive, lines=LINES)
    ticket = open_refund_ticket(order, agent)
    with pytest.raises(rules.InvalidRefund, match="came from a file import"):
        service.request_refund(ticket, agent, kind="amount", amount="1.00")
    assert db.session.scalar(select(func.count()).select_from(TicketRefund)) == 0
    assert ticket.refund_state is None


# ---------------------------------------------------------------- cancelling, stuck refunds

def test_approved_refunds_not_made_yet_count_toward_the_cap_until_cancelled(market, agent, client, login):
    _, _, order = market("shopify", order_record("4013", lines=LINES))  # 55.00
    ticket = open_refund_ticket(order, agent)
    approved = service.request_refund(ticket, agent, kind="amount", amount="40.00")
    assert approved.state == "approved"
    with pytest.raises(rules.RefundExceedsOrderTotal, match="At most €15.00 can still be refunded"):
        service.request_refund(ticket, agent, kind="amount", amount="20.00")
    with pytest.raises(service.InvalidTicket, match="must not be empty"):
        service.cancel_refund(approved, agent, reason="  ")
    with pytest.raises(rules.ApprovalNotAllowed):
        service.cancel_refund(approved, Actor("system"), reason="Buyer kept the item")
    service.cancel_refund(approved, agent, reason="Buyer kept the item")
    db.session.expire_all()
    assert (approved.state, approved.cancel_reason, ticket.refund_state) == ("cancelled", "Buyer kept the item",
                                                                             "cancelled")
    entry = ticket.events[-1]
    assert (entry.kind, entry.payload, entry.internal) == ("refund_cancelled", {"refund": approved.id, "from": "approved",
                                                                                "reason": "Buyer kept the item"}, True)
    with pytest.raises(rules.InvalidTransition, match="cancelled already"):
        service.cancel_refund(approved, agent, reason="again")
    with pytest.raises(rules.InvalidTransition, match="cancelled"):
        service.execute_refund(approved, agent)
    made = service.execute_refund(service.request_refund(ticket, agent, kind="amount", amount="55.00"), agent)
    assert made.state == "succeeded"
    with pytest.raises(rules.InvalidTransition, match="made already"):
        service.cancel_refund(made, agent, reason="too late")
    login()
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Buyer kept the item" in page and page.count("Cancel the refund") == 0


def test_a_refund_the_marketplace_may_have_made_cannot_be_cancelled_but_a_refused_one_can(market, agent, client,
                                                                                          login):
    sandbox, store, order = market("shopify", order_record("4014", lines=LINES))
    ticket = open_refund_ticket(order, agent)
    refund = service.request_refund(ticket, agent, kind="amount", amount="10.00")
    sandbox.faults["refund_error"] = (422, {"errors": "Order has been cancelled"})
    with pytest.raises(service.RefundFailed):
        service.execute_refund(refund, agent)
    login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    cancelled = client.post(f"/tickets/{ticket.id}/refunds/{refund.id}/cancel", data={"reason": "Order cancelled"})
    assert cancelled.status_code == 303
    db.session.expire_all()
    assert refund.state == "cancelled"
    unknown = service.request_refund(ticket, agent, kind="amount", amount="10.00")
    unknown.state, unknown.outcome_unknown = "failed", True
    db.session.commit()
    # a failed refund whose outcome is unknown still holds its amount
    with pytest.raises(rules.RefundExceedsOrderTotal, match="At most €45.00"):
        service.request_refund(ticket, agent, kind="amount", amount="45.01")
    refused = client.post(f"/tickets/{ticket.id}/refunds/{unknown.id}/cancel", data={"reason": "no"})
    assert refused.status_code == 409 and "retry it" in refused.get_data(as_text=True)


def test_refunds_stuck_executing_are_settled_by_asking_the_marketplace(market, agent, app):
    from helpdesk.dbtypes import utcnow
    from helpdesk.marketplace.records import RefundRequest

    sandbox, store, order = market("shopify", order_record("4015", lines=LINES))
    ticket = open_refund_ticket(order, agent)
    reached = service.request_refund(ticket, agent, kind="amount", amount="20.00")
    never = service.request_refund(ticket, agent, kind="amount", amount="5.00")
    # A process marked both "executing", its call for the first reached the marketplace, then it died.
    started = utcnow()
    for refund in (reached, never):
        refund.state, refund.updated_at = "executing", started
    db.session.commit()
    make_connector(store).create_refund(order.external_id, RefundRequest(amount=Decimal("20.00"), currency="EUR"))
    assert service.recover_stuck_refunds(started + timedelta(minutes=14)) == service.Recovery([], [], [])
    heard = []
    events.ticket_refunded.connect(lambda t, **kw: heard.append(kw["amount"]), weak=False)
    try:
        done = service.recover_stuck_refunds(started + timedelta(minutes=16))
    finally:
        events.ticket_refunded.receivers.clear()
    assert done == service.Recovery(succeeded=[reached.id], failed=[never.id], unreachable=[])
    db.session.expire_all()
    stored = refunds_in_db(order)
    assert [(r.amount, r.origin) for r in stored] == [(Decimal("20.00"), "helpdesk")]
    assert (reached.state, reached.refund_id) == ("succeeded", stored[0].id)
    assert (never.state, never.outcome_unknown) == ("failed", False)
    assert never.error == "The refund was interrupted before Shopify made it; nothing was refunded. Retry it or cancel it."
    assert heard == [Decimal("20.00")]
    assert len(sandbox.catalogue.shopify_orders[0]["refunds"]) == 1
    # idempotent: nothing is executing any more
    assert service.recover_stuck_refunds(started + timedelta(minutes=30)) == service.Recovery([], [], [])
    # the failed one is retried for real and goes through
    service.execute_refund(never, agent)
    assert never.state == "succeeded" and len(sandbox.catalogue.shopify_orders[0]["refunds"]) == 2


def test_a_stuck_refund_stays_executing_while_the_marketplace_is_unreachable(market, agent, app):
    from helpdesk.dbtypes import utcnow

    _, store, order = market("shopify", order_record("4016", lines=LINES))
    ticket = open_refund_ticket(order, agent)
    refund = service.request_refund(ticket, agent, kind="amount", amount="20.00")
    started = utcnow()
    refund.state, refund.updated_at = "executing", started
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        store.base_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    db.session.commit()
    done = service.recover_stuck_refunds(started + timedelta(minutes=16))
    assert done == service.Recovery(succeeded=[], failed=[], unreachable=[refund.id])
    db.session.expire_all()
    assert refund.state == "executing"
    result = app.test_cli_runner().invoke(args=["tickets", "refunds-recover"])
    assert result.exit_code == 0 and result.output.strip() == "0 made, 0 failed, 0 left (marketplace not reachable)."


def test_an_unreachable_marketplace_is_told_in_a_sentence_with_the_raw_error_in_the_detail(market, agent, client,
                                                                                           login):
    _, store, order = market("shopify", order_record("4017", lines=LINES))
    ticket = open_refund_ticket(order, agent)
    refund = service.request_refund(ticket, agent, kind="amount", amount="10.00")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        store.base_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    db.session.commit()
    with pytest.raises(service.RefundFailed) as failed:
        service.execute_refund(refund, agent)
    assert str(failed.value) == "Shopify could not be reached; nothing was refunded. Try again in a few minutes."
    assert (refund.state, refund.outcome_unknown) == ("failed", False)
    assert ticket.events[-1].payload["detail"].startswith(f"Cannot reach shopify at {store.base_url}/admin/api/")
    login()
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    headline = page[page.index('id="refund-failed"'):]
    assert headline[:headline.index("</p>")].endswith("Shopify could not be reached; nothing was refunded. "
                                                      "Try again in a few minutes.")
