"""Agent console: sign-in, the buyers list and search, a buyer's orders."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from flask import g

from helpdesk.extensions import db
from helpdesk.marketplace.records import (
    CustomerRecord,
    LineRecord,
    OrderRecord,
    RefundLineRecord,
    RefundRecord,
    ShipmentRecord,
)
from helpdesk.marketplace.sync import apply_order
from helpdesk.models import Customer, Order, Store

PLACED = datetime(2024, 3, 1, 23, 30, tzinfo=timezone.utc)


def order_record(number, customer, *, currency="EUR", lines=(("SKU-1", "Mug", 2, "10.00"),), country="DE", **extra):
    line_records = tuple(
        LineRecord(f"{number}-{i}", sku, title, qty, Decimal(price), Decimal(price) * qty)
        for i, (sku, title, qty, price) in enumerate(lines)
    )
    total = sum((line.line_total for line in line_records), Decimal(0))
    return OrderRecord(external_id=number, number=f"#{number}", currency=currency, subtotal=total, shipping=Decimal(0),
                       tax=Decimal(0), total=total, financial_status="paid", fulfillment_status="fulfilled",
                       placed_at=PLACED, updated_at=PLACED, customer=customer, shipping_country=country,
                       lines=line_records, **extra)


@pytest.fixture
def shop(app):
    store = Store(kind="shopify", name="EU shop", base_url="http://shop.invalid", default_currency="EUR")
    db.session.add(store)
    db.session.commit()
    anna = CustomerRecord("1", "Anna Schmidt", "Anna.Schmidt@example.de", "DE", "Germany")
    apply_order(store, order_record(
        "1001", anna, lines=(("MUG-B", "Blue mug", 2, "617.25"),),
        shipping_address={"address1": "Hauptstraße 5", "zip": "10115", "city": "Berlin", "country_code": "DE"},
        shipments=(ShipmentRecord("s1", "DHL", "00340434161234567890", "https://www.dhl.de/track?id=0034", "delivered",
                                  PLACED, PLACED),),
        refunds=(RefundRecord("r1", Decimal("617.25"), "Arrived broken", PLACED, (RefundLineRecord("1001-0", 1),)),),
    ))
    apply_order(store, order_record("1002", CustomerRecord("2", "<script>alert('x')</script>", "x@example.com", "FR")))
    apply_order(store, order_record("1003", CustomerRecord("3", "Wang Fang 王芳", "fang@example.cn", "CN"), currency="JPY",
                                    lines=(("T-1", "茶碗", 1, "1500"),)))
    apply_order(store, order_record("1004", None))  # guest checkout
    db.session.commit()
    return store


def test_pages_need_a_signed_in_agent(client):
    response = client.get("/buyers")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fbuyers"


def test_login_form_posts_need_the_csrf_token(client, make_agent):
    make_agent(email="a@test.example")
    response = client.post("/login", data={"email": "a@test.example", "password": "correct horse battery"})
    assert response.status_code == 400
    assert b"Your form expired" in response.data
    assert client.get("/buyers").status_code == 302


def csrf_token(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_wrong_password_is_refused(client, make_agent):
    make_agent(email="a@test.example")
    response = client.post("/login", data={"email": "a@test.example", "password": "nope", "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert b"Wrong e-mail or password." in response.data
    assert client.get("/buyers").status_code == 302


def test_a_password_with_a_trailing_nul_is_refused(client, make_agent):
    make_agent(email="a@test.example")
    response = client.post("/login", data={"email": "a@test.example", "password": "correct horse battery\x00",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert b"Passwords cannot contain control characters." in response.data
    assert client.get("/buyers").status_code == 302


def test_sign_in_and_out_with_csrf(client, make_agent):
    make_agent(email="a@test.example")
    response = client.post("/login?next=https://evil.example/", data={
        "email": "A@Test.Example ", "password": "correct horse battery", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/buyers"  # never an open redirect
    assert client.get("/buyers").status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/buyers").get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/buyers").status_code == 302


def test_login_attempts_are_rate_limited(sqlite_app):
    client = sqlite_app(LOGIN_RATE_LIMIT="2 per minute", WTF_CSRF_ENABLED=False).test_client()
    statuses = [client.post("/login", data={"email": "a@b.example", "password": "x"}).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]  # unknown agent twice, then the limit
    assert b"Too many attempts" in client.post("/login", data={}).data


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/buyers/\d+" dir="auto">([^<]*)</a>', html)


def test_buyers_list_and_search(client, login, shop):
    login()
    assert names(client.get("/buyers").get_data(as_text=True)) == [
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", "Anna Schmidt", "Wang Fang 王芳"]
    found = client.get("/buyers?q=schmidt").get_data(as_text=True)
    assert names(found) == ["Anna Schmidt"]
    assert re.search(r"<td><bdi>anna\.schmidt@example\.de</bdi></td>\s*<td>Germany</td>\s*<td>1</td>\s*<td><bdi>EU shop</bdi></td>",
                     found)
    assert names(client.get("/buyers?q=anna.schmidt@EXAMPLE").get_data(as_text=True)) == ["Anna Schmidt"]
    assert names(client.get("/buyers?q=1003").get_data(as_text=True)) == ["Wang Fang 王芳"]
    assert names(client.get("/buyers?q=%231003").get_data(as_text=True)) == ["Wang Fang 王芳"]
    assert names(client.get("/buyers?q=王芳").get_data(as_text=True)) == ["Wang Fang 王芳"]
    assert names(client.get("/buyers?q=SCHMÎDT%20anna").get_data(as_text=True)) == ["Anna Schmidt"]
    assert names(client.get("/buyers?q=fang%20wang").get_data(as_text=True)) == ["Wang Fang 王芳"]
    assert names(client.get("/buyers?q=%25").get_data(as_text=True)) == []  # % is literal, not a wildcard
    assert names(client.get("/buyers?country=CN").get_data(as_text=True)) == ["Wang Fang 王芳"]
    huge = client.get("/buyers?q=" + "x" * 10_000)
    assert huge.status_code == 200 and names(huge.get_data(as_text=True)) == []


def test_guest_orders_are_found_by_number(client, login, shop):
    login()
    html = client.get("/buyers?q=1004").get_data(as_text=True)
    [path] = re.findall(r'<a href="(/orders/\d+)">#1004</a>', html)
    page = client.get(path).get_data(as_text=True)
    assert "Guest order: no buyer account." in page


def test_buyer_page_shows_orders_lines_shipments_refunds_in_the_agents_zone(client, login, shop):
    login(time_zone="Asia/Tokyo")
    anna = db.session.scalar(db.select(Customer).filter_by(email="anna.schmidt@example.de"))
    html = client.get(f"/buyers/{anna.id}").get_data(as_text=True)
    assert "Order \u2068#1001\u2069" in html  # isolated for bidi
    assert "Blue mug" in html and "MUG-B" in html
    assert "€1,234.50" in html  # line total, en locale
    assert "Mar 2, 2024, 8:30:00\u202fAM GMT+09:00" in html  # 23:30 UTC is 08:30 next day in Tokyo
    assert "00340434161234567890" in html and 'href="https://www.dhl.de/track?id=0034"' in html
    assert "Arrived broken" in html and "1 × <bdi>Blue mug</bdi>" in html
    assert "<bdi>Hauptstraße 5</bdi><br>" in html and "<bdi>10115 Berlin</bdi>" in html
    assert "paid</span> / <span class=\"status\">fulfilled</span>" in html
    assert "Germany" in html


def test_amounts_keep_their_currency(client, login, shop):
    login()
    wang = db.session.scalar(db.select(Customer).filter_by(email="fang@example.cn"))
    html = client.get(f"/buyers/{wang.id}").get_data(as_text=True)
    assert "¥1,500" in html and "茶碗" in html


def test_untrusted_names_are_escaped(client, login, shop):
    login()
    buyer = db.session.scalar(db.select(Customer).filter_by(email="x@example.com"))
    html = client.get(f"/buyers/{buyer.id}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_unknown_pages_answer_readable_404s(client, login):
    login()
    response = client.get("/buyers/999999")
    assert response.status_code == 404
    assert b"There is nothing at this address." in response.data
    assert client.get("/orders/abc").status_code == 404
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.get_json() == {"error": {"code": "not_found", "message": "There is nothing at this address."}}


def test_unsafe_tracking_links_are_not_rendered(client, login, shop):
    login()
    order = db.session.scalar(db.select(Order).filter_by(external_id="1002"))
    store = order.store
    apply_order(store, order_record("1002", CustomerRecord("2", "Eve", "x@example.com", "FR"), shipments=(
        ShipmentRecord("s9", "X", "T1", "javascript:alert(1)", "shipped", PLACED),)))
    db.session.commit()
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "javascript:alert" not in html and "T1" in html


def test_pages_carry_protective_headers(client, login, shop):
    login()
    response = client.get("/buyers")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_password_change_ends_other_sessions(client, login, make_agent):
    agent = login(email="lee@test.example")
    assert client.get("/buyers").status_code == 200
    make_agent(email="lee@test.example", password="a brand new password")
    # The test holds the app context its requests share, and Flask-Login caches the user in
    # g for the life of a context; in a server each request has its own context.
    g.pop("_login_user", None)
    response = client.get("/buyers")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/buyers/99999999999999999999", "/buyers/9223372036854775808", "/buyers/0",
                                  "/orders/99999999999999999999", "/buyers/-1"])
def test_ids_beyond_the_database_are_404(client, login, path):
    login()
    assert client.get(path).status_code == 404


def test_pages_past_the_end_show_the_last_page(client, login, shop):
    login()
    for page in ("999999", "99999999999999999999999", "-5", "abc"):
        html = client.get(f"/buyers?page={page}").get_data(as_text=True)
        assert len(names(html)) == 3, page
