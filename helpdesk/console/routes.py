"""Console pages: the buyers list with search, a buyer with all their orders, one order."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.console import bp
from helpdesk.console.queries import buyer_countries, buyers_query, guest_orders_query, normalise_query, order_summary
from helpdesk.extensions import db
from helpdesk.models import Customer, Order, Refund

PER_PAGE = 50
MAX_PAGE = 1_000_000

ORDER_DETAIL = (
    selectinload(Order.lines),
    selectinload(Order.shipments),
    selectinload(Order.refunds).selectinload(Refund.lines),
    selectinload(Order.store),
)


@bp.after_request
def no_store(response):
    """Buyer data must not stay in shared or browser caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index():
    """The console's home is the buyers list."""
    return redirect(url_for("console.buyers"))


@bp.get("/buyers")
@login_required
def buyers():
    """Buyers, searchable by name, e-mail or order number, filterable by country."""
    q = normalise_query(request.args.get("q"))
    country = (request.args.get("country") or "").strip().upper()[:2] or None
    stmt = buyers_query(q, country)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    result = db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)
    if result.pages and page > result.pages:  # past the end: show the last page
        result = db.paginate(stmt, page=result.pages, per_page=PER_PAGE, error_out=False)
    guests = db.session.scalars(guest_orders_query(q).limit(20)).all() if q else []
    summary = order_summary([customer.id for customer in result.items])
    return render_template(
        "console/buyers.html", result=result, q=q, country=country, countries=buyer_countries(), guests=guests,
        summary=summary,
    )


@bp.get("/buyers/<id:customer_id>")
@login_required
def buyer(customer_id: int):
    """One buyer: profile, and every order with its lines, shipments and refunds."""
    customer = db.session.get(Customer, customer_id) or abort(404)
    orders = db.session.scalars(
        select(Order).where(Order.customer_id == customer.id).options(*ORDER_DETAIL).order_by(Order.placed_at.desc())
    ).all()
    return render_template("console/buyer.html", customer=customer, orders=orders)


@bp.get("/orders/<id:order_id>")
@login_required
def order(order_id: int):
    """One order (guest orders have no buyer page)."""
    found = db.session.scalar(select(Order).where(Order.id == order_id).options(*ORDER_DETAIL)) or abort(404)
    return render_template("console/order.html", order=found)
