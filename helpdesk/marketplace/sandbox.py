"""A local sandbox marketplace speaking the Shopify Admin REST and WooCommerce REST v3
formats, for the demo, the tests and the benchmarks. It is not part of the helpdesk's
runtime: the helpdesk reads it over HTTP through its real connectors, like a real shop.

Data: orders as JSON objects in each marketplace's own format. :func:`demo_catalogue`
builds them from the UCI Online Retail sample (rendered into both formats) plus the
official Shopify and WooCommerce sample payloads copied in ``demo_data/``.

Faults for tests: ``app.config["FAULTS"]["rate_limit"] = N`` answers the next N API
requests with 429 and ``Retry-After: 2.0``, as Shopify does;
``app.config["FAULTS"]["fail_from"] = N`` answers the Nth request (counting every request
in ``app.config["REQUESTS"]``, from 1) and every later one with HTTP 500, until it is
reset to ``None`` (an outage in the middle of a sync).

Refunds: Shopify's ``POST .../orders/{id}/refunds/calculate.json`` and ``.../refunds.json``
and WooCommerce's ``POST /wp-json/wc/v3/orders/{id}/refunds`` are served: a refund above
what is left of the order's total is refused as each marketplace refuses it (Shopify 422
``{"errors": {...}}``, WooCommerce 500 ``woocommerce_rest_cannot_create_order_refund``);
an accepted one is added to the order (a later sync reads it). Faults:
``FAULTS["refund_error"] = (status, body)`` answers the next refund request with that;
``FAULTS["refund_hold"] = threading.Event()`` makes refund requests wait for the event
(at most 30 s) before they are processed — a marketplace too slow to answer in time.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from flask import Flask, Response, abort, request

from helpdesk.marketplace.base import parse_instant
from helpdesk.marketplace.csv_retail import parse_online_retail
from helpdesk.marketplace.records import OrderRecord

DEMO_DATA = Path(__file__).resolve().parent.parent.parent / "demo_data"
SHOPIFY_API_PREFIX = "/admin/api/<version>"
CANCELLATION_ID_BASE = 9_000_000_000  # Shopify ids are integers; "C536379" → 9000536379


@dataclass
class Catalogue:
    """What the sandbox serves: Shopify order objects, WooCommerce order objects and the
    WooCommerce refunds of each order id."""

    shopify_orders: list[dict] = field(default_factory=list)
    woo_orders: list[dict] = field(default_factory=list)
    woo_refunds: dict[int, list[dict]] = field(default_factory=dict)


def _money(value: Decimal) -> str:
    return format(value, "f")


def _order_id(number: str) -> int:
    return CANCELLATION_ID_BASE + int(number[1:]) if number.startswith("C") else int(number)


def _email(customer_id: str) -> str:
    # Online Retail has customer numbers only; example.com-style addresses (RFC 2606)
    # let the demo link a buyer's orders across the two sandbox shops.
    return f"customer{customer_id}@online-retail.example"


SHOPIFY_FULFILMENT = ("fulfilled", "partial", "restocked")


def shopify_order(record: OrderRecord) -> dict:
    """Render a normalised record as a Shopify REST Order (the fields the connector and
    Shopify's docs share)."""
    order_id = _order_id(record.external_id)
    line_ids = {line.external_id: order_id * 1000 + i for i, line in enumerate(record.lines, 1)}
    customer = record.customer
    address = {
        "name": customer.name if customer else "Guest",
        "country": record.shipping_country_name,
        "country_code": record.shipping_country,
    }
    return {
        "id": order_id,
        "name": f"#{record.number}",
        "order_number": order_id,
        "email": _email(customer.external_id) if customer else None,
        "currency": record.currency,
        "created_at": record.placed_at.isoformat(),
        "processed_at": record.placed_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "cancelled_at": record.cancelled_at.isoformat() if record.cancelled_at else None,
        "financial_status": record.financial_status,
        # Shopify's values; anything else (unfulfilled, unknown) is its null
        "fulfillment_status": record.fulfillment_status if record.fulfillment_status in SHOPIFY_FULFILMENT else None,
        "subtotal_price": _money(record.subtotal),
        "total_tax": _money(record.tax),
        "total_price": _money(record.total),
        "shipping_lines": [],
        "customer": {
            "id": int(customer.external_id),
            "email": _email(customer.external_id),
            "first_name": "Customer",
            "last_name": customer.external_id,
        }
        if customer
        else None,
        "shipping_address": address,
        "line_items": [
            {
                "id": line_ids[line.external_id],
                "sku": line.sku,
                "title": line.title,
                "name": line.title,
                "quantity": line.quantity,
                "price": _money(line.unit_price),
                "total_discount": "0.00",
            }
            for line in record.lines
        ],
        "fulfillments": [
            {
                "id": order_id * 10 + i,
                "status": "success",
                "tracking_company": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "tracking_url": shipment.tracking_url,
                "shipment_status": "delivered" if shipment.delivered_at else shipment.status,
                "created_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
                "updated_at": (shipment.delivered_at or shipment.shipped_at or record.updated_at).isoformat(),
            }
            for i, shipment in enumerate(record.shipments, 1)
        ],
        "refunds": [
            {
                "id": order_id * 100 + i,
                "order_id": order_id,
                "created_at": refund.created_at.isoformat(),
                "note": refund.reason,
                "refund_line_items": [
                    {
                        "id": order_id * 100_000 + i * 1000 + j,
                        "line_item_id": line_ids[item.line_external_id],
                        "quantity": item.quantity,
                        "subtotal": _money(item.amount),
                    }
                    for j, item in enumerate(refund.lines, 1)
                ],
                "transactions": [
                    {"kind": "refund", "status": "success", "amount": _money(refund.amount), "currency": record.currency}
                ],
            }
            for i, refund in enumerate(record.refunds, 1)
        ],
    }


def _gmt(value: datetime) -> str:
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def woo_order(record: OrderRecord) -> tuple[dict, list[dict]]:
    """Render a normalised record as a WooCommerce Order and its Order Refunds."""
    order_id = _order_id(record.external_id)
    line_ids = {line.external_id: order_id * 1000 + i for i, line in enumerate(record.lines, 1)}
    customer = record.customer
    status = {"refunded": "refunded"}.get(record.financial_status, "completed")
    if record.cancelled_at and record.financial_status != "refunded":
        status = "cancelled"
    refunds = [
        {
            "id": order_id * 100 + i,
            "date_created_gmt": _gmt(refund.created_at),
            "amount": _money(refund.amount),
            "reason": refund.reason or "",
            "line_items": [
                {
                    "id": order_id * 100_000 + i * 1000 + j,
                    "quantity": -item.quantity,
                    "total": _money(-item.amount),
                    "meta_data": [{"key": "_refunded_item_id", "value": str(line_ids[item.line_external_id])}],
                }
                for j, item in enumerate(refund.lines, 1)
            ],
        }
        for i, refund in enumerate(record.refunds, 1)
    ]
    order = {
        "id": order_id,
        "number": record.number,
        "status": status,
        "currency": record.currency,
        "date_created_gmt": _gmt(record.placed_at),
        "date_modified_gmt": _gmt(record.updated_at),
        "shipping_total": _money(record.shipping),
        "total_tax": _money(record.tax),
        "total": _money(record.total),
        "customer_id": int(customer.external_id) if customer else 0,
        "billing": {
            "first_name": "Customer" if customer else "",
            "last_name": customer.external_id if customer else "",
            "email": _email(customer.external_id) if customer else "",
            "country": record.shipping_country or "",
        },
        "shipping": {"country": record.shipping_country or ""},
        "line_items": [
            {
                "id": line_ids[line.external_id],
                "name": line.title,
                "sku": line.sku or "",
                "quantity": line.quantity,
                "subtotal": _money(line.line_total),
                "total": _money(line.line_total),
            }
            for line in record.lines
        ],
        "refunds": [{"id": r["id"], "reason": r["reason"], "total": "-" + r["amount"]} for r in refunds],
        "meta_data": [],
    }
    return order, refunds


def _records(paths: list[Path]) -> list[OrderRecord]:
    records = []
    for path in paths:
        with path.open("rb") as handle:
            pages, _ = parse_online_retail(handle, source=path.name)
        records.extend(r for page in pages for r in page.records)
    return records


def demo_catalogue(data_dir: Path = DEMO_DATA) -> Catalogue:
    """The demo's two shops: Online Retail days 1–8 plus Shopify's sample order in the
    Shopify shop, days 9–14 plus WooCommerce's sample orders in the WooCommerce shop.
    (Days 15–17 are left for the CSV import.)"""
    days = sorted((data_dir / "online-retail").glob("*.csv"))
    catalogue = Catalogue()
    catalogue.shopify_orders = [shopify_order(r) for r in _records(days[:8])]
    sample = json.loads((data_dir / "shopify" / "python-api_order.json").read_text())["order"]
    sample["refunds"] = [json.loads((data_dir / "shopify" / "python-api_refund.json").read_text())["refund"]]
    catalogue.shopify_orders.append(sample)
    for record in _records(days[8:14]):
        order, refunds = woo_order(record)
        catalogue.woo_orders.append(order)
        catalogue.woo_refunds[order["id"]] = refunds
    samples = json.loads((data_dir / "woocommerce" / "wc-v3-orders-list.json").read_text())
    catalogue.woo_orders.extend(samples)
    for refund in json.loads((data_dir / "woocommerce" / "wc-v3-order-refunds-list.json").read_text()):
        order_id = int(refund["_links"]["up"][0]["href"].rsplit("/", 1)[1])
        catalogue.woo_refunds.setdefault(order_id, []).append(refund)
    return catalogue


def _shopify_updated(order: dict) -> datetime:
    return parse_instant(order.get("updated_at") or order.get("created_at"))


def _woo_modified(order: dict) -> datetime:
    return parse_instant(order.get("date_modified_gmt") or order.get("date_created_gmt"), assume_utc=True)


def _encode_cursor(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> dict:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        abort(Response(json.dumps({"errors": {"page_info": "Invalid value."}}), 400, mimetype="application/json"))


def create_sandbox_app(catalogue: Catalogue, *, shopify_token: str, woo_key: str, woo_secret: str) -> Flask:
    """A Flask app serving ``catalogue`` with Shopify's and WooCommerce's URLs, auth,
    pagination headers and error bodies."""
    app = Flask("marketplace_sandbox")
    app.config["FAULTS"] = {"rate_limit": 0, "fail_from": None, "refund_error": None, "refund_hold": None}
    app.config["CATALOGUE"] = catalogue
    app.config["REQUESTS"] = []

    @app.before_request
    def faults():
        app.config["REQUESTS"].append(request.full_path)
        fail_from = app.config["FAULTS"].get("fail_from")
        if fail_from and len(app.config["REQUESTS"]) >= fail_from:
            return Response('{"errors":"Internal Server Error"}', 500, mimetype="application/json")
        if app.config["FAULTS"]["rate_limit"] > 0:
            app.config["FAULTS"]["rate_limit"] -= 1
            return Response('{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}',
                            429, {"Retry-After": "2.0"}, mimetype="application/json")

    def shopify_auth():
        if request.headers.get("X-Shopify-Access-Token") != shopify_token:
            abort(Response('{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}',
                           401, mimetype="application/json"))

    @app.get(f"{SHOPIFY_API_PREFIX}/orders.json")
    def shopify_orders(version: str):
        shopify_auth()
        limit = min(max(request.args.get("limit", 50, type=int), 1), 250)
        token = request.args.get("page_info")
        if token:
            state = _decode_cursor(token)
        else:
            state = {"updated_at_min": request.args.get("updated_at_min"), "after": None}
        floor = parse_instant(state["updated_at_min"]) if state["updated_at_min"] else None
        rows = sorted(app.config["CATALOGUE"].shopify_orders, key=lambda o: (_shopify_updated(o), o["id"]))
        rows = [o for o in rows if floor is None or _shopify_updated(o) >= floor]
        if state["after"]:
            after = (parse_instant(state["after"][0]), state["after"][1])
            rows = [o for o in rows if (_shopify_updated(o), o["id"]) > after]
        page, rest = rows[:limit], rows[limit:]
        headers = {}
        if rest:
            last = page[-1]
            cursor = _encode_cursor({"updated_at_min": state["updated_at_min"],
                                     "after": [_shopify_updated(last).isoformat(), last["id"]]})
            headers["Link"] = f'<{request.base_url}?limit={limit}&page_info={cursor}>; rel="next"'
        return Response(json.dumps({"orders": page}), 200, headers, mimetype="application/json")

    @app.get(f"{SHOPIFY_API_PREFIX}/orders/<int:order_id>.json")
    def shopify_order_one(version: str, order_id: int):
        shopify_auth()
        for order in app.config["CATALOGUE"].shopify_orders:
            if order.get("id") == order_id:
                return {"order": order}
        return Response('{"errors":"Not Found"}', 404, mimetype="application/json")

    def woo_auth():
        auth = request.authorization
        if auth is None or auth.username != woo_key or auth.password != woo_secret:
            abort(Response(json.dumps({"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                                       "data": {"status": 401}}), 401, mimetype="application/json"))

    @app.get("/wp-json/wc/v3/orders")
    def woo_orders():
        woo_auth()
        per_page = min(max(request.args.get("per_page", 10, type=int), 1), 100)
        page_number = max(request.args.get("page", 1, type=int), 1)
        after = request.args.get("modified_after")
        floor = parse_instant(after, assume_utc=True) if after else None
        rows = sorted(app.config["CATALOGUE"].woo_orders, key=lambda o: (_woo_modified(o), o["id"]))
        rows = [o for o in rows if floor is None or _woo_modified(o) > floor]
        total_pages = max(1, -(-len(rows) // per_page))
        page = rows[(page_number - 1) * per_page : page_number * per_page]
        headers = {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(total_pages)}
        return Response(json.dumps(page), 200, headers, mimetype="application/json")

    @app.get("/wp-json/wc/v3/orders/<int:order_id>")
    def woo_order_one(order_id: int):
        woo_auth()
        for order in app.config["CATALOGUE"].woo_orders:
            if order.get("id") == order_id:
                return order
        return Response(json.dumps({"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
                                    "data": {"status": 404}}), 404, mimetype="application/json")

    @app.get("/wp-json/wc/v3/orders/<int:order_id>/refunds")
    def woo_refunds(order_id: int):
        woo_auth()
        return Response(json.dumps(app.config["CATALOGUE"].woo_refunds.get(order_id, [])), 200, mimetype="application/json")

    register_refund_endpoints(app, shopify_auth, woo_auth)
    return app


def _json(body, status: int) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _refund_fault(app: Flask) -> Response | None:
    """Apply the refund faults: wait for ``refund_hold``, answer ``refund_error`` once."""
    hold = app.config["FAULTS"].get("refund_hold")
    if hold is not None:
        hold.wait(30)
    error = app.config["FAULTS"].get("refund_error")
    if error:
        app.config["FAULTS"]["refund_error"] = None
        return _json(error[1], error[0])
    return None


def _dec(value) -> Decimal:
    return Decimal(str(value or "0"))


def _now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _shopify_refunded(order: dict) -> tuple[Decimal, dict[int, int]]:
    amount, units = Decimal(0), {}
    for refund in order.get("refunds") or []:
        amount += sum((_dec(t.get("amount")) for t in refund.get("transactions") or [] if t.get("kind") == "refund"),
                      Decimal(0))
        for item in refund.get("refund_line_items") or []:
            units[item["line_item_id"]] = units.get(item["line_item_id"], 0) + int(item["quantity"])
    return amount, units


def register_refund_endpoints(app: Flask, shopify_auth, woo_auth) -> None:
    """Serve the marketplaces' refund endpoints (see the module docstring)."""

    def shopify_find(order_id: int) -> dict:
        for order in app.config["CATALOGUE"].shopify_orders:
            if order.get("id") == order_id:
                return order
        abort(_json({"errors": "Not Found"}, 404))

    def shopify_lines(order: dict, body: dict) -> list[dict]:
        by_id = {item["id"]: item for item in order.get("line_items") or []}
        _, refunded_units = _shopify_refunded(order)
        lines = []
        for item in body.get("refund_line_items") or []:
            line = by_id.get(item.get("line_item_id"))
            if line is None:
                abort(_json({"errors": {"refund_line_items": ["line_item_id is not on the order"]}}, 422))
            if int(item.get("quantity", 0)) > int(line["quantity"]) - refunded_units.get(line["id"], 0):
                abort(_json({"errors": {"refund_line_items.quantity": ["cannot refund more items than were purchased"]}}, 422))
            price = _dec(line["price"]) * int(item["quantity"])
            lines.append({"line_item_id": line["id"], "quantity": int(item["quantity"]),
                          "restock_type": item.get("restock_type", "no_restock"), "subtotal": _money(price),
                          "line_item": line})
        return lines

    @app.post(f"{SHOPIFY_API_PREFIX}/orders/<int:order_id>/refunds/calculate.json")
    def shopify_refund_calculate(version: str, order_id: int):
        shopify_auth()
        order = shopify_find(order_id)
        body = (request.get_json(silent=True) or {}).get("refund") or {}
        lines = shopify_lines(order, body)
        refunded, _ = _shopify_refunded(order)
        maximum = _dec(order.get("total_price")) - refunded
        suggested = sum((_dec(line["subtotal"]) for line in lines), _dec((body.get("shipping") or {}).get("amount")))
        return {"refund": {
            "shipping": {"amount": _money(_dec((body.get("shipping") or {}).get("amount")))},
            "refund_line_items": lines,
            "transactions": [{"order_id": order_id, "kind": "suggested_refund", "gateway": "bogus",
                              "parent_id": order_id * 10 + 1, "amount": _money(min(suggested, maximum)),
                              "maximum_refundable": _money(maximum), "currency": order.get("currency")}],
        }}

    @app.post(f"{SHOPIFY_API_PREFIX}/orders/<int:order_id>/refunds.json")
    def shopify_refund_create(version: str, order_id: int):
        shopify_auth()
        fault = _refund_fault(app)
        if fault is not None:
            return fault
        order = shopify_find(order_id)
        body = (request.get_json(silent=True) or {}).get("refund") or {}
        lines = shopify_lines(order, body)
        refunded, _ = _shopify_refunded(order)
        transactions = body.get("transactions") or []
        amount = sum((_dec(t.get("amount")) for t in transactions), Decimal(0))
        if amount > _dec(order.get("total_price")) - refunded:
            return _json({"errors": {"base": [f"Refund amount {_money(amount)} is greater than the "
                                              f"{_money(_dec(order.get('total_price')) - refunded)} left to refund"]}}, 422)
        number = len(order.get("refunds") or []) + 1
        now = _now_iso()
        refund = {
            "id": order_id * 100 + 50 + number, "order_id": order_id, "created_at": now, "note": body.get("note"),
            "refund_line_items": [{"id": order_id * 100_000 + 50_000 + number * 100 + j, **line}
                                  for j, line in enumerate(lines, 1)],
            "transactions": [{"id": order_id * 1000 + number, "kind": "refund", "status": "success",
                              "amount": _money(_dec(t.get("amount"))), "gateway": t.get("gateway"),
                              "parent_id": t.get("parent_id"), "currency": order.get("currency")}
                             for t in transactions],
        }
        order.setdefault("refunds", []).append(refund)
        order["updated_at"] = now
        order["financial_status"] = "refunded" if refunded + amount >= _dec(order.get("total_price")) else "partially_refunded"
        return _json({"refund": refund}, 201)

    @app.post("/wp-json/wc/v3/orders/<int:order_id>/refunds")
    def woo_refund_create(order_id: int):
        woo_auth()
        fault = _refund_fault(app)
        if fault is not None:
            return fault
        catalogue = app.config["CATALOGUE"]
        order = next((o for o in catalogue.woo_orders if o.get("id") == order_id), None)
        if order is None:
            return _json({"code": "woocommerce_rest_invalid_order_id", "message": "Invalid order ID.",
                          "data": {"status": 404}}, 404)
        body = request.get_json(silent=True) or {}
        existing = catalogue.woo_refunds.setdefault(order_id, [])
        refunded = sum((abs(_dec(r.get("amount"))) for r in existing), Decimal(0))
        amount = _dec(body.get("amount"))
        if amount <= 0 or amount > _dec(order.get("total")) - refunded:
            return _json({"code": "woocommerce_rest_cannot_create_order_refund", "message": "Invalid refund amount.",
                          "data": 500}, 500)
        by_id = {item["id"]: item for item in order.get("line_items") or []}
        items = []
        for j, item in enumerate(body.get("line_items") or [], 1):
            if item.get("id") not in by_id:
                return _json({"code": "woocommerce_rest_cannot_create_order_refund",
                              "message": "Invalid line item ID.", "data": 500}, 500)
            items.append({"id": order_id * 100_000 + 50_000 + len(existing) * 100 + j,
                          "quantity": -int(item.get("quantity", 0)), "total": _money(-_dec(item.get("refund_total"))),
                          "meta_data": [{"key": "_refunded_item_id", "value": str(item["id"])}]})
        now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()
        refund = {"id": order_id * 100 + 50 + len(existing) + 1, "date_created_gmt": now, "amount": _money(amount),
                  "reason": body.get("reason") or "", "refunded_payment": bool(body.get("api_refund", True)),
                  "line_items": items}
        existing.append(refund)
        order.setdefault("refunds", []).append({"id": refund["id"], "reason": refund["reason"],
                                                "total": "-" + refund["amount"]})
        order["date_modified_gmt"] = now
        if refunded + amount >= _dec(order.get("total")):
            order["status"] = "refunded"
        return _json(refund, 201)
