"""CSV import of the UCI Online Retail layout, against counts computed here from the raw rows."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.marketplace.csv_retail import CsvFormatError, parse_online_retail
from helpdesk.marketplace.sync import import_pages
from helpdesk.models import Customer, Order, OrderLine, Refund, Store, SyncRun

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


@pytest.fixture
def store(app):
    store = Store(kind="csv", name="Online Retail", default_currency="GBP", time_zone="Europe/London")
    db.session.add(store)
    db.session.commit()
    return store


def pairs(stmt) -> dict:
    return dict(db.session.execute(stmt).all())


def retail_files(sample_data: Path) -> list[Path]:
    return sorted((sample_data / "online-retail").glob("*.csv"))


def combined_csv(files: list[Path]) -> bytes:
    """All days as one file (one header), so cancellations can find originals on other days."""
    parts = [HEADER]
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        assert lines[0] == HEADER
        parts.extend(lines[1:])
    return "".join(parts).encode("utf-8")


def import_bytes(store, data: bytes, source="test.csv", **kwargs):
    pages, skipped = parse_online_retail(io.BytesIO(data), source=source, **kwargs)
    return import_pages(store, pages, source=source, skipped=skipped)


def expected_from_rows(data: bytes) -> dict:
    """The import's documented rules, applied directly to the raw rows."""
    invoices: dict[str, dict] = {}
    for row in csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")):
        inv = invoices.setdefault(
            row["InvoiceNo"],
            {"country": row["Country"], "customer": row["CustomerID"] or None, "date": row["InvoiceDate"], "lines": []},
        )
        inv["lines"].append((row["StockCode"], int(row["Quantity"]), Decimal(row["UnitPrice"])))
    adjustments = {n for n, inv in invoices.items() if not n.startswith("C") and inv["customer"] is None
                   and all(q <= 0 and p == 0 for _, q, p in inv["lines"])}
    sales = {n: inv for n, inv in invoices.items() if not n.startswith("C") and n not in adjustments}
    assert all(q > 0 for inv in sales.values() for _, q, _ in inv["lines"]), "data has mixed sale invoices"
    cancels = {n: inv for n, inv in invoices.items() if n.startswith("C")}
    remaining = {(n, i): q for n, inv in sales.items() for i, (_, q, _) in enumerate(inv["lines"])}
    with_unmatched = set()
    unmatched_lines = 0
    refund_total = Decimal(0)
    for number in sorted(cancels, key=lambda n: (cancels[n]["date"], n)):
        cancel = cancels[number]
        for stock, quantity, price in cancel["lines"]:
            units = -quantity
            refund_total += (units * price).quantize(Decimal("0.01"), ROUND_HALF_EVEN)  # pence, half to even
            best = None
            for n, inv in sales.items():
                if cancel["customer"] is None or inv["customer"] != cancel["customer"] or inv["date"] >= cancel["date"]:
                    continue
                for i, (s, _, p) in enumerate(inv["lines"]):
                    if s == stock and p == price and remaining[(n, i)] >= units:
                        if best is None or (inv["date"], n) > (sales[best[0]]["date"], best[0]):
                            best = (n, i)
            if best is None:
                with_unmatched.add(number)
                unmatched_lines += 1
            else:
                remaining[best] -= units
    order_invoices = {**sales, **{n: cancels[n] for n in with_unmatched}}
    last_country: dict[str, tuple] = {}
    for n, inv in order_invoices.items():
        if inv["customer"]:
            key = (n.startswith("C"), inv["date"], n)
            if inv["customer"] not in last_country or key > last_country[inv["customer"]][0]:
                last_country[inv["customer"]] = (key, inv["country"])
    return {
        "orders_by_country": Counter(inv["country"] for inv in order_invoices.values()),
        "cancellations": {n: inv["country"] for n, inv in cancels.items()},
        "standalone_cancellations": with_unmatched,
        "customers_by_country": Counter(country for _, country in last_country.values()),
        "refund_total": refund_total,
        "adjustments": len(adjustments),
        "lines": sum(len(inv["lines"]) for inv in sales.values()) + unmatched_lines,
    }


def test_online_retail_counts_match_an_independent_count(store, sample_data):
    data = combined_csv(retail_files(sample_data))
    expected = expected_from_rows(data)

    summary = import_bytes(store, data)

    assert summary.failed == 0, summary.failures[:3]
    assert summary.created == sum(expected["orders_by_country"].values())
    assert summary.skipped == expected["adjustments"]
    orders_by_country = Counter(pairs(
        select(func.coalesce(Order.shipping_country_name, ""), func.count()).group_by(Order.shipping_country_name)))
    assert orders_by_country == expected["orders_by_country"]
    customers_by_country = Counter(pairs(select(Customer.country_name, func.count()).group_by(Customer.country_name)))
    assert customers_by_country == expected["customers_by_country"]
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == expected["lines"]
    cancellation_countries = pairs(select(Refund.external_id, Order.shipping_country_name).join(Order).distinct())
    assert cancellation_countries == expected["cancellations"]
    standalone = set(db.session.scalars(select(Order.number).where(Order.cancelled_at.is_not(None))))
    assert standalone == expected["standalone_cancellations"]
    assert db.session.scalar(select(func.sum(Refund.amount))) == expected["refund_total"]


def test_the_sample_covers_many_countries_with_iso_codes(store, sample_data):
    import_bytes(store, combined_csv(retail_files(sample_data)))
    codes = pairs(select(Customer.country_name, Customer.country).distinct())
    assert codes["EIRE"] == "IE"
    assert codes["RSA"] == "ZA"
    assert codes["Germany"] == "DE"
    assert codes["USA"] == "US"
    assert codes["Channel Islands"] is None  # Jersey and Guernsey have codes of their own
    assert codes["European Community"] is None
    iso = {code for code in codes.values() if code}
    assert len(iso) >= 30


def test_a_cancellation_refunds_the_original_lines(store):
    data = (HEADER
            + "500001,A1,Blue mug,6,2011-01-01 09:00:00,2.50,12345.0,Germany\n"
            + "500001,B2,Red plate,2,2011-01-01 09:00:00,4.00,12345.0,Germany\n"
            + "C500002,A1,Blue mug,-4,2011-01-02 10:00:00,2.50,12345.0,Germany\n").encode()
    summary = import_bytes(store, data)
    assert (summary.created, summary.failed) == (1, 0)
    order = db.session.scalar(select(Order).filter_by(number="500001"))
    assert order.total == Decimal("23.00")
    assert order.financial_status == "partially_refunded"
    assert order.cancelled_at is None
    [refund] = order.refunds
    assert (refund.external_id, refund.amount, refund.currency) == ("C500002", Decimal("10.00"), "GBP")
    assert [(rl.order_line.sku, rl.quantity) for rl in refund.lines] == [("A1", 4)]
    assert order.placed_at.isoformat() == "2011-01-01T09:00:00+00:00"  # London is on GMT in January


def test_invoice_dates_are_local_time_of_the_store(store):
    data = (HEADER + "500003,A1,Mug,1,2011-06-01 09:00:00,2.50,1.0,France\n").encode()
    import_bytes(store, data)
    order = db.session.scalar(select(Order).filter_by(number="500003"))
    assert order.placed_at.isoformat() == "2011-06-01T08:00:00+00:00"  # BST is UTC+1


def test_a_broken_line_refuses_its_invoice_and_keeps_the_rest(store):
    data = (HEADER
            + "600001,A1,Mug,2,2011-01-01 10:00:00,1.50,12345.0,Germany\n"
            + "600001,B2,Plate,many,2011-01-01 10:00:00,1.50,12345.0,Germany\n"
            + "600002,A1,Mug,2,2011-01-01 10:00:00,1.50,777.0,EIRE\n"
            + "600003,A1,Mug,2,not a date,1.50,777.0,EIRE\n"
            + "600004,A1,Mug,99999999999999999999,2011-01-01 10:00:00,1.50,777.0,EIRE\n"
            + ",A1,Mug,2,2011-01-01 10:00:00,1.50,777.0,EIRE\n").encode()
    summary = import_bytes(store, data, source="orders.csv")
    assert db.session.get(SyncRun, summary.run_id).status == "completed"
    assert (summary.created, summary.failed) == (1, 4)
    reasons = sorted(f.reason for f in summary.failures)
    assert reasons == [
        "orders.csv line 3: Quantity 'many' is not a whole number; invoice 600001 not imported",
        "orders.csv line 5: InvoiceDate 'not a date' is not a date like 2010-12-01 08:26:00; invoice 600003 not imported",
        "orders.csv line 6: Quantity 99999999999999999999 is beyond 1,000,000 units; invoice 600004 not imported",
        "orders.csv line 7: InvoiceNo is empty",
    ]
    assert db.session.scalars(select(Order.number)).all() == ["600002"]
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 1


def test_reimport_changes_nothing(store, sample_data):
    data = retail_files(sample_data)[0].read_bytes()
    first = import_bytes(store, data)
    counts = db.session.scalar(select(func.count()).select_from(Order)), db.session.scalar(select(func.count()).select_from(Refund))
    second = import_bytes(store, data)
    assert first.created > 100 and second.created == 0 and second.updated == 0
    assert second.skipped == first.created + first.skipped
    assert (db.session.scalar(select(func.count()).select_from(Order)),
            db.session.scalar(select(func.count()).select_from(Refund))) == counts


@pytest.mark.parametrize("data, message", [
    (b"", "missing column(s) InvoiceNo"),
    (b"InvoiceNo,StockCode\n1,2\n", "missing column(s) Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country"),
    (HEADER.encode() + "1,A,Th\u00e9 pot,1,2011-01-01 10:00:00,1.00,1.0,France\n".encode("latin-1"),
     f"test.csv is not utf-8-sig text (byte 0xe9 at offset {len(HEADER) + len('1,A,Th')})"),
])
def test_unreadable_files_import_nothing(store, data, message):
    with pytest.raises(CsvFormatError, match=re.escape(message)):
        parse_online_retail(io.BytesIO(data), source="test.csv")
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_latin1_file_imports_with_its_encoding(store):
    data = HEADER.encode() + "1,A,Th\u00e9 pot \u00e0 la menthe,1,2011-01-01 10:00:00,1.00,1.0,France\n".encode("latin-1")
    import_bytes(store, data, encoding="latin-1")
    assert db.session.scalar(select(OrderLine.title)) == "Thé pot à la menthe"


def test_untrusted_text_is_kept_verbatim(store):
    evil = '<script>alert(1)</script> 退货 مرحبا 🎁'
    data = (HEADER + f'700001,A1,"{evil}",1,2011-01-01 10:00:00,1.00,1.0,Germany\n'
            + "700002,A1," + "x" * 1001 + ",1,2011-01-01 10:00:00,1.00,1.0,Germany\n").encode()
    summary = import_bytes(store, data, source="evil.csv")
    assert db.session.scalar(select(OrderLine.title)) == evil
    assert [f.reason for f in summary.failures] == [
        "evil.csv line 3: a field is longer than 1000 characters; invoice 700002 not imported"]


def test_fine_unit_prices_are_kept_and_line_totals_rounded_to_pence(store):
    data = (HEADER + "800001,A1,Beads,1005,2011-01-01 10:00:00,0.001,1.0,Germany\n"
            + "800002,A1,Beads,1,2011-01-01 10:00:00,0.00001,1.0,Germany\n").encode()
    summary = import_bytes(store, data, source="p.csv")
    line = db.session.scalar(select(OrderLine))
    assert (line.unit_price, line.line_total) == (Decimal("0.001"), Decimal("1.00"))  # 1.005 rounds half to even
    assert [f.reason for f in summary.failures] == [
        "p.csv line 3: UnitPrice: 0.00001 has more than 4 decimals.; invoice 800002 not imported"]
