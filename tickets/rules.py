"""After-sales rules as plain functions: return windows, returnable quantities, refund
amounts and caps, approval thresholds, warranty ends, carrier claim deadlines, status
changes. No Flask request and no database session here: callers pass the rows and the
instant ``now``; each refusal is an exception of its own with a message a buyer
understands (``str(exc)``) and a stable ``code`` for API clients.

Sources of the rules:

* return window: "14 days from the day the buyer receives the goods" is the EU right of
  withdrawal (Directive 2011/83/EU, art. 9); counted as Regulation 1182/71 counts
  periods: the day of delivery is not counted and the period ends at the end of its last
  day — here at midnight in the store's time zone. A store or marketplace policy (e.g. a
  seven-day no-reason return) sets the number of days.
* a refund is never larger than what was paid: the sum of every refund on an order stays
  at or below ``Order.total`` (the amount charged, after discounts, with shipping and tax).
* amounts respect the currency's minor units (:func:`helpdesk.money.parse_amount`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import format_number
from flask_babel import gettext as _

from helpdesk.models import Order, OrderLine
from helpdesk.text import isolate
from helpdesk.money import InvalidAmount, UnknownCurrency, parse_amount, quantise, round_to_minor
from helpdesk.templating import money as money_text

MAX_WINDOW_DAYS = 3650


class TicketRuleError(ValueError):
    """A request the after-sales rules refuse. ``code`` is stable for API clients;
    ``str(exc)`` is a sentence for the buyer or agent."""

    code = "refused"
    status = 422


class ReturnWindowClosed(TicketRuleError):
    code = "return_window_closed"


class NotShippedYet(TicketRuleError):
    code = "not_shipped_yet"


class LineNotOnOrder(TicketRuleError):
    code = "line_not_on_order"


class InvalidQuantity(TicketRuleError):
    code = "invalid_quantity"


class AlreadyReturned(TicketRuleError):
    code = "already_returned"


class InvalidRefund(TicketRuleError):
    code = "invalid_refund"


class NothingPaid(TicketRuleError):
    code = "nothing_paid"


class RefundExceedsOrderTotal(TicketRuleError):
    code = "refund_exceeds_order_total"


class RefundExceedsLine(TicketRuleError):
    code = "refund_exceeds_line"


class ApprovalNotAllowed(TicketRuleError):
    code = "approval_not_allowed"
    status = 403


class InvalidTransition(TicketRuleError):
    code = "invalid_transition"
    status = 409


class OrderRequired(TicketRuleError):
    code = "order_required"


class NotYourOrder(TicketRuleError):
    code = "not_your_order"
    status = 403


@dataclass(frozen=True)
class Policy:
    """A store's after-sales policy (see :class:`tickets.models.ReturnPolicy`).
    ``approval_threshold`` is in ``threshold_currency`` (the store's currency when
    empty); ``None`` means no threshold. Without any policy row: 14-day returns (the EU
    minimum), no approval threshold (an amount only means something in a currency, so
    each seller sets theirs), two-year warranty (the EU legal guarantee)."""

    return_window_days: int = 14
    approval_threshold: Decimal | None = None
    threshold_currency: str | None = None
    warranty_days: int = 730


DEFAULT_POLICY = Policy()


def local_midnight(day: date, zone: str) -> datetime:
    """The instant a calendar ``day`` begins in the IANA ``zone``, as aware UTC. Where
    midnight does not exist (a DST jump at 00:00), the first instant after the gap."""
    # zoneinfo reads a non-existent wall time with the offset in force before the jump,
    # which lands on the first instant after the gap.
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def return_deadline(delivered_at: datetime, window_days: int, zone: str) -> datetime:
    """The first instant a return is no longer accepted: midnight at the end of the
    ``window_days``-th day after the delivery day, in the store's ``zone`` (delivered on
    1 March with a 7-day window: accepted until 8 March 23:59:59.999999 local time)."""
    delivered_local = delivered_at.astimezone(ZoneInfo(zone)).date()
    return local_midnight(delivered_local + timedelta(days=window_days + 1), zone)


@dataclass(frozen=True)
class WindowDecision:
    """The outcome of :func:`check_return_window`: ``verified`` is False when the
    delivery date is unknown and the window could not be counted (the return is
    accepted and the agent checks delivery); ``deadline`` is the first instant refused."""

    verified: bool
    deadline: datetime | None
    delivered_at: datetime | None


def delivery_instant(order: Order) -> datetime | None:
    """When the order's goods arrived: the latest delivery of its shipments when every
    shipment has one; ``None`` when any parcel's delivery is unknown."""
    if not order.shipments or any(s.delivered_at is None for s in order.shipments):
        return None
    return max(s.delivered_at for s in order.shipments)


def check_return_window(order: Order, *, window_days: int, zone: str, now: datetime) -> WindowDecision:
    """Decide whether ``order`` may still be returned at ``now``.

    Delivery date missing: when the order has shipments (or its marketplace does not say
    it is unfulfilled) but not every parcel has a delivery date, the window cannot have
    provably started (it runs from receipt), so the return is accepted with
    ``verified=False``; the ticket is tagged ``delivery-date-unknown`` for the agent.

    Raises:
        NotShippedYet: nothing was shipped (no shipment and the order says unfulfilled).
        ReturnWindowClosed: ``now`` is at or after the deadline.
    """
    if not order.shipments and order.fulfillment_status == "unfulfilled":
        raise NotShippedYet("This order has not been shipped yet, so there is nothing to return; "
                            "you can ask us to cancel it instead.")
    delivered = delivery_instant(order)
    if delivered is None:
        return WindowDecision(verified=False, deadline=None, delivered_at=None)
    deadline = return_deadline(delivered, window_days, zone)
    if now >= deadline:
        last_day = (deadline - timedelta(microseconds=1)).astimezone(ZoneInfo(zone)).date()
        raise ReturnWindowClosed(
            f"The return period for this order ended on {last_day.isoformat()} "
            f"({window_days} days after delivery)."
        )
    return WindowDecision(verified=True, deadline=deadline, delivered_at=delivered)


def check_lines(order: Order, requested: list[tuple[int, int]], taken: dict[int, int], *,
                returning: bool) -> list[tuple[OrderLine, int]]:
    """Check the ``(order line id, quantity)`` pairs a case is about.

    Args:
        taken: order line id → units already in other returns or exchanges (or refunded
            with their lines), which cannot be returned again.
        returning: the case takes units back (return, exchange): quantities beyond what is
            left are refused as already returned.

    Returns:
        ``[(OrderLine, quantity)]`` in the order given.

    Raises:
        LineNotOnOrder, InvalidQuantity, AlreadyReturned.
    """
    lines = {line.id: line for line in order.lines}
    seen: set[int] = set()
    checked = []
    for line_id, quantity in requested:
        line = lines.get(line_id)
        if line is None or line_id in seen:
            raise LineNotOnOrder(_("That item is not on order %(number)s (or was given twice).",
                                   number=isolate(order.number)))
        seen.add(line_id)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= line.quantity:
            raise InvalidQuantity(_("Choose between 1 and %(quantity)s of “%(title)s”.",
                                    quantity=format_number(line.quantity), title=isolate(line.title)))
        left = line.quantity - taken.get(line_id, 0)
        if returning and quantity > left:
            raise AlreadyReturned(_("Only %(left)s of %(quantity)s “%(title)s” can still be returned; the others are "
                                    "already in a return.", left=format_number(max(left, 0)),
                                    quantity=format_number(line.quantity), title=isolate(line.title)))
        checked.append((line, quantity))
    return checked


PAID_STATUSES_REFUSED = ("pending", "authorized", "voided", "failed")


@dataclass(frozen=True)
class RefundPlan:
    """What a refund gives back: ``amount`` (total, in ``currency``), of which
    ``shipping_amount`` is shipping, and ``lines`` ``[{"order_line_id", "quantity",
    "amount"}]`` (amounts as strings, exact)."""

    kind: str
    amount: Decimal
    currency: str
    shipping_amount: Decimal = Decimal(0)
    lines: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Refunded:
    """What is already refunded (or being refunded) on an order: ``total``,
    ``shipping`` and units per order line id."""

    total: Decimal = Decimal(0)
    shipping: Decimal = Decimal(0)
    units: dict[int, int] = field(default_factory=dict)


def money(value, currency: str, what: str) -> Decimal:
    """``value`` as an exact amount of ``currency``.

    Raises:
        InvalidRefund: not a number, a float, negative, or finer than the minor unit
            (``10.005`` EUR, ``1.5`` JPY).
    """
    try:
        amount = parse_amount(value, currency)
    except (InvalidAmount, UnknownCurrency) as exc:
        raise InvalidRefund(_("%(what)s: %(problem)s", what=what, problem=exc)) from None
    if amount < 0:
        raise InvalidRefund(_("%(what)s cannot be negative.", what=what))
    return amount


def plan_refund(order: Order, refunded: Refunded, *, kind: str, lines: list[tuple[int, int]] = (),
                amount=None, include_shipping: bool = False) -> RefundPlan:
    """Work out a refund and check it against what the order paid.

    Args:
        kind: ``full`` (whatever is left), ``lines`` (units of order lines at their paid
            price, ``line_total`` × quantity ÷ units, rounded to the minor unit half to
            even; ``include_shipping`` adds the shipping left; ``amount`` may lower the
            total, e.g. to keep a restocking fee), ``shipping`` (the shipping left) or
            ``amount`` (a goodwill amount, no lines).
        lines: ``[(order line id, quantity)]`` for ``kind="lines"``.
        amount: a string or ``Decimal`` in the order currency (never float).

    Raises:
        NothingPaid: the order's payment was not captured (pending, authorized, voided).
        InvalidRefund, LineNotOnOrder, InvalidQuantity, RefundExceedsLine,
        RefundExceedsOrderTotal: as named; the message says how much is left.
    """
    currency = order.currency
    if order.financial_status in PAID_STATUSES_REFUSED:
        raise NothingPaid("This order has no captured payment to refund (it is "
                          f"{order.financial_status.replace('_', ' ')}).")
    left = order.total - refunded.total
    shipping_left = max(order.shipping - refunded.shipping, Decimal(0))
    plan_lines: list[dict] = []
    shipping = Decimal(0)
    if kind == "full":
        total = left
        shipping = min(shipping_left, left)
        for line in order.lines:
            units = line.quantity - refunded.units.get(line.id, 0)
            if units > 0:
                plan_lines.append({"order_line_id": line.id, "quantity": units,
                                   "amount": str(_line_value(line, units, currency))})
    elif kind == "lines":
        if not lines:
            raise InvalidRefund("Choose the items to refund.")
        for line, units in check_lines(order, list(lines), refunded.units, returning=False):
            if units > line.quantity - refunded.units.get(line.id, 0):
                raise RefundExceedsLine(
                    f"Only {line.quantity - refunded.units.get(line.id, 0)} of “{line.title}” are not refunded yet."
                )
            plan_lines.append({"order_line_id": line.id, "quantity": units,
                               "amount": str(_line_value(line, units, currency))})
        shipping = shipping_left if include_shipping else Decimal(0)
        total = sum((Decimal(item["amount"]) for item in plan_lines), shipping)
        if amount not in (None, ""):
            lowered = money(amount, currency, "The refund amount")
            if lowered > total:
                raise InvalidRefund(f"The amount is more than the chosen items are worth "
                                    f"({money_text(total, currency)}).")
            total = lowered
    elif kind == "shipping":
        shipping = total = shipping_left
    elif kind == "amount":
        total = money(amount, currency, "The refund amount")
    else:
        raise InvalidRefund("The refund must be full, by items, shipping, or an amount.")
    if total <= 0:
        raise InvalidRefund("There is nothing left to refund." if kind in ("full", "shipping")
                            else "The refund amount must be more than zero.")
    if total > left:
        raise RefundExceedsOrderTotal(
            f"At most {money_text(max(left, Decimal(0)), currency)} can still be refunded on order "
            f"{order.number}: {money_text(refunded.total, currency)} of {money_text(order.total, currency)} "
            "is refunded or waiting to be refunded already."
        )
    return RefundPlan(kind=kind, amount=quantise(total, currency), currency=currency,
                      shipping_amount=quantise(shipping, currency), lines=plan_lines)


def _line_value(line: OrderLine, units: int, currency: str) -> Decimal:
    """What ``units`` of ``line`` cost the buyer: its paid total pro rata."""
    if units == line.quantity:
        return round_to_minor(line.line_total, currency)
    return round_to_minor(line.line_total * units / line.quantity, currency)


def needs_approval(amount: Decimal, currency: str, policy: Policy, store_currency: str) -> bool:
    """True when a refund of ``amount`` ``currency`` must be approved by a manager:
    above the policy threshold, or in a currency other than the threshold's (there is
    no exchange rate to compare with, so a person decides)."""
    if policy.approval_threshold is None:
        return False
    if currency != (policy.threshold_currency or store_currency):
        return True
    return amount > policy.approval_threshold


def check_approver(role: str) -> None:
    """Only managers and admins approve refunds above the threshold.

    Raises:
        ApprovalNotAllowed: any other role.
    """
    if role not in ("manager", "admin"):
        raise ApprovalNotAllowed("A manager must approve this refund.")


def warranty_end(order: Order, days: int, zone: str) -> date:
    """The last day of the warranty in the store's ``zone``: ``days`` after delivery, or
    after the order date when delivery is unknown."""
    start = delivery_instant(order) or order.placed_at
    return start.astimezone(ZoneInfo(zone)).date() + timedelta(days=days)


def claim_deadline(*, days: int, counted_from: str, shipped_at: datetime | None,
                   delivered_at: datetime | None, zone: str) -> datetime | None:
    """A carrier's claim deadline: the end of the ``days``-th day after the shipping or
    delivery day in ``zone`` (midnight after it); ``None`` when that date is unknown."""
    start = delivered_at if counted_from == "delivered" else shipped_at
    if start is None:
        return None
    return return_deadline(start, days, zone)


TRANSITIONS = {
    "new": {"open", "pending", "on_hold", "solved", "closed"},
    "open": {"pending", "on_hold", "solved", "closed"},
    "pending": {"open", "on_hold", "solved", "closed"},
    "on_hold": {"open", "pending", "solved", "closed"},
    "solved": {"open", "closed"},
    "closed": set(),
}


def check_transition(current: str, target: str) -> None:
    """Allowed status changes; a closed ticket is final (a new one is opened instead).

    Raises:
        InvalidTransition: not allowed from ``current``.
    """
    if target not in TRANSITIONS.get(current, set()):
        if current == "closed":
            raise InvalidTransition("This request is closed; please open a new one.")
        raise InvalidTransition(f"A {current.replace('_', ' ')} request cannot become {target.replace('_', ' ')}.")


def window_days_valid(days: object) -> int:
    """A return window length in whole days, 0 to 3650.

    Raises:
        InvalidQuantity: anything else.
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_WINDOW_DAYS:
        raise InvalidQuantity(f"The return window must be 0 to {MAX_WINDOW_DAYS} days.")
    return days
