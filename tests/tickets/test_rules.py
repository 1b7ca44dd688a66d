"""The after-sales rules as plain functions, on order rows built in memory (no database):
return window edges in the store's zone, delivery unknown, refund amounts and caps in
EUR, JPY and KWD, approval thresholds, status changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from helpdesk.models import Order, OrderLine, Shipment
from tickets import rules
from tickets.rules import Policy, Refunded

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def order(*, currency="EUR", lines=((2, "12.50"),), shipping="0", delivered=None, shipments=1, fulfillment="fulfilled",
          status="paid") -> Order:
    built = [OrderLine(id=i, external_id=str(i), title=f"Item {i}", quantity=q, unit_price=Decimal(p),
                       line_total=Decimal(p) * q) for i, (q, p) in enumerate(lines, 1)]
    total = sum((l.line_total for l in built), Decimal(shipping))
    return Order(id=1, number="#1", currency=currency, lines=built, shipping=Decimal(shipping), total=total,
                 financial_status=status, fulfillment_status=fulfillment,
                 shipments=[Shipment(external_id=str(n), delivered_at=delivered) for n in range(shipments)],
                 placed_at=datetime(2024, 3, 1, tzinfo=UTC))


# ---------------------------------------------------------------- return window

def test_the_last_minute_of_the_seventh_day_in_the_stores_zone_is_inside_across_the_dst_change():
    # Delivered Sunday 24 March 2024, 23:30 in Berlin (22:30 UTC, still CET). Seven days
    # later, 31 March, Berlin has switched to CEST: the window closes at 1 April 00:00
    # CEST, which is 31 March 22:00 UTC.
    delivered = datetime(2024, 3, 24, 23, 30, tzinfo=BERLIN)
    o = order(delivered=delivered.astimezone(UTC))
    last_minute = datetime(2024, 3, 31, 23, 59, tzinfo=BERLIN)
    decision = rules.check_return_window(o, window_days=7, zone="Europe/Berlin", now=last_minute.astimezone(UTC))
    assert decision.verified
    assert decision.deadline == datetime(2024, 3, 31, 22, 0, tzinfo=UTC)
    with pytest.raises(rules.ReturnWindowClosed) as refused:
        rules.check_return_window(o, window_days=7, zone="Europe/Berlin",
                                  now=datetime(2024, 4, 1, 0, 0, tzinfo=BERLIN).astimezone(UTC))
    assert "ended on 2024-03-31" in str(refused.value)
    assert "7 days after delivery" in str(refused.value)


def test_the_delivery_day_is_the_stores_local_day_not_utcs():
    # 16:00 UTC on 1 March is already 2 March in Tokyo: the window counts from 2 March there.
    delivered = datetime(2024, 3, 1, 16, 0, tzinfo=UTC)
    assert rules.return_deadline(delivered, 7, "Asia/Tokyo") == datetime(2024, 3, 10, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert rules.return_deadline(delivered, 7, "UTC") == datetime(2024, 3, 9, 0, 0, tzinfo=UTC)


def test_a_missing_delivery_date_accepts_the_return_unverified():
    o = order(delivered=None)
    decision = rules.check_return_window(o, window_days=7, zone="Europe/Berlin",
                                         now=datetime(2030, 1, 1, tzinfo=UTC))
    assert decision == rules.WindowDecision(verified=False, deadline=None, delivered_at=None)


def test_one_parcel_without_delivery_date_leaves_the_window_uncounted():
    o = order(delivered=datetime(2024, 3, 2, tzinfo=UTC), shipments=2)
    o.shipments[1].delivered_at = None
    assert not rules.check_return_window(o, window_days=7, zone="UTC", now=datetime(2030, 1, 1, tzinfo=UTC)).verified


def test_an_order_never_shipped_cannot_be_returned():
    with pytest.raises(rules.NotShippedYet, match="cancel"):
        rules.check_return_window(order(shipments=0, fulfillment="unfulfilled"), window_days=7, zone="UTC",
                                  now=datetime(2024, 3, 2, tzinfo=UTC))


# ---------------------------------------------------------------- lines

def test_units_already_in_a_return_cannot_be_returned_again():
    o = order(lines=((3, "10.00"),))
    assert rules.check_lines(o, [(1, 2)], {1: 1}, returning=True)[0][1] == 2
    with pytest.raises(rules.AlreadyReturned, match="Only 2 of 3"):
        rules.check_lines(o, [(1, 3)], {1: 1}, returning=True)
    with pytest.raises(rules.LineNotOnOrder):
        rules.check_lines(o, [(99, 1)], {}, returning=True)
    with pytest.raises(rules.InvalidQuantity):
        rules.check_lines(o, [(1, 0)], {}, returning=True)


# ---------------------------------------------------------------- refunds

def test_partial_refunds_sum_to_exactly_the_total_and_one_cent_more_is_refused():
    o = order(lines=((3, "9.99"),), shipping="4.90")  # 29.97 + 4.90 = 34.87
    first = rules.plan_refund(o, Refunded(), kind="lines", lines=[(1, 1)])
    assert first.amount == Decimal("9.99")
    second = rules.plan_refund(o, Refunded(total=first.amount, units={1: 1}), kind="lines", lines=[(1, 2)],
                               include_shipping=True)
    assert second.amount == Decimal("24.88")
    assert first.amount + second.amount == o.total
    with pytest.raises(rules.RefundExceedsOrderTotal, match="At most €0.00 can still be refunded"):
        rules.plan_refund(o, Refunded(total=o.total, units={1: 3}, shipping=Decimal("4.90")), kind="amount", amount="0.01")
    almost = Refunded(total=Decimal("34.86"))
    assert rules.plan_refund(o, almost, kind="amount", amount="0.01").amount == Decimal("0.01")
    with pytest.raises(rules.RefundExceedsOrderTotal, match="At most €0.01 can still be refunded"):
        rules.plan_refund(o, almost, kind="amount", amount="0.02")


def test_refunds_respect_minor_units_jpy_and_kwd():
    yen = order(currency="JPY", lines=((3, "1000"),))
    assert rules.plan_refund(yen, Refunded(), kind="amount", amount="1500").amount == Decimal("1500")
    with pytest.raises(rules.InvalidRefund, match="more decimals than JPY"):
        rules.plan_refund(yen, Refunded(), kind="amount", amount="1500.5")
    dinar = order(currency="KWD", lines=((3, "1.000"),))  # 3.000 KWD
    with pytest.raises(rules.InvalidRefund, match="more decimals than KWD"):
        rules.plan_refund(dinar, Refunded(), kind="amount", amount="1.2345")
    assert rules.plan_refund(dinar, Refunded(), kind="amount", amount="1.234").amount == Decimal("1.234")
    # one unit of a line of 3 units worth 1.000 KWD in all: 0.333 (half-even), never float
    odd = order(currency="KWD", lines=((3, "0.3334"),))
    odd.lines[0].line_total = Decimal("1.000")
    odd.total = Decimal("1.000")
    assert rules.plan_refund(odd, Refunded(), kind="lines", lines=[(1, 1)]).amount == Decimal("0.333")
    with pytest.raises(rules.InvalidRefund, match="float"):
        rules.plan_refund(order(), Refunded(), kind="amount", amount=1.5)


def test_full_refund_gives_back_what_is_left_and_an_unpaid_order_nothing():
    o = order(lines=((2, "12.50"),), shipping="5.00")
    plan = rules.plan_refund(o, Refunded(total=Decimal("12.50"), units={1: 1}), kind="full")
    assert (plan.amount, plan.shipping_amount, plan.lines) == (Decimal("17.50"), Decimal("5.00"),
                                                               [{"order_line_id": 1, "quantity": 1, "amount": "12.50"}])
    with pytest.raises(rules.NothingPaid):
        rules.plan_refund(order(status="authorized"), Refunded(), kind="full")
    with pytest.raises(rules.RefundExceedsLine):
        rules.plan_refund(o, Refunded(units={1: 2}, total=Decimal("25")), kind="lines", lines=[(1, 1)])
    with pytest.raises(rules.InvalidRefund):
        rules.plan_refund(o, Refunded(), kind="amount", amount="0")
    with pytest.raises(rules.InvalidRefund):
        rules.plan_refund(o, Refunded(), kind="amount", amount="-1")


def test_approval_threshold_is_strictly_above_and_other_currencies_always_need_a_manager():
    policy = Policy(approval_threshold=Decimal("100.00"), threshold_currency="EUR")
    assert not rules.needs_approval(Decimal("100.00"), "EUR", policy, "EUR")
    assert rules.needs_approval(Decimal("100.01"), "EUR", policy, "EUR")
    assert rules.needs_approval(Decimal("1.00"), "JPY", policy, "EUR")
    assert not rules.needs_approval(Decimal("9999"), "EUR", Policy(approval_threshold=None), "EUR")
    with pytest.raises(rules.ApprovalNotAllowed):
        rules.check_approver("agent")
    rules.check_approver("manager")


def test_closed_is_final_and_solved_can_reopen():
    rules.check_transition("solved", "open")
    with pytest.raises(rules.InvalidTransition, match="open a new one"):
        rules.check_transition("closed", "open")


def test_warranty_and_claim_deadlines_count_local_days():
    o = order(delivered=datetime(2024, 3, 1, 23, 30, tzinfo=UTC))  # 2 March in Berlin
    assert str(rules.warranty_end(o, 730, "Europe/Berlin")) == "2026-03-02"
    shipped = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert rules.claim_deadline(days=30, counted_from="shipped", shipped_at=shipped, delivered_at=None,
                                zone="UTC") == datetime(2024, 4, 1, tzinfo=UTC)
    assert rules.claim_deadline(days=30, counted_from="delivered", shipped_at=shipped, delivered_at=None,
                                zone="UTC") is None
    assert rules.local_midnight(datetime(2024, 3, 31).date() + timedelta(days=0), "Europe/Berlin") == \
        datetime(2024, 3, 30, 23, 0, tzinfo=UTC)


def test_amounts_in_refusals_are_written_for_the_currency_not_as_stored_decimals():
    pounds = order(currency="GBP", lines=((1, "4.60"),))
    with pytest.raises(rules.RefundExceedsOrderTotal) as refused:
        rules.plan_refund(pounds, Refunded(), kind="amount", amount="4.61")
    assert str(refused.value) == ("At most £4.60 can still be refunded on order #1: £0.00 of £4.60 is refunded or "
                                  "waiting to be refunded already.")
    yen = order(currency="JPY", lines=((2, "1200"),))
    with pytest.raises(rules.InvalidRefund, match=r"worth \(¥1,200\)"):
        rules.plan_refund(yen, Refunded(), kind="lines", lines=[(1, 1)], amount="1201")
    dinar = order(currency="KWD", lines=((1, "8.250"),))
    with pytest.raises(rules.RefundExceedsOrderTotal, match="At most KWD8.250 can"):
        rules.plan_refund(dinar, Refunded(), kind="amount", amount="8.251")
