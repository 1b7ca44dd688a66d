"""Read-side queries of the console, kept out of the views."""
from __future__ import annotations

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerAccount, Order

MAX_QUERY = 200


def normalise_query(q: str | None) -> str:
    """Trim, drop control characters, cap at :data:`MAX_QUERY` characters."""
    text = "".join(ch for ch in (q or "") if ch.isprintable()).strip()
    return text[:MAX_QUERY]


def order_number_variants(q: str) -> list[str]:
    """``1001`` and ``#1001`` find the same order: marketplaces differ on the hash."""
    bare = q.lstrip("#").strip()
    return [bare, f"#{bare}"] if bare else []


def buyers_query(q: str, country: str | None = None) -> Select:
    """Buyers whose name or e-mail contains ``q`` (case-insensitive, ``%``/``_`` taken
    literally) or who placed the order numbered ``q``; optionally in ``country``."""
    stmt = select(Customer)
    if q:
        stmt = stmt.where(
            or_(
                Customer.name.icontains(q, autoescape=True),
                Customer.email.icontains(q, autoescape=True),
                exists().where(Order.customer_id == Customer.id, Order.number.in_(order_number_variants(q))),
            )
        )
    if country:
        stmt = stmt.where(Customer.country == country)
    return stmt.options(selectinload(Customer.accounts).selectinload(CustomerAccount.store)).order_by(
        Customer.name, Customer.id
    )


def guest_orders_query(q: str) -> Select:
    """Orders numbered ``q`` that have no buyer record (guest checkouts)."""
    return (
        select(Order)
        .where(Order.customer_id.is_(None), Order.number.in_(order_number_variants(q)))
        .order_by(Order.placed_at.desc())
    )


def buyer_countries() -> list[tuple[str, int]]:
    """``[(ISO code, buyers)]`` for the country filter, most buyers first."""
    rows = db.session.execute(
        select(Customer.country, func.count())
        .where(Customer.country.is_not(None))
        .group_by(Customer.country)
        .order_by(func.count().desc(), Customer.country)
    )
    return [(code, count) for code, count in rows]


def order_counts(customer_ids: list[int]) -> dict[int, int]:
    """``{customer id: number of orders}`` for one page of buyers, in one query."""
    if not customer_ids:
        return {}
    rows = db.session.execute(
        select(Order.customer_id, func.count()).where(Order.customer_id.in_(customer_ids)).group_by(Order.customer_id)
    )
    return dict(rows.all())
