"""Shopify Admin REST connector: ``GET /admin/api/{version}/orders.json``.

Rules followed, from Shopify's REST Admin API reference (Order, Refund, Fulfillment
resources) and its "Paginating results with REST" guide:

* cursor pagination: the next page is the ``page_info`` of the ``rel="next"`` URL in the
  ``Link`` header; a request with ``page_info`` may carry only ``limit`` besides it;
* incremental sync: ``updated_at_min`` (inclusive) with ``status=any``;
* rate limit: HTTP 429 with a ``Retry-After`` header in seconds ("2.0");
* refunds: ``POST orders/{id}/refunds/calculate.json`` then ``POST orders/{id}/refunds.json``
  with the calculated transactions (Refund resource);
* webhooks: ``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app secret, raw body)),
  topic in ``X-Shopify-Topic`` (``orders/create``, ``orders/updated``, ``refunds/create``).
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

from helpdesk.countries import to_iso_country
from helpdesk.marketplace.base import (
    PARSE_ERRORS,
    Connector,
    MalformedPayload,
    amount_or_zero,
    collect,
    decimal_text,
    parse_instant,
    register,
)
from helpdesk.marketplace.records import (
    CustomerRecord,
    LineRecord,
    OrderRecord,
    Page,
    RefundLineRecord,
    RefundRecord,
    RefundRequest,
    ShipmentRecord,
)
from helpdesk.money import normalise_currency

API_VERSION = "2025-07"
ORDER_TOPICS = ("orders/create", "orders/updated")
REFUND_TOPIC = "refunds/create"


@register
class ShopifyConnector(Connector):
    """Reads orders from one Shopify store. ``secret`` is the Admin API access token."""

    kind = "shopify"
    signature_header = "X-Shopify-Hmac-Sha256"
    topic_header = "X-Shopify-Topic"

    def __init__(self, base_url: str, secret: str, **kwargs) -> None:
        kwargs.setdefault("page_size", 250)  # Shopify's maximum ``limit``
        super().__init__(base_url, secret, **kwargs)
        self.session.headers["X-Shopify-Access-Token"] = secret

    def _url(self, path: str) -> str:
        return f"{self.base_url}/admin/api/{API_VERSION}/{path}"

    def iter_pages(self, *, since: datetime | None, cursor: str | None) -> Iterator[Page]:
        """Yield pages of ``orders.json``; ``cursor`` is a ``page_info`` token."""
        if cursor:
            params = {"limit": str(self.page_size), "page_info": cursor}
        else:
            params = {"limit": str(self.page_size), "status": "any", "order": "updated_at asc"}
            if since is not None:
                params["updated_at_min"] = since.isoformat()
        while True:
            body, response = self.get_json(self._url("orders.json"), params)
            if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
                raise MalformedPayload("Shopify orders.json did not hold an 'orders' list.")
            page = Page(next_cursor=_next_page_info(response.links))
            for raw in body["orders"]:
                collect(page, raw, order_from_shopify, "Shopify")
            yield page
            if page.next_cursor is None:
                return
            params = {"limit": str(self.page_size), "page_info": page.next_cursor}

    def fetch_order(self, external_id: str) -> OrderRecord:
        """``GET orders/{id}.json``, normalised."""
        body, _ = self.get_json(self._url(f"orders/{int(external_id)}.json"))
        if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
            raise MalformedPayload(f"Shopify order {external_id} response had no 'order' object.")
        return order_from_shopify(body["order"])

    def create_refund(self, order_external_id: str, request: RefundRequest) -> RefundRecord:
        """Refund through Shopify's Refund resource, as its REST reference prescribes:
        ``POST orders/{id}/refunds/calculate.json`` with the lines and shipping gives the
        suggested transactions (``parent_id``, ``gateway``, ``maximum_refundable``); the
        amount is spread over them in order and ``POST orders/{id}/refunds.json`` makes
        the refund (``notify`` off, lines ``no_restock``: stock is the seller's call).

        Raises:
            RefundRefused: Shopify's 422 (e.g. more than is refundable), with its message.
            OutcomeUnknown, MarketplaceError: see :meth:`Connector.post_json`.
        """
        order_id = int(order_external_id)
        currency = normalise_currency(request.currency)
        lines = [{"line_item_id": int(item.line_external_id), "quantity": item.quantity, "restock_type": "no_restock"}
                 for item in request.lines]
        shipping = {"amount": decimal_text(request.shipping, currency)}
        calculated = self.post_json(self._url(f"orders/{order_id}/refunds/calculate.json"),
                                    {"refund": {"currency": currency, "shipping": shipping, "refund_line_items": lines}})
        try:
            suggested = calculated["refund"]["transactions"]
            left, transactions = request.amount, []
            for item in suggested:
                share = min(left, amount_or_zero(item.get("maximum_refundable", item.get("amount")), currency))
                if share > 0 or not transactions:
                    transactions.append({"parent_id": item["parent_id"], "amount": share, "kind": "refund",
                                         "gateway": item.get("gateway")})
                left -= share
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedPayload(f"Shopify refund calculation for order {order_id} was not understood: {exc}") from exc
        if not transactions:
            raise MalformedPayload(f"Shopify suggested no transaction to refund on order {order_id}.")
        transactions[-1]["amount"] += left  # more than refundable: Shopify answers 422 with its reason
        for item in transactions:
            item["amount"] = decimal_text(item["amount"], currency)
        body = {"refund": {"currency": currency, "notify": False, "note": request.reason or "", "shipping": shipping,
                           "refund_line_items": lines, "transactions": transactions}}
        created = self.post_json(self._url(f"orders/{order_id}/refunds.json"), body)
        try:
            return refund_from_shopify(created["refund"], currency)
        except PARSE_ERRORS as exc:
            raise MalformedPayload(f"Shopify's answer to a refund on order {order_id} is not a refund: {exc}") from exc

    def parse_webhook(self, topic: str, payload: dict) -> tuple[str, OrderRecord | RefundRecord]:
        """Orders topics carry an order object; ``refunds/create`` a refund with ``order_id``."""
        try:
            if topic in ORDER_TOPICS:
                record = order_from_shopify(payload)
                return record.external_id, record
            if topic == REFUND_TOPIC:
                currency = _refund_currency(payload)
                return str(payload["order_id"]), refund_from_shopify(payload, currency)
        except PARSE_ERRORS as exc:
            raise MalformedPayload(f"Shopify {topic} webhook body is not a valid {topic} payload: {exc}") from exc
        raise MalformedPayload(f"Shopify webhook topic {topic!r} is not handled (use orders/create, orders/updated, refunds/create).")


def _next_page_info(links: dict) -> str | None:
    url = links.get("next", {}).get("url")
    if not url:
        return None
    values = parse_qs(urlparse(url).query).get("page_info")
    return values[0] if values else None


def _name(*parts: str | None) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _customer(raw: dict) -> CustomerRecord | None:
    customer = raw.get("customer") or {}
    address = raw.get("shipping_address") or raw.get("billing_address") or customer.get("default_address") or {}
    email = raw.get("email") or customer.get("email") or raw.get("contact_email")
    if not customer and not email:
        return None
    name = _name(customer.get("first_name"), customer.get("last_name")) or _name(
        address.get("first_name"), address.get("last_name")
    )
    country_code = address.get("country_code") or address.get("country")
    return CustomerRecord(
        external_id=str(customer["id"]) if customer.get("id") is not None else None,
        name=name,
        email=email or None,
        country=to_iso_country(country_code),
        country_name=address.get("country") or address.get("country_name"),
        phone=customer.get("phone") or address.get("phone"),
        language=raw.get("customer_locale"),
    )


def _shipping_total(raw: dict, currency: str) -> Decimal:
    shop_money = ((raw.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount")
    if shop_money is not None:
        return amount_or_zero(shop_money, currency)
    return sum((amount_or_zero(line.get("price"), currency) for line in raw.get("shipping_lines") or []), Decimal(0))


def refund_from_shopify(raw: dict, currency: str) -> RefundRecord:
    """A Shopify Refund resource → :class:`RefundRecord`. The amount is the sum of its
    successful ``refund`` transactions (Shopify's own definition of money returned)."""
    amount = sum(
        (
            amount_or_zero(t.get("amount"), currency)
            for t in raw.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") in (None, "success")
        ),
        Decimal(0),
    )
    lines = tuple(
        RefundLineRecord(
            line_external_id=str(item["line_item_id"]),
            quantity=int(item["quantity"]),
            amount=amount_or_zero(item["subtotal"], currency) if item.get("subtotal") is not None else None,
        )
        for item in raw.get("refund_line_items") or []
    )
    return RefundRecord(
        external_id=str(raw["id"]),
        amount=amount,
        reason=raw.get("note") or None,
        created_at=parse_instant(raw["created_at"]),
        lines=lines,
    )


def _refund_currency(raw: dict) -> str:
    for transaction in raw.get("transactions") or []:
        if transaction.get("currency"):
            return normalise_currency(transaction["currency"])
    raise ValueError("refund has no transaction with a currency")


def order_from_shopify(raw: dict) -> OrderRecord:
    """A Shopify Order resource (REST) → :class:`OrderRecord`.

    Raises:
        KeyError, ValueError, TypeError: the payload lacks a required field or holds a
            value of the wrong kind (the caller reports it as a bad record).
    """
    currency = normalise_currency(raw["currency"])
    lines = tuple(
        LineRecord(
            external_id=str(item["id"]),
            sku=item.get("sku") or None,
            title=item.get("name") or item["title"],
            quantity=int(item["quantity"]),
            unit_price=amount_or_zero(item["price"], currency),
            line_total=amount_or_zero(item["price"], currency) * int(item["quantity"])
            - amount_or_zero(item.get("total_discount"), currency),
        )
        for item in raw.get("line_items") or []
    )
    shipments = tuple(
        ShipmentRecord(
            external_id=str(f["id"]),
            carrier=f.get("tracking_company"),
            tracking_number=f.get("tracking_number") or next(iter(f.get("tracking_numbers") or []), None),
            tracking_url=f.get("tracking_url") or next(iter(f.get("tracking_urls") or []), None),
            status=f.get("shipment_status") or f.get("status"),
            shipped_at=parse_instant(f.get("created_at")),
            delivered_at=parse_instant(f.get("updated_at")) if f.get("shipment_status") == "delivered" else None,
        )
        for f in raw.get("fulfillments") or []
    )
    refunds = tuple(refund_from_shopify(r, currency) for r in raw.get("refunds") or [])
    address = raw.get("shipping_address") or {}
    return OrderRecord(
        external_id=str(raw["id"]),
        number=str(raw.get("name") or raw.get("order_number") or raw["id"]),
        currency=currency,
        subtotal=amount_or_zero(raw.get("subtotal_price"), currency),
        discount=amount_or_zero(raw.get("total_discounts"), currency),
        shipping=_shipping_total(raw, currency),
        tax=amount_or_zero(raw.get("total_tax"), currency),
        total=amount_or_zero(raw["total_price"], currency),
        financial_status=raw.get("financial_status") or "unknown",
        fulfillment_status=raw.get("fulfillment_status") or "unfulfilled",
        placed_at=parse_instant(raw.get("processed_at") or raw["created_at"]),
        updated_at=parse_instant(raw.get("updated_at") or raw["created_at"]),
        cancelled_at=parse_instant(raw.get("cancelled_at")),
        customer=_customer(raw),
        shipping_name=address.get("name") or _name(address.get("first_name"), address.get("last_name")) or None,
        shipping_country=to_iso_country(address.get("country_code") or address.get("country")),
        shipping_country_name=address.get("country"),
        shipping_address=_address(address),
        lines=lines,
        shipments=shipments,
        refunds=refunds,
    )


def _address(address: dict) -> dict | None:
    keys = ("name", "company", "address1", "address2", "city", "province", "zip", "country", "country_code", "phone")
    kept = {k: address.get(k) for k in keys if address.get(k)}
    return kept or None
