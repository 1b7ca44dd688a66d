"""WooCommerce REST API v3 connector: ``GET /wp-json/wc/v3/orders``.

Rules followed, from the WooCommerce REST API docs (Orders, Order refunds, Webhooks) and
the WordPress REST API "Pagination" handbook page:

* pagination by ``page``/``per_page`` (max 100); the total is in ``X-WP-TotalPages``;
* incremental sync with ``modified_after`` (ISO 8601) and ``dates_are_gmt=true``,
  ordered by ``modified`` ascending;
* authentication with the consumer key and secret over HTTPS (HTTP Basic);
* refunds are listed in full at ``/orders/{id}/refunds``; the order only summarises them;
* tracking comes from the WooCommerce Shipment Tracking extension's order meta
  ``_wc_shipment_tracking_items`` (core WooCommerce has no shipments);
* refunds are made with ``POST /orders/{id}/refunds`` (``api_refund`` through the gateway);
* webhooks: ``X-WC-Webhook-Signature`` is base64(HMAC-SHA256(secret, raw body)); topic
  in ``X-WC-Webhook-Topic`` (``order.created``, ``order.updated``).
"""
from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from helpdesk.countries import country_name, to_iso_country
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
from helpdesk.money import normalise_currency, round_to_minor

ORDER_TOPICS = ("order.created", "order.updated")

# WooCommerce order status → (financial status, fulfilment status) in Shopify's vocabulary,
# which the rest of the helpdesk uses.
STATUS_MAP = {
    "pending": ("pending", "unfulfilled"),
    "processing": ("paid", "unfulfilled"),
    "on-hold": ("pending", "unfulfilled"),
    "completed": ("paid", "fulfilled"),
    "cancelled": ("voided", "unfulfilled"),
    "refunded": ("refunded", "unfulfilled"),
    "failed": ("failed", "unfulfilled"),
    "checkout-draft": ("pending", "unfulfilled"),
}


@register
class WooCommerceConnector(Connector):
    """Reads orders from one WooCommerce shop; ``secret`` is ``consumer_key:consumer_secret``."""

    kind = "woocommerce"
    signature_header = "X-WC-Webhook-Signature"
    topic_header = "X-WC-Webhook-Topic"

    def __init__(self, base_url: str, secret: str, **kwargs) -> None:
        super().__init__(base_url, secret, **kwargs)
        key, _, consumer_secret = secret.partition(":")
        self.session.auth = (key, consumer_secret)

    def _url(self, path: str) -> str:
        return f"{self.base_url}/wp-json/wc/v3/{path}"

    def iter_pages(self, *, since: datetime | None, cursor: str | None) -> Iterator[Page]:
        """Yield pages; ``cursor`` is ``"<page>|<modified_after or empty>"``."""
        # modified_after is exclusive: ask from one second earlier so orders sharing the
        # high-water second are not missed (re-reading one is a no-op).
        page_number, since_text = 1, (since - timedelta(seconds=1)).isoformat() if since else ""
        if cursor:
            number, _, since_text = cursor.partition("|")
            page_number = int(number)
        while True:
            params = {
                "page": str(page_number),
                "per_page": str(min(self.page_size, 100)),
                "orderby": "modified",
                "order": "asc",
                "dates_are_gmt": "true",
            }
            if since_text:
                params["modified_after"] = since_text
            body, response = self.get_json(self._url("orders"), params)
            if not isinstance(body, list):
                raise MalformedPayload("WooCommerce /orders did not answer a JSON list.")
            total_pages = int(response.headers.get("X-WP-TotalPages") or 1)
            more = page_number < total_pages
            page = Page(next_cursor=f"{page_number + 1}|{since_text}" if more else None)
            for raw in body:
                collect(page, raw, lambda order: order_from_woocommerce(order, self._refunds(order)), "WooCommerce")
            yield page
            if not more:
                return
            page_number += 1

    def _refunds(self, raw: dict) -> list[dict]:
        if not raw.get("refunds"):
            return []
        body, _ = self.get_json(self._url(f"orders/{int(raw['id'])}/refunds"))
        if not isinstance(body, list):
            raise ValueError("refunds endpoint did not answer a list")
        return body

    def fetch_order(self, external_id: str) -> OrderRecord:
        """``GET orders/{id}`` and its refunds, normalised."""
        body, _ = self.get_json(self._url(f"orders/{int(external_id)}"))
        if not isinstance(body, dict):
            raise MalformedPayload(f"WooCommerce order {external_id} response was not an object.")
        return order_from_woocommerce(body, self._refunds(body))

    def is_refusal(self, response) -> bool:
        """WooCommerce answers a refund it refuses (``wc_create_refund`` failed: amount
        above what is left, gateway error) with HTTP 500 and a ``WP_Error`` body whose
        ``code`` names the failure; nothing was refunded then."""
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and str(body.get("code", "")).startswith("woocommerce_rest_")

    def create_refund(self, order_external_id: str, request: RefundRequest) -> RefundRecord:
        """``POST orders/{id}/refunds`` (WooCommerce REST v3 "Create a refund"): ``amount``
        (which takes precedence over the line totals), ``reason``, ``api_refund: true``
        (the payment gateway gives the money back), ``api_restock: false`` and
        ``line_items`` ``[{"id", "quantity", "refund_total"}]``. Amounts are sent as
        decimal strings, never floats.

        Raises:
            RefundRefused: WooCommerce's error (``{"code", "message"}``), e.g. an amount
                above what is left or a gateway that cannot refund.
            OutcomeUnknown, MarketplaceError: see :meth:`Connector.post_json`.
        """
        order_id = int(order_external_id)
        currency = normalise_currency(request.currency)
        body = {
            "amount": decimal_text(request.amount, currency),
            "reason": request.reason or "",
            "api_refund": True,
            "api_restock": False,
            "line_items": [
                {"id": int(item.line_external_id), "quantity": item.quantity,
                 "refund_total": decimal_text(item.amount or Decimal(0), currency)}
                for item in request.lines
            ],
        }
        created = self.post_json(self._url(f"orders/{order_id}/refunds"), body)
        try:
            return refund_from_woocommerce(created, currency)
        except PARSE_ERRORS as exc:
            raise MalformedPayload(f"WooCommerce's answer to a refund on order {order_id} is not a refund: {exc}") from exc

    def parse_webhook(self, topic: str, payload: dict) -> tuple[str, OrderRecord | RefundRecord]:
        """``order.created`` / ``order.updated`` carry the order; its refunds are fetched."""
        if topic not in ORDER_TOPICS:
            raise MalformedPayload(f"WooCommerce webhook topic {topic!r} is not handled (use order.created, order.updated).")
        try:
            record = order_from_woocommerce(payload, self._refunds(payload))
        except PARSE_ERRORS as exc:
            raise MalformedPayload(f"WooCommerce {topic} webhook body is not an order: {exc}") from exc
        return record.external_id, record


def _instant(raw: dict, field: str) -> datetime | None:
    """Prefer the ``*_gmt`` twin of a WooCommerce date (site-local dates carry no zone)."""
    return parse_instant(raw.get(f"{field}_gmt"), assume_utc=True) or parse_instant(
        raw.get(field), assume_utc=True
    )


def _customer(raw: dict) -> CustomerRecord | None:
    billing = raw.get("billing") or {}
    shipping = raw.get("shipping") or {}
    email = (billing.get("email") or "").strip() or None
    customer_id = raw.get("customer_id") or 0
    if not email and not customer_id:
        return None
    country = shipping.get("country") or billing.get("country")
    return CustomerRecord(
        external_id=str(customer_id) if customer_id else None,
        name=" ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p),
        email=email,
        country=to_iso_country(country),
        country_name=country_name(to_iso_country(country)) or country or None,  # WooCommerce sends codes
        phone=billing.get("phone") or None,
    )


def _shipments(raw: dict) -> tuple[ShipmentRecord, ...]:
    items = next(
        (m.get("value") for m in raw.get("meta_data") or [] if m.get("key") == "_wc_shipment_tracking_items"),
        None,
    )
    shipments = []
    for item in items or []:
        shipped = item.get("date_shipped")
        shipments.append(
            ShipmentRecord(
                external_id=str(item.get("tracking_id") or item["tracking_number"]),
                carrier=item.get("tracking_provider") or item.get("custom_tracking_provider") or None,
                tracking_number=item.get("tracking_number") or None,
                tracking_url=item.get("custom_tracking_link") or None,
                status="shipped",
                shipped_at=datetime.fromtimestamp(int(shipped), timezone.utc) if shipped else None,
            )
        )
    return tuple(shipments)


def refund_from_woocommerce(raw: dict, currency: str) -> RefundRecord:
    """An Order Refund resource → :class:`RefundRecord`. Refunded quantities are negative
    in WooCommerce; the refunded order line is named by the ``_refunded_item_id`` meta."""
    lines = []
    for item in raw.get("line_items") or []:
        refunded_id = next(
            (m.get("value") for m in item.get("meta_data") or [] if m.get("key") == "_refunded_item_id"), None
        )
        if refunded_id is None:
            raise ValueError(f"refund {raw.get('id')} line has no _refunded_item_id")
        lines.append(
            RefundLineRecord(
                line_external_id=str(refunded_id),
                quantity=abs(int(item["quantity"])),
                amount=abs(amount_or_zero(item.get("total"), currency)),
            )
        )
    return RefundRecord(
        external_id=str(raw["id"]),
        amount=abs(amount_or_zero(raw["amount"], currency)),
        reason=raw.get("reason") or None,
        created_at=_instant(raw, "date_created"),
        lines=tuple(lines),
    )


def order_from_woocommerce(raw: dict, refunds: list[dict]) -> OrderRecord:
    """A WooCommerce Order resource plus its refunds → :class:`OrderRecord`.

    Raises:
        KeyError, ValueError, TypeError: a missing field or a value of the wrong kind.
    """
    currency = normalise_currency(raw["currency"])
    status = raw["status"]
    financial, fulfilment = STATUS_MAP.get(status, (status, "unfulfilled"))
    refund_records = tuple(refund_from_woocommerce(r, currency) for r in refunds)
    total = amount_or_zero(raw["total"], currency)
    refunded = sum((r.amount for r in refund_records), Decimal(0))
    if financial == "paid" and refunded:
        financial = "refunded" if refunded >= total else "partially_refunded"
    lines = tuple(
        LineRecord(
            external_id=str(item["id"]),
            sku=item.get("sku") or None,
            title=html.unescape(item["name"]),  # WooCommerce sends names HTML-escaped ("&ndash;")
            quantity=int(item["quantity"]),
            unit_price=round_to_minor(amount_or_zero(item.get("subtotal"), currency) / int(item["quantity"]), currency)
            if int(item["quantity"])
            else Decimal(0),
            line_total=amount_or_zero(item["total"], currency),
        )
        for item in raw.get("line_items") or []
    )
    shipping = raw.get("shipping") or {}
    modified = _instant(raw, "date_modified") or _instant(raw, "date_created")
    country = shipping.get("country") or None
    address = {k: v for k, v in shipping.items() if v}
    return OrderRecord(
        external_id=str(raw["id"]),
        number=str(raw.get("number") or raw["id"]),
        currency=currency,
        subtotal=sum((amount_or_zero(i.get("subtotal"), currency) for i in raw.get("line_items") or []), Decimal(0)),
        shipping=amount_or_zero(raw.get("shipping_total"), currency),
        discount=amount_or_zero(raw.get("discount_total"), currency),
        tax=amount_or_zero(raw.get("total_tax"), currency),
        total=total,
        financial_status=financial,
        fulfillment_status=fulfilment,
        placed_at=_instant(raw, "date_created"),
        updated_at=modified,
        cancelled_at=modified if status == "cancelled" else None,
        customer=_customer(raw),
        shipping_name=" ".join(p for p in (shipping.get("first_name"), shipping.get("last_name")) if p) or None,
        shipping_country=to_iso_country(country),
        shipping_country_name=country_name(to_iso_country(country)) or country,
        shipping_address=address or None,
        lines=lines,
        shipments=_shipments(raw),
        refunds=refund_records,
    )
