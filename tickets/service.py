"""Ticket actions: open a case, write on its timeline, change its status, assignee and
fields, ask for, approve and execute refunds, track logistics claims and disputes.

No Flask request in sight: views, the API and the CLI call these with an :class:`Actor`.
Every action checks :mod:`tickets.rules`, appends to the timeline, commits, and only then
sends its domain event (:mod:`tickets.events`). A refused action changes nothing.

Refunds and concurrency: the order row is locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions begin IMMEDIATE, which serialises writers) while the
refund is checked against what is refunded or being refunded and marked ``executing``;
the marketplace is called after that commit, so two agents refunding the same order at
the same moment can never together pass the order's total.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from chat.models import Conversation
from chat.service import ChatError, clean_body
from helpdesk.console.queries import order_number_variants
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.marketplace.base import (
    MarketplaceAuthError,
    MarketplaceError,
    MissingCredentials,
    OutcomeUnknown,
    RateLimited,
    RefundRefused,
    registered_kinds,
)
from helpdesk.marketplace.records import RefundLineRecord, RefundRequest
from helpdesk.marketplace.sync import RecordRejected, apply_order, apply_refund, make_connector, normalise_email
from helpdesk.models import Agent, Customer, Order, Refund, Store, Team
from helpdesk.money import InvalidAmount, parse_amount
from helpdesk.templating import money as money_text
from helpdesk.text import has_control_characters
from helpdesk.validation import InvalidInput, clean_language_tag, clean_name
from tickets import events, rules
from tickets.models import (
    CHANNELS,
    CLAIM_KINDS,
    CLAIM_OUTCOMES,
    DISPUTE_OUTCOMES,
    PRIORITIES,
    REASON_CODES,
    RESERVED_REFUND_STATES,
    RESOLUTIONS,
    RETURNING_TYPES,
    TICKET_TYPES,
    CarrierClaimRule,
    LogisticsClaim,
    PaymentDispute,
    ReturnPolicy,
    Ticket,
    TicketEvent,
    TicketLine,
    TicketRefund,
)

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 10_000
MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_LINES = 200
MAX_SHORT_TEXT = 100
CLOCK_SKEW = timedelta(minutes=5)
# A refund still ``executing`` this long after it started belongs to a process that died
# mid-call: far above the connectors' write timeout (10 s to connect + 60 s to answer).
STUCK_REFUND_AFTER = timedelta(minutes=15)
MARKETPLACE_NAMES = {"shopify": "Shopify", "woocommerce": "WooCommerce", "amazon": "Amazon", "ebay": "eBay"}
ORDER_TYPES = tuple(t for t in TICKET_TYPES if t != "question")


class InvalidTicket(rules.TicketRuleError):
    """Input that is not usable (empty subject, unknown type, text too long ...)."""

    code = "invalid_input"
    status = 400


class TicketNotFound(rules.TicketRuleError):
    code = "not_found"
    status = 404


class WarrantyExpired(rules.TicketRuleError):
    code = "warranty_expired"


class RefundFailed(rules.TicketRuleError):
    """The marketplace did not make the refund; the ticket shows "refund failed" with
    a sentence saying why (``str(exc)``, see :func:`marketplace_sentence`)."""

    code = "refund_failed"
    status = 502


class BuyerNotIdentified(rules.TicketRuleError):
    code = "not_identified"
    status = 404


@dataclass(frozen=True)
class Actor:
    """Who acts: an agent (``agent``), a buyer identified for ``customer_id``, the API
    (an agent through a token: ``kind="api"``) or the system."""

    kind: str
    agent: Agent | None = None
    customer_id: int | None = None

    @classmethod
    def of_agent(cls, agent: Agent, *, api: bool = False) -> Actor:
        return cls("api" if api else "agent", agent=agent)

    @classmethod
    def of_buyer(cls, customer_id: int) -> Actor:
        return cls("buyer", customer_id=customer_id)

    @property
    def is_agent(self) -> bool:
        return self.agent is not None

    @property
    def agent_id(self) -> int | None:
        return self.agent.id if self.agent else None


# ---------------------------------------------------------------- lookups and checks

def identify_buyer(order_number: str, email: str) -> Order:
    """The buyer's order with this number whose buyer has this e-mail (how buyers are
    identified without an account: order number plus e-mail).

    Raises:
        BuyerNotIdentified: no such order for that address (the same answer whether the
            order exists or not, so numbers cannot be probed).
    """
    number, address = (order_number or "").strip()[:100], normalise_email((email or "")[:254])
    order = None
    if number and address:
        order = db.session.scalar(
            select(Order).join(Customer, Order.customer_id == Customer.id)
            .where(Order.number.in_(order_number_variants(number)), Customer.email == address)
            .order_by(Order.placed_at.desc())
        )
    if order is None:
        raise BuyerNotIdentified(_("We found no order with that number for that e-mail address."))
    return order


def get_ticket(ticket_id: int, *, for_buyer: int | None = None) -> Ticket:
    """A ticket by id; with ``for_buyer`` (a customer id) only that buyer's own.

    Raises:
        TicketNotFound: no such ticket, or not this buyer's.
    """
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or (for_buyer is not None and ticket.customer_id != for_buyer):
        raise TicketNotFound("There is no such request.")
    return ticket


def policy_for(store: Store | None) -> rules.Policy:
    """The store's policy: its own row, else its marketplace's, else the default row,
    else :data:`tickets.rules.DEFAULT_POLICY`."""
    rows = db.session.scalars(select(ReturnPolicy).where(or_(
        ReturnPolicy.store_id == (store.id if store else None),
        (ReturnPolicy.store_id.is_(None) & (ReturnPolicy.marketplace == (store.kind if store else None))),
        (ReturnPolicy.store_id.is_(None) & ReturnPolicy.marketplace.is_(None)),
    ))).all()
    rank = sorted(rows, key=lambda r: (r.store_id is None, r.marketplace is None))
    if not rank:
        return rules.DEFAULT_POLICY
    row = rank[0]
    return rules.Policy(return_window_days=row.return_window_days, approval_threshold=row.approval_threshold,
                        threshold_currency=row.threshold_currency, warranty_days=row.warranty_days)


def lock_order(order_id: int) -> Order:
    """The order, locked for this transaction (``SELECT ... FOR UPDATE``; SQLite's
    IMMEDIATE transaction already holds the write lock), read fresh from the database."""
    return db.session.scalar(
        select(Order).where(Order.id == order_id).with_for_update()
        .options(selectinload(Order.lines), selectinload(Order.shipments), selectinload(Order.store))
        .execution_options(populate_existing=True)
    )


def _reserved(request: TicketRefund) -> bool:
    """Whether a request's money is spoken for without a :class:`Refund` row yet."""
    return request.state in RESERVED_REFUND_STATES or (request.state == "failed" and request.outcome_unknown)


def refunded_so_far(order: Order, *, exclude: int | None = None) -> rules.Refunded:
    """What is refunded on ``order`` (every :class:`Refund`, from the marketplace or us)
    plus every request not made yet but not given up either (waiting for approval,
    approved, executing, or failed with an unknown outcome), read fresh; ``exclude`` is a
    request id left out (the one being executed)."""
    refunds = db.session.scalars(
        select(Refund).where(Refund.order_id == order.id).options(selectinload(Refund.lines))
        .execution_options(populate_existing=True)
    ).all()
    requests = db.session.scalars(
        select(TicketRefund).where(TicketRefund.order_id == order.id, TicketRefund.id != (exclude or 0))
        .execution_options(populate_existing=True)
    ).all()
    total = sum((r.amount for r in refunds), Decimal(0))
    units: dict[int, int] = {}
    for refund in refunds:
        for line in refund.lines:
            units[line.order_line_id] = units.get(line.order_line_id, 0) + line.quantity
    shipping = Decimal(0)
    for request in requests:
        if request.state == "succeeded" or _reserved(request):
            shipping += request.shipping_amount
        if _reserved(request):
            total += request.amount
            for item in request.lines:
                units[item["order_line_id"]] = units.get(item["order_line_id"], 0) + item["quantity"]
    return rules.Refunded(total=total, shipping=shipping, units=units)


def units_taken(order: Order, *, exclude_ticket: int | None = None) -> dict[int, int]:
    """Units of each order line that are in a return or exchange (not rejected or
    withdrawn), or were refunded with their lines outside the helpdesk's tickets:
    these cannot be returned again."""
    taken: dict[int, int] = {}
    rows = db.session.execute(
        select(TicketLine.order_line_id, TicketLine.quantity).join(Ticket, TicketLine.ticket_id == Ticket.id)
        .where(Ticket.order_id == order.id, Ticket.type.in_(RETURNING_TYPES), TicketLine.role == "affected",
               Ticket.id != (exclude_ticket or 0),
               or_(Ticket.resolution.is_(None), Ticket.resolution.not_in(("rejected", "withdrawn"))))
    )
    for line_id, quantity in rows:
        taken[line_id] = taken.get(line_id, 0) + quantity
    linked = select(TicketRefund.refund_id).where(TicketRefund.refund_id.is_not(None))
    for refund in db.session.scalars(select(Refund).where(Refund.order_id == order.id, Refund.id.not_in(linked))):
        for line in refund.lines:
            taken[line.order_line_id] = taken.get(line.order_line_id, 0) + line.quantity
    return taken


# ---------------------------------------------------------------- input cleaning

def choice(value: object, allowed: tuple[str, ...], what: str, default: str | None = None) -> str | None:
    """``value`` if it is one of ``allowed`` (``default`` when empty).

    Raises:
        InvalidTicket: anything else.
    """
    if value in (None, ""):
        return default
    if value not in allowed:
        raise InvalidTicket(f"{what} must be one of: {', '.join(allowed)}.")
    return value


def clean_text(value: object, what: str, max_length: int, *, required: bool = False) -> str:
    """Free text (line breaks and tabs kept), trimmed, at most ``max_length`` characters,
    no control characters. Never truncated.

    Raises:
        InvalidTicket: not text, empty when ``required``, too long, control characters.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidTicket(_("%(what)s must be text.", what=what))
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not text:
        raise InvalidTicket(_("%(what)s must not be empty.", what=what))
    if len(text) > max_length:
        raise InvalidTicket(_("%(what)s is %(length)s characters long; the limit is %(limit)s.", what=what,
                              length=format_number(len(text)), limit=format_number(max_length)))
    if has_control_characters(text, allowed="\n\t"):
        raise InvalidTicket(_("%(what)s contains control characters.", what=what))
    return text


def clean_subject(value: object) -> str:
    """A one-line subject of 1 to 200 characters."""
    try:
        return clean_name(value if isinstance(value, str) else "", _l("The subject"), 200)
    except InvalidInput as exc:
        raise InvalidTicket(str(exc)) from None


def clean_tags(value: object) -> list[str]:
    """Up to 20 tags of 1–40 characters, lower-cased, spaces as hyphens, each once
    (a comma-separated string or a list of strings)."""
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(t, str) for t in items):
        raise InvalidTicket("Tags must be a list of words.")
    tags: list[str] = []
    for item in items:
        tag = "-".join(item.strip().lower().split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or has_control_characters(tag):
            raise InvalidTicket(f"A tag has at most {MAX_TAG_LENGTH} printable characters.")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidTicket(f"At most {MAX_TAGS} tags.")
    return tags


def clean_lines(value: object) -> list[tuple[int, int]]:
    """``[{"order_line_id": int, "quantity": int}]`` (or pairs) → ``[(id, quantity)]``.

    Raises:
        InvalidTicket: not that shape, or more than 200 lines.
    """
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_LINES:
        raise InvalidTicket(f"Lines must be a list of at most {MAX_LINES} items.")
    pairs = []
    for item in value:
        if isinstance(item, dict):
            item = (item.get("order_line_id"), item.get("quantity"))
        if (not isinstance(item, (list, tuple)) or len(item) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)):
            raise InvalidTicket("Each line needs a whole-number order_line_id and quantity.")
        pairs.append((item[0], item[1]))
    return pairs


def clean_instant(value: object, what: str) -> datetime:
    """An ISO 8601 instant with a UTC offset (``2024-06-01T12:00:00+02:00``), or an aware
    datetime, as aware UTC.

    Raises:
        InvalidTicket: missing, unparseable or without offset.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 0 < len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidTicket(f"{what} must be a date and time such as 2024-06-01T12:00:00+02:00.") from None
    else:
        raise InvalidTicket(f"{what} is required.")
    if parsed.utcoffset() is None:
        raise InvalidTicket(f"{what} needs a time zone offset (…+02:00 or …Z).")
    return parsed.astimezone(utcnow().tzinfo)


def clean_money(value: object, currency: str | None, what: str) -> Decimal | None:
    """An optional amount in ``currency`` (string or ``Decimal``, never float)."""
    if value in (None, ""):
        return None
    if currency is None:
        raise InvalidTicket(f"{what} needs an order (its currency).")
    return rules.money(value, currency, what)


# ---------------------------------------------------------------- timeline

def record(ticket: Ticket, actor: Actor, kind: str, payload: dict | None = None, *, internal: bool = False,
           now: datetime | None = None) -> TicketEvent:
    """Append an entry to the ticket's timeline (in the session; the action commits)."""
    entry = TicketEvent(ticket=ticket, actor="agent" if actor.kind == "api" else actor.kind, agent=actor.agent,
                        kind=kind, internal=internal, payload=payload or {}, created_at=now or utcnow())
    db.session.add(entry)
    ticket.updated_at = entry.created_at
    return entry


def commit_and_emit(ticket: Ticket, sends: list[tuple]) -> None:
    """Commit the action, then send its domain events: ``sends`` is ``[(signal,
    kwargs)]`` (see :func:`tickets.events.emit`)."""
    db.session.commit()
    for signal, kwargs in sends:
        events.emit(signal, ticket, **kwargs)


def event_args(actor: Actor, now: datetime) -> dict:
    """The keyword arguments every domain event carries (actor, agent id, instant)."""
    return {"actor": actor.kind, "agent_id": actor.agent_id, "at": now}


# ---------------------------------------------------------------- creating

def create_ticket(actor: Actor, *, order: Order | None, type: str, subject: object, description: object = "",
                  lines: object = None, reason_code: object = None, priority: object = None, channel: object = None,
                  language: object = None, tags: object = None, requested_amount: object = None,
                  conversation: Conversation | None = None, replacement: dict | None = None,
                  claim: dict | None = None, dispute: dict | None = None, override_policy: bool = False,
                  override_reason: object = "", now: datetime | None = None) -> Ticket:
    """Open a case and commit it; sends :data:`~tickets.events.ticket_created`.

    Args:
        actor: an agent (web, API) or a buyer (who may only use their own order).
        order: the order the case is about; required for every type but ``question``.
        type: one of :data:`~tickets.models.TICKET_TYPES`.
        lines: ``[{"order_line_id", "quantity"}]`` — the affected units.
        requested_amount: what the buyer asks back, in the order currency.
        conversation: the chat it came from (its buyer and order carry over).
        replacement: for an exchange, ``{"sku", "title", "quantity"}`` of the item to send.
        claim: for a logistics claim, ``{"kind", "shipment_id"?, "carrier"?,
            "tracking_number"?, "declared_value"?, "insured"?, "insured_amount"?}``.
        dispute: for a payment dispute, ``{"evidence_due_at", "reference"?, "network_reason"?}``.
        override_policy: an agent accepts a return or warranty case outside the policy
            (recorded on the timeline with ``override_reason``); buyers cannot.
        now: the instant of creation (aware UTC), for tests.

    Raises:
        InvalidTicket, rules.NotYourOrder, rules.OrderRequired, rules.ReturnWindowClosed,
        rules.NotShippedYet, rules.AlreadyReturned, rules.LineNotOnOrder,
        rules.InvalidQuantity, WarrantyExpired, rules.InvalidRefund.
    """
    now = now or utcnow()
    type = choice(type, TICKET_TYPES, "The type")
    if type is None:
        raise InvalidTicket(_("Choose what the request is about."))
    if actor.kind == "buyer" and order is not None and order.customer_id != actor.customer_id:
        raise rules.NotYourOrder(_("You can only open requests about your own orders."))
    if order is None and type in ORDER_TYPES:
        raise rules.OrderRequired(_("Tell us which order this is about."))
    if conversation is not None and order is None:
        order = conversation.order
    ticket = Ticket(
        type=type,
        subject=clean_subject(subject),
        description=clean_text(description, _l("The description"), MAX_DESCRIPTION),
        reason_code=choice(reason_code, REASON_CODES, "The reason"),
        priority=choice(priority, PRIORITIES, "The priority", "normal"),
        channel=choice(channel, CHANNELS, "The channel", "chat" if conversation else "web_form"),
        tags=clean_tags(tags),
        order=order,
        store=order.store if order else (conversation.store if conversation else None),
        customer=order.customer if order else (conversation.customer if conversation else None),
        conversation=conversation,
        buyer_email=(order.customer.email if order and order.customer else
                     conversation.buyer_email if conversation else None),
        currency=order.currency if order else None,
        created_by=actor.agent,
        created_at=now,
        updated_at=now,
        status="new",
    )
    try:
        ticket.language = clean_language_tag(language) if language else (
            (order.customer.preferred_language if order and order.customer else None)
            or (conversation.buyer_language if conversation else None))
    except InvalidInput as exc:
        raise InvalidTicket(str(exc)) from None
    if ticket.language and len(ticket.language) > 35:
        ticket.language = None
    ticket.requested_amount = clean_money(requested_amount, ticket.currency, _l("The amount asked for"))
    override = bool(override_policy) and actor.is_agent
    notes: list[tuple[str, dict]] = []
    if order is not None:
        _check_order_rules(ticket, order, clean_lines(lines), override, notes, now)
    elif clean_lines(lines):
        raise rules.OrderRequired("Lines need an order.")
    if type == "exchange":
        _add_replacement(ticket, replacement)
    if type == "logistics_claim":
        _add_claim(ticket, order, claim or {})
    if type == "payment_dispute":
        _add_dispute(ticket, order, conversation, dispute or {})
    db.session.add(ticket)
    record(ticket, actor, "created", {
        "type": type, "channel": ticket.channel, "order": order.number if order else None,
        "lines": [{"order_line_id": l.order_line.id, "quantity": l.quantity} for l in ticket.affected_lines],
        "conversation": conversation.public_id if conversation else None,
    }, now=now)
    if override:
        record(ticket, actor, "policy_override", {"reason": clean_text(override_reason, "The reason", 500)},
               internal=True, now=now)
    for kind, payload in notes:
        record(ticket, Actor("system"), kind, payload, internal=True, now=now)
    commit_and_emit(ticket, [(events.ticket_created, {**event_args(actor, now), "channel": ticket.channel})])
    return ticket


def _check_order_rules(ticket: Ticket, order: Order, lines: list[tuple[int, int]], override: bool,
                       notes: list, now: datetime) -> None:
    policy = policy_for(order.store)
    zone = order.store.time_zone or "UTC"
    if ticket.type in RETURNING_TYPES:
        if not lines:
            raise rules.InvalidQuantity(_("Choose the items and quantities to return."))
        try:
            decision = rules.check_return_window(order, window_days=policy.return_window_days, zone=zone, now=now)
        except rules.ReturnWindowClosed as exc:  # goodwill covers the window, never "nothing was shipped"
            if not override:
                raise
            notes.append(("policy_overridden", {"rule": exc.code, "message": str(exc)}))
        else:
            if not decision.verified:
                ticket.tags = [*ticket.tags, "delivery-date-unknown"]
                notes.append(("delivery_date_unknown", {"message": "The delivery date is unknown: the return window "
                                                        "was not checked. Confirm delivery before approving."}))
            else:
                notes.append(("return_window", {"deadline": decision.deadline.isoformat(),
                                                "window_days": policy.return_window_days}))
    checked = rules.check_lines(order, lines, units_taken(order), returning=ticket.type in RETURNING_TYPES)
    for line, quantity in checked:
        ticket.lines.append(TicketLine(order_line=line, quantity=quantity, role="affected",
                                       sku=line.sku, title=line.title))
    if ticket.type == "warranty":
        ticket.warranty_ends_on = rules.warranty_end(order, policy.warranty_days, zone)
        from zoneinfo import ZoneInfo

        if now.astimezone(ZoneInfo(zone)).date() > ticket.warranty_ends_on:
            if not override:
                raise WarrantyExpired(f"The warranty for this order ended on {ticket.warranty_ends_on.isoformat()}.")
            notes.append(("policy_overridden", {"rule": "warranty_expired"}))


def _add_replacement(ticket: Ticket, replacement: dict | None) -> None:
    replacement = replacement or {}
    title = clean_text(replacement.get("title"), _l("The replacement item"), 500)
    sku = clean_text(replacement.get("sku"), "The replacement SKU", MAX_SHORT_TEXT)
    quantity = replacement.get("quantity")
    if not title and not sku:
        # Same item, another unit (a size or colour swap is named in the description).
        first = ticket.affected_lines[0] if ticket.affected_lines else None
        title, sku = (first.title or "", first.sku) if first else ("", None)
    if quantity in (None, ""):
        quantity = sum(line.quantity for line in ticket.affected_lines) or 1
    if isinstance(quantity, str) and quantity.isdigit():
        quantity = int(quantity)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 1000:
        raise InvalidTicket(_("The replacement quantity must be %(low)s to %(high)s.", low=format_number(1),
                              high=format_number(1000)))
    if not title:
        raise InvalidTicket(_("Name the item to send in exchange."))
    ticket.lines.append(TicketLine(role="replacement", quantity=quantity, sku=sku or None, title=title))


def claim_rule(carrier: str | None, kind: str) -> CarrierClaimRule | None:
    """The carrier's rule for ``kind``, else its rule for every kind, else the ``*``
    fallback for ``kind``, else ``*`` for every kind (case-insensitive carrier)."""
    name = (carrier or "").strip().lower()
    rows = db.session.scalars(select(CarrierClaimRule).where(CarrierClaimRule.carrier.in_([name, "*"]))).all()
    ranked = sorted((r for r in rows if r.kind in (kind, None)),
                    key=lambda r: (r.carrier == "*", r.kind is None))
    return ranked[0] if ranked else None


def _add_claim(ticket: Ticket, order: Order, data: dict) -> None:
    kind = choice(data.get("kind"), CLAIM_KINDS, "The claim kind")
    if kind is None:
        raise InvalidTicket(_("Say whether the parcel was lost, damaged, late or held in customs."))
    shipment = None
    if data.get("shipment_id") not in (None, ""):
        shipment = next((s for s in order.shipments if str(s.id) == str(data["shipment_id"])), None)
        if shipment is None:
            raise InvalidTicket("That shipment is not on this order.")
    elif order.shipments:
        shipment = order.shipments[-1]
    carrier = clean_text(data.get("carrier"), "The carrier", MAX_SHORT_TEXT) or (shipment.carrier if shipment else None)
    tracking = (clean_text(data.get("tracking_number"), "The tracking number", MAX_SHORT_TEXT)
                or (shipment.tracking_number if shipment else None))
    claim = LogisticsClaim(kind=kind, carrier=carrier, tracking_number=tracking,
                           shipment_id=shipment.id if shipment else None, currency=order.currency,
                           declared_value=clean_money(data.get("declared_value"), order.currency, "The declared value"),
                           insured=data.get("insured") in (True, "true", "on", "1", "yes"),
                           insured_amount=clean_money(data.get("insured_amount"), order.currency, "The insured amount"))
    rule = claim_rule(carrier, kind)
    if rule is not None:
        claim.deadline = rules.claim_deadline(
            days=rule.days, counted_from=rule.counted_from, shipped_at=shipment.shipped_at if shipment else None,
            delivered_at=shipment.delivered_at if shipment else None, zone=order.store.time_zone or "UTC")
    ticket.due_at = claim.deadline
    ticket.claim = claim


def gather_evidence(order: Order | None, conversation: Conversation | None) -> list[dict]:
    """What a dispute answer can show, from the order: each shipment's carrier, tracking
    and delivery (proof of delivery), the order's refunds, and the chat it came from."""
    evidence: list[dict] = []
    for shipment in order.shipments if order else []:
        evidence.append({"kind": "shipment", "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
                         "tracking_url": shipment.tracking_url, "status": shipment.status,
                         "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
                         "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at else None})
    for refund in order.refunds if order else []:
        evidence.append({"kind": "refund", "amount": str(refund.amount), "currency": refund.currency,
                         "created_at": refund.created_at.isoformat()})
    if conversation is not None:
        evidence.append({"kind": "conversation", "conversation": conversation.public_id,
                         "messages": conversation.last_seq})
    return evidence


def _add_dispute(ticket: Ticket, order: Order | None, conversation: Conversation | None, data: dict) -> None:
    due = clean_instant(data.get("evidence_due_at"), "The evidence due date")
    ticket.dispute = PaymentDispute(
        evidence_due_at=due,
        reference=clean_text(data.get("reference"), "The dispute reference", MAX_SHORT_TEXT) or None,
        network_reason=clean_text(data.get("network_reason"), "The dispute reason", 200) or None,
        evidence=gather_evidence(order, conversation),
    )
    ticket.due_at = due
    ticket.priority = "urgent" if ticket.priority == "normal" else ticket.priority


# ---------------------------------------------------------------- timeline actions

def add_message(ticket: Ticket, actor: Actor, body: object, *, internal: bool = False,
                now: datetime | None = None) -> TicketEvent:
    """Write on the timeline: an agent's internal note (``internal``) or reply, or the
    buyer's message. A buyer's message reopens a pending or solved request; a closed one
    takes no messages.

    Raises:
        InvalidTicket: empty, too long or with control characters.
        rules.InvalidTransition: the ticket is closed.
    """
    now = now or utcnow()
    try:
        text = clean_body(body)
    except ChatError as exc:
        raise InvalidTicket(str(exc)) from None
    if ticket.status == "closed":
        raise rules.InvalidTransition("This request is closed; please open a new one.")
    internal = bool(internal) and actor.is_agent
    entry = record(ticket, actor, "note" if internal else "message", {"body": text}, internal=internal, now=now)
    sends: list[tuple] = []
    if actor.kind == "buyer":
        sends.append((events.ticket_buyer_replied, event_args(actor, now)))
        if ticket.status in ("pending", "solved"):
            sends += status_change(ticket, actor, "open", now)
    elif not internal:
        sends.append((events.ticket_agent_replied, event_args(actor, now)))
        if ticket.status == "new":
            sends += status_change(ticket, actor, "open", now)
    commit_and_emit(ticket, sends)
    return entry


def status_change(ticket: Ticket, actor: Actor, target: str, now: datetime, resolution: str | None = None) -> list[tuple]:
    """Move the ticket to ``target`` (in the session) with its timeline entry; returns
    the events to send once committed (changed, solved, reopened).

    Raises:
        rules.InvalidTransition: not allowed from the current status.
    """
    rules.check_transition(ticket.status, target)
    old = ticket.status
    ticket.status = target
    payload = {"from": old, "to": target}
    if target == "solved":
        ticket.solved_at = now
        ticket.resolution = resolution or ticket.resolution or "accepted"
        payload["resolution"] = ticket.resolution
    elif target in ("open", "pending", "on_hold") and old == "solved":
        ticket.solved_at = None
        ticket.resolution = None
    record(ticket, actor, "status_changed", payload, now=now)
    sends = [(events.ticket_status_changed, {**event_args(actor, now), "old": old, "new": target})]
    if target == "solved":
        sends.append((events.ticket_solved, event_args(actor, now)))
    if old == "solved" and target != "closed":
        sends.append((events.ticket_reopened, event_args(actor, now)))
    return sends


def set_status(ticket: Ticket, actor: Actor, status: object, *, resolution: object = None, message: object = None,
               now: datetime | None = None) -> Ticket:
    """Change the status: ``pending`` (request info from the buyer: ``message`` is sent
    to them), ``on_hold`` (waiting on a carrier or marketplace), ``solved`` (with a
    ``resolution``: accepted, rejected, withdrawn), ``open`` (reopen), ``closed``.

    Raises:
        InvalidTicket: unknown status or resolution; a pending request without a message.
        rules.InvalidTransition: not allowed from the current status.
    """
    now = now or utcnow()
    status = choice(status, ("open", "pending", "on_hold", "solved", "closed"), "The status")
    resolution = choice(resolution, RESOLUTIONS, "The resolution")
    if status is None:
        raise InvalidTicket("Choose a status.")
    text = None
    if status == "pending":
        try:
            text = clean_body(message)
        except ChatError:
            raise InvalidTicket("Write what you need from the buyer.") from None
    sends = status_change(ticket, actor, status, now, resolution)
    if text:
        record(ticket, actor, "message", {"body": text, "requests_info": True}, now=now)
        sends.append((events.ticket_agent_replied, event_args(actor, now)))
    commit_and_emit(ticket, sends)
    return ticket


def assign(ticket: Ticket, actor: Actor, *, agent_id: object = None, team_id: object = None,
           now: datetime | None = None) -> Ticket:
    """Set (or clear, with ``None``) the assignee and team.

    Raises:
        InvalidTicket: no such active agent or team.
    """
    now = now or utcnow()
    agent = team = None
    if agent_id not in (None, ""):
        agent = db.session.get(Agent, int(agent_id)) if str(agent_id).isdigit() and len(str(agent_id)) < 18 else None
        if agent is None or not agent.active:
            raise InvalidTicket(f"There is no active agent with id {str(agent_id)[:20]}.")
    if team_id not in (None, ""):
        team = db.session.get(Team, int(team_id)) if str(team_id).isdigit() and len(str(team_id)) < 18 else None
        if team is None:
            raise InvalidTicket(f"There is no team with id {str(team_id)[:20]}.")
    old = (ticket.assignee_id, ticket.team_id)
    ticket.assignee, ticket.team = agent, team or (agent.team if agent else None)
    record(ticket, actor, "assigned", {"from": {"agent": old[0], "team": old[1]},
                                       "to": {"agent": agent.id if agent else None,
                                              "team": ticket.team.id if ticket.team else None}},
           internal=True, now=now)
    commit_and_emit(ticket, [(events.ticket_assigned, {**event_args(actor, now), "assignee_id": ticket.assignee_id})])
    return ticket


def update_fields(ticket: Ticket, actor: Actor, *, priority: object = None, tags: object = None,
                  reason_code: object = None, now: datetime | None = None) -> Ticket:
    """Change priority, tags or reason code; each change is a timeline entry."""
    now = now or utcnow()
    changes = {}
    if priority not in (None, ""):
        changes["priority"] = choice(priority, PRIORITIES, "The priority")
    if tags is not None:
        changes["tags"] = clean_tags(tags)
    if reason_code not in (None, ""):
        changes["reason_code"] = choice(reason_code, REASON_CODES, "The reason")
    for field, value in changes.items():
        if getattr(ticket, field) != value:
            record(ticket, actor, "field_changed", {"field": field, "from": getattr(ticket, field), "to": value},
                   internal=True, now=now)
            setattr(ticket, field, value)
    commit_and_emit(ticket, [])
    return ticket


def update_claim(ticket: Ticket, actor: Actor, *, claim_reference: object = None, outcome: object = None,
                 now: datetime | None = None) -> Ticket:
    """Record the carrier's claim reference and the claim's outcome."""
    now = now or utcnow()
    if ticket.claim is None:
        raise InvalidTicket("This request is not a logistics claim.")
    reference = clean_text(claim_reference, "The claim reference", MAX_SHORT_TEXT) if claim_reference is not None else None
    outcome = choice(outcome, CLAIM_OUTCOMES, "The claim outcome")
    if reference is not None and reference != (ticket.claim.claim_reference or ""):
        ticket.claim.claim_reference = reference or None
        record(ticket, actor, "claim_reference", {"reference": reference}, internal=True, now=now)
    if outcome and outcome != ticket.claim.outcome:
        ticket.claim.outcome = outcome
        record(ticket, actor, "claim_outcome", {"outcome": outcome}, internal=True, now=now)
    commit_and_emit(ticket, [])
    return ticket


def update_dispute(ticket: Ticket, actor: Actor, *, outcome: object, now: datetime | None = None) -> Ticket:
    """Record a payment dispute's outcome (won, lost, accepted)."""
    now = now or utcnow()
    if ticket.dispute is None:
        raise InvalidTicket("This request is not a payment dispute.")
    outcome = choice(outcome, DISPUTE_OUTCOMES, "The dispute outcome")
    if outcome and outcome != ticket.dispute.outcome:
        ticket.dispute.outcome = outcome
        record(ticket, actor, "dispute_outcome", {"outcome": outcome}, internal=True, now=now)
    commit_and_emit(ticket, [])
    return ticket


# ---------------------------------------------------------------- refunds

def request_refund(ticket: Ticket, actor: Actor, *, kind: object, lines: object = None, amount: object = None,
                   include_shipping: bool = False, reason: object = "", now: datetime | None = None) -> TicketRefund:
    """Ask for a refund on the ticket's order (agents only). When this refund and the
    order's earlier helpdesk refunds (not rejected or failed) together pass the store's
    threshold, it waits for a manager (a manager's own request is approved at once); otherwise it is
    approved and ready to execute. Checked under the order lock.

    Raises:
        rules.OrderRequired, InvalidTicket, and the refund rules' errors
        (:func:`tickets.rules.plan_refund`).
    """
    now = now or utcnow()
    if ticket.order_id is None:
        raise rules.OrderRequired("A refund needs the order it is paid back on.")
    if not actor.is_agent:
        raise rules.ApprovalNotAllowed("Only agents can refund.")
    kind = choice(kind, ("full", "lines", "shipping", "amount"), "The refund kind")
    reason = clean_text(reason, "The refund reason", 500)
    if ticket.order.store.kind not in registered_kinds():
        raise rules.InvalidRefund("This order came from a file import, so the helpdesk cannot refund it: refund the "
                                  "buyer on the marketplace itself, then import the refund with the orders.")
    try:
        order = lock_order(ticket.order_id)
        plan = rules.plan_refund(order, refunded_so_far(order), kind=kind or "", lines=clean_lines(lines),
                                 amount=amount, include_shipping=bool(include_shipping))
    except Exception:
        db.session.rollback()
        raise
    approver = actor.agent.role in ("manager", "admin")
    # The threshold applies to everything refunded through the helpdesk on this order, so
    # splitting a refund into small ones never avoids a manager.
    earlier = sum((r.amount for r in db.session.scalars(
        select(TicketRefund).where(TicketRefund.order_id == order.id, TicketRefund.currency == plan.currency,
                                   TicketRefund.state.not_in(("rejected", "failed", "cancelled"))))), Decimal(0))
    waits = rules.needs_approval(earlier + plan.amount, plan.currency, policy_for(order.store),
                                 order.store.default_currency)
    refund = TicketRefund(ticket=ticket, order_id=order.id, kind=plan.kind, amount=plan.amount,
                          shipping_amount=plan.shipping_amount, currency=plan.currency, lines=plan.lines,
                          reason=reason or None, requested_by=actor.agent, created_at=now, updated_at=now,
                          state="awaiting_approval" if waits and not approver else "approved")
    if waits and approver:
        refund.approved_by = actor.agent
    db.session.add(refund)
    ticket.refund_state = refund.state
    ticket.requested_amount = ticket.requested_amount or plan.amount
    db.session.flush()
    record(ticket, actor, "refund_requested", {"refund": refund.id, "kind": plan.kind, "amount": str(plan.amount),
                                               "currency": plan.currency, "lines": plan.lines,
                                               "needs_approval": waits}, internal=True, now=now)
    if waits and approver:
        record(ticket, actor, "refund_approved", {"refund": refund.id}, internal=True, now=now)
    commit_and_emit(ticket, [])
    return refund


def get_refund(ticket: Ticket, refund_id: int) -> TicketRefund:
    """A refund request of this ticket.

    Raises:
        TicketNotFound: not one of this ticket's.
    """
    refund = db.session.get(TicketRefund, refund_id)
    if refund is None or refund.ticket_id != ticket.id:
        raise TicketNotFound("There is no such refund on this request.")
    return refund


def approve_refund(refund: TicketRefund, actor: Actor, *, approve: bool = True, now: datetime | None = None) -> TicketRefund:
    """A manager approves (or rejects) a refund waiting for approval.

    Raises:
        rules.ApprovalNotAllowed: the actor is not a manager or admin.
        rules.InvalidTransition: the refund is not waiting for approval.
    """
    now = now or utcnow()
    rules.check_approver(actor.agent.role if actor.agent else "")
    if refund.state != "awaiting_approval":
        raise rules.InvalidTransition("This refund is not waiting for approval.")
    refund.state = "approved" if approve else "rejected"
    refund.approved_by = actor.agent
    refund.updated_at = now
    refund.ticket.refund_state = refund.state
    record(refund.ticket, actor, "refund_approved" if approve else "refund_rejected", {"refund": refund.id},
           internal=True, now=now)
    commit_and_emit(refund.ticket, [])
    return refund


def cancel_refund(refund: TicketRefund, actor: Actor, *, reason: object, now: datetime | None = None) -> TicketRefund:
    """Cancel a refund that was not made: waiting for approval, approved, or failed with
    a known outcome (the marketplace said no). Its amount is free again; the reason goes
    on the timeline.

    Raises:
        rules.ApprovalNotAllowed: not an agent.
        InvalidTicket: no reason given (or not usable text).
        rules.InvalidTransition: the refund is being made, was made, was rejected or
            cancelled, or failed with an unknown outcome (retry it instead: the
            marketplace may have made it).
    """
    now = now or utcnow()
    if not actor.is_agent:
        raise rules.ApprovalNotAllowed("Only agents can cancel refunds.")
    reason = clean_text(reason, "The reason for cancelling", 500, required=True)
    if refund.state == "failed" and refund.outcome_unknown:
        raise rules.InvalidTransition("The marketplace may have made this refund: retry it, which checks the order "
                                      "on the marketplace first, instead of cancelling it.")
    if refund.state not in ("awaiting_approval", "approved", "failed"):
        raise rules.InvalidTransition({"executing": "This refund is being made right now.",
                                       "succeeded": "This refund was made already.",
                                       "rejected": "This refund was rejected.",
                                       "cancelled": "This refund was cancelled already."}.get(refund.state,
                                                                                              "Not possible now."))
    previous = refund.state
    refund.state, refund.cancel_reason, refund.updated_at = "cancelled", reason, now
    refund.ticket.refund_state = "cancelled"
    record(refund.ticket, actor, "refund_cancelled", {"refund": refund.id, "from": previous, "reason": reason},
           internal=True, now=now)
    commit_and_emit(refund.ticket, [])
    return refund


def _marketplace_request(refund: TicketRefund, order: Order) -> RefundRequest:
    lines = {line.id: line for line in order.lines}
    return RefundRequest(
        amount=refund.amount, currency=refund.currency, reason=refund.reason or f"Helpdesk request {refund.ticket_id}",
        shipping=refund.shipping_amount,
        lines=tuple(RefundLineRecord(line_external_id=lines[item["order_line_id"]].external_id,
                                     quantity=item["quantity"], amount=Decimal(item["amount"]))
                    for item in refund.lines),
    )


def execute_refund(refund: TicketRefund, actor: Actor, *, connector=None, now: datetime | None = None) -> TicketRefund:
    """Make an approved refund through the order's marketplace connector and record it.

    1. Under the order lock: the refund is checked again against everything refunded or
       being refunded, and marked ``executing`` (commit).
    2. The connector's :meth:`create_refund` is called (Shopify Refund API, WooCommerce
       refunds).
    3. Success: the marketplace's refund is stored through the sync path
       (:func:`helpdesk.marketplace.sync.apply_refund`), linked, ``succeeded``;
       :data:`~tickets.events.ticket_refunded` is sent. Failure: ``failed`` with a
       sentence for the agent (:func:`marketplace_sentence`; the raw error in the
       timeline's ``detail`` and the log; ``outcome_unknown`` after a timeout or 5xx);
       nothing else is recorded; :data:`~tickets.events.ticket_refund_failed` is sent.

    Retrying a refund whose outcome was unknown first re-reads the order from the
    marketplace: a refund that did happen is linked instead of being made twice.

    Args:
        connector: the marketplace connector (default: the store's, from its settings).

    Raises:
        rules.InvalidTransition: not approved (or failed, for a retry).
        rules.RefundExceedsOrderTotal: what is refunded meanwhile leaves too little.
        RefundFailed: the marketplace refused or did not answer (after recording it).
    """
    now = now or utcnow()
    if refund.state not in ("approved", "failed"):
        raise rules.InvalidTransition({"awaiting_approval": "This refund is waiting for a manager's approval.",
                                       "executing": "This refund is being made right now.",
                                       "succeeded": "This refund was made already.",
                                       "rejected": "This refund was rejected.",
                                       "cancelled": "This refund was cancelled."}.get(refund.state, "Not possible now."))
    ticket = refund.ticket
    store = ticket.store
    if connector is None:
        try:
            connector = make_connector(store)
        except MarketplaceError as exc:
            return _refund_failed(refund, actor, exc, store, unknown=False, now=now)
    if refund.state == "failed" and refund.outcome_unknown and _found_on_marketplace(refund, connector, actor, now):
        return refund
    try:
        order = lock_order(refund.order_id)
        refunded = refunded_so_far(order, exclude=refund.id)
        left = order.total - refunded.total
        if refund.amount > left:
            raise rules.RefundExceedsOrderTotal(
                f"Only {money_text(max(left, Decimal(0)), order.currency)} can still be refunded on order "
                f"{order.number}; another refund was made meanwhile.")
        for item in refund.lines:
            line = next((l for l in order.lines if l.id == item["order_line_id"]), None)
            if line is None or item["quantity"] > line.quantity - refunded.units.get(line.id, 0):
                raise rules.RefundExceedsLine("Some of these items were refunded meanwhile.")
    except Exception:
        db.session.rollback()
        raise
    refund.state, refund.error, refund.outcome_unknown, refund.updated_at = "executing", None, False, now
    ticket.refund_state = "executing"
    record(ticket, actor, "refund_started", {"refund": refund.id, "amount": str(refund.amount)}, internal=True, now=now)
    # Everything the call needs is read before the commit: nothing touches the database
    # while the marketplace works (on SQLite any transaction holds the write lock).
    order_external_id, asked = order.external_id, _marketplace_request(refund, order)
    db.session.commit()
    try:
        made = connector.create_refund(order_external_id, asked)
    except MarketplaceError as exc:
        return _refund_failed(refund, actor, exc, store, unknown=isinstance(exc, OutcomeUnknown), now=now)
    try:
        apply_refund(store, order_external_id, made)
        row = db.session.scalar(select(Refund).filter_by(order_id=order.id, external_id=made.external_id))
        row.origin = "helpdesk"
        refund.refund = row
    except (RecordRejected, ValueError) as exc:
        db.session.rollback()
        return _refund_failed(refund, actor, exc, store, unknown=True, now=now, sentence=(
            f"{marketplace_name(store)} made refund {made.external_id}, but it could not be recorded here; "
            "the next order sync records it."))
    return _refund_succeeded(refund, actor, now)


def _refund_succeeded(refund: TicketRefund, actor: Actor, now: datetime) -> TicketRefund:
    ticket = refund.ticket
    refund.state, refund.updated_at, refund.error, refund.outcome_unknown = "succeeded", now, None, False
    ticket.refund_state = "succeeded"
    ticket.approved_amount = sum((r.amount for r in ticket.refunds if r.state == "succeeded"), Decimal(0))
    record(ticket, actor, "refunded", {"refund": refund.id, "amount": str(refund.amount), "currency": refund.currency,
                                       "marketplace_refund": refund.refund.external_id}, now=now)
    commit_and_emit(ticket, [(events.ticket_refunded, {**event_args(actor, now), "refund_id": refund.refund_id,
                                                         "amount": refund.amount, "currency": refund.currency})])
    return refund


def marketplace_name(store: Store | None) -> str:
    """The store's marketplace as people write it (``Shopify``, ``WooCommerce``)."""
    kind = store.kind if store else ""
    return MARKETPLACE_NAMES.get(kind, kind.title() or "The marketplace")


def marketplace_sentence(exc: Exception, store: Store | None) -> str:
    """What a connector's failure means, in a sentence for the agent; the raw text
    (URLs, urllib3 and HTTP details) is kept for the timeline's ``detail`` and the log.
    A refusal keeps the marketplace's own reason ("Order has been cancelled"), which
    is written for its merchants."""
    name = marketplace_name(store)
    if isinstance(exc, RefundRefused):
        reason = " ".join(str(exc).split())[:300]
        return f"{name} refused the refund: {reason}" if reason else f"{name} refused the refund."
    if isinstance(exc, OutcomeUnknown):
        return (f"{name} did not answer in time, so the refund may or may not have been made. Retry it: "
                f"the order is checked on {name} first, so it is never refunded twice.")
    if isinstance(exc, MissingCredentials):
        return f"The store's {name} credentials are not set up; an admin must add them before refunds can be made."
    if isinstance(exc, MarketplaceAuthError):
        return f"{name} refused the store's credentials; an admin must renew them."
    if isinstance(exc, RateLimited):
        return f"{name} is limiting requests right now; try again in a few minutes."
    return f"{name} could not be reached; nothing was refunded. Try again in a few minutes."


def _record_failure(refund: TicketRefund, actor: Actor, sentence: str, detail: str, *, unknown: bool,
                    now: datetime) -> None:
    ticket = refund.ticket
    refund.state, refund.error, refund.outcome_unknown, refund.updated_at = "failed", sentence[:2000], unknown, now
    ticket.refund_state = "failed"
    log.warning("refund failed", extra={"ticket_refund": refund.id, "detail": detail[:2000], "outcome_unknown": unknown})
    record(ticket, actor, "refund_failed", {"refund": refund.id, "error": sentence[:2000], "detail": detail[:2000],
                                            "outcome_unknown": unknown}, internal=True, now=now)
    commit_and_emit(ticket, [(events.ticket_refund_failed, {**event_args(actor, now), "error": sentence,
                                                              "outcome_unknown": unknown})])


def _refund_failed(refund: TicketRefund, actor: Actor, exc: Exception, store: Store | None, *, unknown: bool,
                   now: datetime, sentence: str | None = None) -> TicketRefund:
    sentence = sentence or marketplace_sentence(exc, store)
    _record_failure(refund, actor, sentence, str(exc), unknown=unknown, now=now)
    raise RefundFailed(sentence)


def _found_on_marketplace(refund: TicketRefund, connector, actor: Actor, now: datetime) -> bool:
    """After an unknown outcome: re-read the order; a refund of the same amount, not
    linked to any request, made since the request was asked for (allowing
    :data:`CLOCK_SKEW` between the marketplace's clock and ours, and its whole-second
    times) is this one."""
    order = db.session.get(Order, refund.order_id)
    try:
        apply_order(order.store, connector.fetch_order(order.external_id))
        db.session.commit()
    except (MarketplaceError, RecordRejected, ValueError) as exc:
        db.session.rollback()
        log.warning("order re-read failed", extra={"ticket_refund": refund.id, "detail": str(exc)[:2000]})
        raise RefundFailed(f"The order could not be re-read from {marketplace_name(order.store)} to check the last "
                           "attempt; try again in a few minutes.") from exc
    linked = select(TicketRefund.refund_id).where(TicketRefund.refund_id.is_not(None))
    match = db.session.scalar(
        select(Refund).where(Refund.order_id == order.id, Refund.amount == refund.amount, Refund.id.not_in(linked),
                             Refund.created_at >= refund.created_at - CLOCK_SKEW).order_by(Refund.created_at)
    )
    if match is None:
        return False
    match.origin = "helpdesk"
    refund.refund = match
    _refund_succeeded(refund, actor, now)
    return True


@dataclass
class Recovery:
    """What :func:`recover_stuck_refunds` did, as refund request ids."""

    succeeded: list[int]
    failed: list[int]
    unreachable: list[int]


def recover_stuck_refunds(now: datetime | None = None) -> Recovery:
    """Settle refunds left ``executing`` by a process that died mid-call: started more
    than :data:`STUCK_REFUND_AFTER` before ``now`` (aware UTC). For each, the order is
    re-read from its marketplace (:func:`_found_on_marketplace`): a matching refund there
    makes the request ``succeeded`` (linked, :data:`~tickets.events.ticket_refunded`);
    none makes it ``failed`` with a known outcome (the marketplace never made it: it
    can be retried or cancelled). A marketplace that cannot be reached leaves the request
    ``executing`` for the next run.

    Idempotent and safe to run from several processes: each request is claimed by a
    conditional UPDATE of its ``updated_at`` (only one run wins), and settled requests
    are no longer ``executing``.

    Args:
        now: the current instant (aware UTC), injected for tests and the scheduler.
    """
    now = now or utcnow()
    cutoff = now - STUCK_REFUND_AFTER
    actor = Actor("system")
    done = Recovery(succeeded=[], failed=[], unreachable=[])
    ids = db.session.scalars(select(TicketRefund.id).where(TicketRefund.state == "executing",
                                                           TicketRefund.updated_at < cutoff)
                             .order_by(TicketRefund.id)).all()
    db.session.commit()
    for refund_id in ids:
        claimed = db.session.execute(
            update(TicketRefund).where(TicketRefund.id == refund_id, TicketRefund.state == "executing",
                                       TicketRefund.updated_at < cutoff).values(updated_at=now)
        ).rowcount
        db.session.commit()
        if claimed != 1:
            continue
        refund = db.session.get(TicketRefund, refund_id, populate_existing=True)
        store = refund.ticket.store
        try:
            found = _found_on_marketplace(refund, make_connector(store), actor, now)
        except (MarketplaceError, RefundFailed) as exc:
            log.warning("stuck refund not settled", extra={"ticket_refund": refund_id, "detail": str(exc)[:2000]})
            done.unreachable.append(refund_id)
            continue
        if found:
            done.succeeded.append(refund_id)
            continue
        _record_failure(refund, actor, f"The refund was interrupted before {marketplace_name(store)} made it; "
                        "nothing was refunded. Retry it or cancel it.",
                        "executing since " + refund.created_at.isoformat() + "; not found on the marketplace",
                        unknown=False, now=now)
        done.failed.append(refund_id)
    return done


# ---------------------------------------------------------------- queries

def tickets_query(*, status: str | None = None, type: str | None = None, assignee_id: int | None = None,
                  unassigned: bool = False, customer_id: int | None = None, order_id: int | None = None,
                  refund_failed: bool = False):
    """A ``select(Ticket)`` filtered as asked, newest first (lists and the API)."""
    stmt = select(Ticket).options(selectinload(Ticket.order), selectinload(Ticket.assignee),
                                  selectinload(Ticket.customer))
    if status == "open":
        stmt = stmt.where(Ticket.status.in_(("new", "open", "pending", "on_hold")))
    elif status:
        stmt = stmt.where(Ticket.status == status)
    if type:
        stmt = stmt.where(Ticket.type == type)
    if assignee_id:
        stmt = stmt.where(Ticket.assignee_id == assignee_id)
    if unassigned:
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    if customer_id:
        stmt = stmt.where(Ticket.customer_id == customer_id)
    if order_id:
        stmt = stmt.where(Ticket.order_id == order_id)
    if refund_failed:
        stmt = stmt.where(Ticket.refund_state == "failed")
    return stmt.order_by(Ticket.updated_at.desc(), Ticket.id.desc())


def amount_text(value: Decimal | None, currency: str) -> str | None:
    """An amount for JSON: exact decimal string in the currency's minor units."""
    if value is None:
        return None
    try:
        return format(parse_amount(value, currency), "f")
    except InvalidAmount:
        return format(value, "f")
