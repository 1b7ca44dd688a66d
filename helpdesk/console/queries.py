"""Read-side queries of the console, kept out of the views."""
from __future__ import annotations

from sqlalchemy import Select, and_, exists, func, or_, select

from helpdesk.extensions import db
from helpdesk.models import Customer, Order, Store
from helpdesk.text import search_key

MAX_QUERY = 200


def normalise_query(q: str | None) -> str:
    """Trim, drop control characters, cap at :data:`MAX_QUERY` characters."""
    text = "".join(ch for ch in (q or "") if ch.isprintable()).strip()
    return text[:MAX_QUERY]


def order_number_variants(q: str) -> list[str]:
    """``1001``, ``#1001`` and ``c545507`` find ``#1001`` and ``C545507``: marketplaces
    differ on the hash, buyers on letter case."""
    bare = q.lstrip("#").strip()
    if not bare:
        return []
    cases = {bare, bare.upper(), bare.lower()}
    return sorted(cases | {f"#{case}" for case in cases})


def buyers_query(q: str, country: str | None = None) -> Select:
    """Buyers whose name or e-mail holds every word of ``q`` (case and accents ignored in
    any script, ``%``/``_`` taken literally), or who placed the order numbered ``q``;
    optionally in ``country``."""
    stmt = select(Customer)
    if q:
        words = [Customer.search_text.contains(word, autoescape=True) for word in search_key(q).split()]
        stmt = stmt.where(
            or_(
                and_(*words),
                exists().where(Order.customer_id == Customer.id, Order.number.in_(order_number_variants(q))),
            )
        )
    if country:
        stmt = stmt.where(Customer.country == country)
    return stmt.order_by(Customer.name, Customer.id)


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


def order_summary(customer_ids: list[int]) -> dict[int, tuple[int, list[str]]]:
    """``{customer id: (number of orders, names of the stores they bought from)}`` for one
    page of buyers, in one query."""
    if not customer_ids:
        return {}
    rows = db.session.execute(
        select(Order.customer_id, Store.name, func.count())
        .join(Store, Order.store_id == Store.id)
        .where(Order.customer_id.in_(customer_ids))
        .group_by(Order.customer_id, Store.name)
        .order_by(Store.name)
    )
    summary: dict[int, tuple[int, list[str]]] = {}
    for customer_id, store, count in rows:
        total, stores = summary.get(customer_id, (0, []))
        summary[customer_id] = (total + count, [*stores, store])
    return summary
