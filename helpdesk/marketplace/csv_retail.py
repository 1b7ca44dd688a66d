"""CSV import of the UCI Online Retail layout.

Columns: ``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country``
(Chen, Sain & Guo 2012, UCI Machine Learning Repository, data set 352). Rules:

* one order per invoice; ``InvoiceDate`` is local time of the store's time zone
  (ISO ``2010-12-01 08:26:00`` or the UCI original ``12/1/2010 8:26``);
* ``CustomerID`` ``17850.0`` is buyer ``17850``; rows without one are guest orders;
* an invoice whose ``InvoiceNo`` starts with ``C`` is a cancellation (negative quantities).
  Each of its lines refunds the latest earlier line of the same buyer, stock code and
  unit price in the same import that still has that many units unrefunded: the refund
  is recorded on that order. Lines with no such original (guest buyers, or originals
  outside the import) become an order of their own, cancelled and refunded in full;
* a sale invoice made only of zero-price, negative-quantity lines without a buyer is a
  stock adjustment, not an order, and is skipped;
* an invoice with any unreadable line is refused whole, with the line and the reason;
  other invoices still import.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import BinaryIO
from zoneinfo import ZoneInfo

from helpdesk.countries import to_iso_country
from helpdesk.marketplace.records import (
    MAX_QUANTITY,
    CustomerRecord,
    LineRecord,
    OrderRecord,
    Page,
    RecordError,
    RefundLineRecord,
    RefundRecord,
)
from helpdesk.money import InvalidAmount, parse_unit_price, round_to_minor

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M")
MAX_FIELD = 1000


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (not CSV text, wrong columns); nothing is imported."""


@dataclass
class _Line:
    line_no: int
    stock_code: str
    description: str
    quantity: int
    unit_price: Decimal
    refunded: int = 0


@dataclass
class _Invoice:
    number: str
    customer_id: str | None
    country: str
    placed_at: datetime
    lines: list[_Line]

    @property
    def is_cancellation(self) -> bool:
        return self.number.startswith("C")


def _decode(stream: BinaryIO, encoding: str, source: str) -> str:
    data = stream.read()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"{source} is not {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8 or give the file's encoding (for example --encoding latin-1)."
        ) from None
    except LookupError:
        raise CsvFormatError(f"Unknown text encoding {encoding!r}.") from None


def _parse_date(text: str, tz: ZoneInfo) -> datetime:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"InvoiceDate {text!r} is not a date like 2010-12-01 08:26:00")


def _parse_row(row: dict, line_no: int, currency: str, tz: ZoneInfo) -> tuple[str | None, str, datetime, _Line]:
    if None in row or any(row.get(c) is None for c in COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} fields")
    if any(len(row[c]) > MAX_FIELD for c in COLUMNS):
        raise ValueError(f"a field is longer than {MAX_FIELD} characters")
    try:
        quantity = int(row["Quantity"].strip())
    except ValueError:
        raise ValueError(f"Quantity {row['Quantity']!r} is not a whole number") from None
    if abs(quantity) > MAX_QUANTITY:
        raise ValueError(f"Quantity {quantity} is beyond {MAX_QUANTITY:,} units")
    try:
        price = parse_unit_price(row["UnitPrice"], currency)
    except InvalidAmount as exc:
        raise ValueError(f"UnitPrice: {exc}") from None
    if price < 0:
        raise ValueError(f"UnitPrice {row['UnitPrice']} is negative")
    customer = row["CustomerID"].strip()
    if customer:
        try:
            customer = str(int(Decimal(customer)))
        except (InvalidOperation, ValueError):
            raise ValueError(f"CustomerID {customer!r} is not a number") from None
    line = _Line(line_no, row["StockCode"].strip(), row["Description"].strip(), quantity, price)
    return customer or None, row["Country"].strip(), _parse_date(row["InvoiceDate"], tz), line


def _read_invoices(text: str, source: str, currency: str, tz: ZoneInfo) -> tuple[list[_Invoice], list[RecordError], int]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CsvFormatError(
            f"{source} is not in the Online Retail layout: missing column(s) {', '.join(missing)}; "
            f"expected header {','.join(COLUMNS)}."
        )
    invoices: dict[str, _Invoice] = {}
    broken: dict[str, str] = {}
    errors: list[RecordError] = []
    for row in reader:
        line_no = reader.line_num
        number = (row.get("InvoiceNo") or "").strip()
        if not number:
            errors.append(RecordError(f"{source}:{line_no}", f"{source} line {line_no}: InvoiceNo is empty"))
            continue
        if number in broken:
            continue
        try:
            customer, country, placed_at, line = _parse_row(row, line_no, currency, tz)
        except ValueError as exc:
            broken[number] = f"{source} line {line_no}: {exc}; invoice {number} not imported"
            invoices.pop(number, None)
            continue
        invoice = invoices.setdefault(number, _Invoice(number, customer, country, placed_at, []))
        invoice.lines.append(line)
    errors.extend(RecordError(number, reason) for number, reason in broken.items())
    adjustments = [
        n
        for n, inv in invoices.items()
        if not inv.is_cancellation
        and inv.customer_id is None
        and all(line.quantity <= 0 and line.unit_price == 0 for line in inv.lines)
    ]
    for number in adjustments:
        del invoices[number]
    for number, inv in list(invoices.items()):
        if not inv.is_cancellation and any(line.quantity <= 0 for line in inv.lines):
            errors.append(RecordError(number, f"{source}: sale invoice {number} has a line with quantity ≤ 0"))
            del invoices[number]
    return list(invoices.values()), errors, len(adjustments)


def _customer(inv: _Invoice) -> CustomerRecord | None:
    if inv.customer_id is None:
        return None
    return CustomerRecord(
        external_id=inv.customer_id,
        name=f"Customer {inv.customer_id}",
        email=None,
        country=to_iso_country(inv.country),
        country_name=inv.country or None,
    )


def _line_id(line: _Line) -> str:
    return f"{line.line_no}:{line.stock_code}"


def _order(inv: _Invoice, lines: list[_Line], currency: str, refunds: tuple[RefundRecord, ...]) -> OrderRecord:
    records = tuple(
        LineRecord(_line_id(l), l.stock_code or None, l.description or l.stock_code, abs(l.quantity),
                   l.unit_price, round_to_minor(l.unit_price * abs(l.quantity), currency))
        for l in lines
    )
    total = sum((l.line_total for l in records), Decimal(0))
    refunded = sum((r.amount for r in refunds), Decimal(0))
    financial = "paid" if not refunded else ("refunded" if refunded >= total else "partially_refunded")
    return OrderRecord(
        external_id=inv.number,
        number=inv.number,
        currency=currency,
        subtotal=total,
        shipping=Decimal(0),
        tax=Decimal(0),
        total=total,
        financial_status=financial,
        fulfillment_status="unknown",
        placed_at=inv.placed_at,
        updated_at=max([inv.placed_at, *(r.created_at for r in refunds)]),
        cancelled_at=inv.placed_at if inv.is_cancellation else None,
        customer=_customer(inv),
        shipping_country=to_iso_country(inv.country),
        shipping_country_name=inv.country or None,
        lines=records,
        refunds=refunds,
    )


def build_orders(invoices: list[_Invoice], currency: str) -> list[OrderRecord]:
    """Match cancellation lines to their originals (see the module rules) and build records."""
    sales = sorted((i for i in invoices if not i.is_cancellation), key=lambda i: (i.placed_at, i.number))
    index: dict[tuple, list[tuple[_Invoice, _Line]]] = defaultdict(list)
    for inv in sales:
        for line in inv.lines:
            index[(inv.customer_id, line.stock_code, line.unit_price)].append((inv, line))
    refunds: dict[str, list[RefundRecord]] = defaultdict(list)
    standalone: list[tuple[_Invoice, list[_Line]]] = []
    for cancel in sorted((i for i in invoices if i.is_cancellation), key=lambda i: (i.placed_at, i.number)):
        matched: dict[str, list[RefundLineRecord]] = defaultdict(list)
        unmatched: list[_Line] = []
        for line in cancel.lines:
            units = abs(line.quantity)
            candidates = [
                (inv, orig)
                for inv, orig in index.get((cancel.customer_id, line.stock_code, line.unit_price), [])
                if cancel.customer_id is not None and inv.placed_at < cancel.placed_at and orig.quantity - orig.refunded >= units
            ]
            if not candidates:
                unmatched.append(line)
                continue
            inv, orig = candidates[-1]
            orig.refunded += units
            matched[inv.number].append(RefundLineRecord(_line_id(orig), units, round_to_minor(orig.unit_price * units, currency)))
        for number, refund_lines in matched.items():
            refunds[number].append(
                RefundRecord(
                    external_id=cancel.number,
                    amount=sum((r.amount for r in refund_lines), Decimal(0)),
                    reason=f"Cancellation invoice {cancel.number}",
                    created_at=cancel.placed_at,
                    lines=tuple(refund_lines),
                )
            )
        if unmatched:
            standalone.append((cancel, unmatched))
    records = [_order(inv, inv.lines, currency, tuple(refunds.get(inv.number, ()))) for inv in sales]
    for cancel, lines in standalone:
        order = _order(cancel, lines, currency, ())
        refund = RefundRecord(
            external_id=cancel.number,
            amount=order.total,
            reason=f"Cancellation invoice {cancel.number} (original order not in this import)",
            created_at=cancel.placed_at,
            lines=tuple(RefundLineRecord(l.external_id, l.quantity, l.line_total) for l in order.lines),
        )
        records.append(replace(order, refunds=(refund,), financial_status="refunded"))
    return records


def parse_online_retail(
    stream: BinaryIO,
    *,
    source: str,
    currency: str = "GBP",
    time_zone: str = "Europe/London",
    encoding: str = "utf-8-sig",
    page_size: int = 200,
) -> tuple[list[Page], int]:
    """Read an Online Retail CSV into pages of order records.

    Args:
        stream: the file, opened in binary mode.
        source: a name for messages (the file name).
        currency: ISO 4217 code of the prices (the UCI data set is in GBP).
        time_zone: IANA zone the ``InvoiceDate`` values are in.
        encoding: the file's text encoding.
        page_size: orders per page.

    Returns:
        ``(pages, skipped)``: the pages (the first carries the refused invoices in its
        ``errors``) and the number of stock-adjustment invoices skipped.

    Raises:
        CsvFormatError: the file is not text in ``encoding`` or lacks the layout's columns.
    """
    text = _decode(stream, encoding, source)
    invoices, errors, skipped = _read_invoices(text, source, currency, ZoneInfo(time_zone))
    records = build_orders(invoices, currency)
    pages = [Page(records=records[i : i + page_size]) for i in range(0, len(records), page_size)] or [Page()]
    pages[0].errors.extend(errors)
    return pages, skipped
