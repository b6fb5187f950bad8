"""Stokly JSON -> domain records. Every malformed body or record raises ``MalformedResponse``
naming the route and the field; assumed field names come from ``watchdog.stokly_assumed``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from watchdog.connectors.http import ErrorKind, MalformedResponse, field, known_decimal, opt_field, to_decimal
from watchdog.connectors.shape import ABSENT, note_field
from watchdog.model import (
    Channel,
    CreditNote,
    CreditNoteLine,
    Customer,
    Dispatch,
    DispatchLine,
    Invoice,
    Item,
    ItemFormat,
    Listing,
    Location,
    Payment,
    SaleOrder,
    SaleOrderLine,
    StockLevel,
)
from watchdog.stokly_assumed import (
    CHANNEL_ALLOCATE_SOLD_LOCATION,
    CREDIT_NOTE,
    CREDIT_NOTE_ITEM,
    CUSTOMER_EMAIL,
    CUSTOMER_FULL_NAME,
    INVENTORY_ALLOCATED,
    INVOICE_TAX,
    INVOICE_TOTAL,
    LINE_QUANTITY_CANCELLED,
    SALE_ORDER,
    SHIPMENT,
)

__all__ = [
    "SYSTEM",
    "Bin",
    "Record",
    "created_id",
    "grant_result",
    "list_envelope",
    "parse_bin",
    "parse_channel",
    "parse_child_id",
    "parse_component",
    "parse_credit_note",
    "parse_customer",
    "parse_dispatch",
    "parse_invoice",
    "parse_item",
    "parse_line",
    "parse_listing",
    "parse_location",
    "parse_sale_order",
    "parse_stock_level",
    "single_record",
]

SYSTEM = "stokly"
ZERO = Decimal(0)
Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Bin:
    """A bin of a Stokly location; every location has one default bin."""

    bin_id: str
    location_id: str
    name: str
    default: bool
    status: str = "active"


# --------------------------------------------------------------------------- primitives


def _bad(route: str, message: str) -> MalformedResponse:
    return MalformedResponse(SYSTEM, route, message, kind=ErrorKind.PERMANENT)


def _str(rec: Record, name: str, route: str) -> str:
    # interned: ids, SKUs and location ids recur across items, stock levels and listings
    return sys.intern(str(field(rec, name, str, system=SYSTEM, route=route)))


def _opt_str(rec: Record, name: str, route: str, default: str | None = None) -> str | None:
    value = opt_field(rec, name, (str, int), default, system=SYSTEM, route=route)
    return None if value is None else sys.intern(str(value))


def _int(rec: Record, name: str, route: str) -> int:
    return int(field(rec, name, int, system=SYSTEM, route=route))


def _opt_int(rec: Record, name: str, route: str) -> int:
    return int(opt_field(rec, name, int, 0, system=SYSTEM, route=route))


def _dec(rec: Record, name: str, route: str) -> Decimal:
    return to_decimal(field(rec, name, (int, float, str), system=SYSTEM, route=route), name, system=SYSTEM,
                      route=route)


def _opt_dec(rec: Record, name: str, route: str, default: Decimal = ZERO) -> Decimal:
    value = opt_field(rec, name, (int, float, str), None, system=SYSTEM, route=route)
    return default if value is None else to_decimal(value, name, system=SYSTEM, route=route)


def _obj(rec: Record, name: str, route: str) -> Record:
    return dict(opt_field(rec, name, Mapping, {}, system=SYSTEM, route=route))


def _records(rec: Record, name: str, route: str) -> list[Record]:
    values: Sequence[Any] = opt_field(rec, name, list, [], system=SYSTEM, route=route)
    for value in values:
        if not isinstance(value, Mapping):
            raise _bad(route, f"field {name!r} holds a {type(value).__name__}, not an object")
    return list(values)


def _strings(rec: Record, name: str, route: str) -> tuple[str, ...]:
    values: Sequence[Any] = opt_field(rec, name, list, [], system=SYSTEM, route=route)
    if not all(isinstance(v, str) for v in values):
        raise _bad(route, f"field {name!r} holds a non-string")
    return tuple(values)


def _time(rec: Record, name: str, route: str) -> datetime:
    text = _str(rec, name, route)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(route, f"field {name!r} is not an ISO-8601 timestamp") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class _Soft:
    """Reads the fields of one record that may be missing or of another type in the real API.

    Such a field costs only itself: it reads as unknown, its model attribute is added to
    ``unknown``, and the current ShapeLog (if any) counts it. Absent-by-nature fields
    (``absent_ok``) read as their default without a note.
    """

    __slots__ = ("rec", "route", "unknown")

    def __init__(self, rec: Record, route: str) -> None:
        if not isinstance(rec, Mapping):
            raise _bad(route, f"expected an object, got {type(rec).__name__}")
        self.rec, self.route = rec, route
        self.unknown: set[str] = set()

    def _miss(self, name: str, attr: str, expected: str, value: Any) -> None:
        self.unknown.add(attr)
        note_field(SYSTEM, self.route, name, expected, value, self.rec)

    def dec(self, name: str, attr: str, *, obj: Record | None = None, path: str = "") -> Decimal | None:
        """A number (int, float or numeric string); None when absent, null or not a number.

        ``obj`` reads from a member object instead of the record; ``path`` names it (``items[].quantity``).
        """
        value = (self.rec if obj is None else obj).get(name, ABSENT)
        kind = type(value)
        if kind is int or kind is float or kind is str:
            known = known_decimal(value)
            if known is not None:
                return known
            try:
                return to_decimal(value, name, system=SYSTEM, route=self.route)
            except MalformedResponse:
                pass
        self._miss(path or name, attr, "a number", value)
        return None

    def text(self, name: str, attr: str, *, absent_ok: bool = False, default: str | None = None) -> str | None:
        """A string (or integer id); null reads as ``default``, absent too when ``absent_ok``."""
        value = self.rec.get(name, ABSENT)
        if type(value) is str or (type(value) is int):
            return sys.intern(str(value))
        if value is None or (value is ABSENT and absent_ok):
            return default
        self._miss(name, attr, "a string", value)
        return default

    def integer(self, name: str, attr: str) -> int | None:
        value = self.rec.get(name, ABSENT)
        if type(value) is int:
            return value
        self._miss(name, attr, "an integer", value)
        return None

    def time(self, name: str, attr: str) -> datetime | None:
        value = self.rec.get(name, ABSENT)
        if type(value) is str:
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
            except ValueError:
                pass
        self._miss(name, attr, "an ISO-8601 timestamp", value)
        return None

    def records(self, name: str, attr: str, *, obj: Record | None = None) -> list[Record] | None:
        """A list of objects; None (unknown) when absent or of another shape."""
        value = (self.rec if obj is None else obj).get(name, ABSENT)
        if type(value) is list and all(isinstance(v, Mapping) for v in value):
            return value
        self._miss(name, attr, "a list of objects", value)
        return None

    def obj(self, name: str, attr: str) -> Record | None:
        value = self.rec.get(name, ABSENT)
        if isinstance(value, Mapping):
            return value
        self._miss(name, attr, "an object", value)
        return None

    def frozen(self) -> frozenset[str]:
        return frozenset(self.unknown)


# --------------------------------------------------------------------------- envelopes


def list_envelope(body: Any, route: str) -> tuple[list[Record], int]:
    """``{"data": [...], "metadata": {"count": N}}`` -> (records, N)."""
    if not isinstance(body, Mapping):
        raise _bad(route, "list body is not an object")
    data = field(body, "data", list, system=SYSTEM, route=route)
    count = _int(_obj(body, "metadata", route), "count", route)
    if not all(isinstance(r, Mapping) for r in data):
        raise _bad(route, "field 'data' holds a non-object")
    return list(data), count


def single_record(body: Any, route: str) -> Record:
    """``{"data": {...}}`` -> the record."""
    if not isinstance(body, Mapping):
        raise _bad(route, "body is not an object")
    return dict(field(body, "data", Mapping, system=SYSTEM, route=route))


def created_id(body: Any, route: str) -> str:
    """``{"data": {"id": "<uuid>"}}`` -> the id."""
    return _str(single_record(body, route), "id", route)


def grant_result(body: Any, route: str) -> tuple[str, datetime]:
    """The grant answer -> (access token, expiry). The error never quotes the body (it holds the token)."""
    result = _obj(single_record(body, route), "authenticationResult", route)
    return _str(result, "accessToken", route), _time(result, "expiry", route)


# --------------------------------------------------------------------------- catalogue and stock


def parse_item(rec: Record, route: str) -> Item:
    """An item row; components and variants are filled in by the client from other routes."""
    raw_format = _int(rec, "format", route)
    try:
        fmt = ItemFormat(raw_format)
    except ValueError:
        raise _bad(route, f"field 'format' has unknown value {raw_format}") from None
    return Item(_str(rec, "itemId", route), _str(rec, "sku", route), _opt_str(rec, "name", route, "") or "", fmt,
                _int(rec, "status", route), _strings(rec, "barcodes", route))


def parse_component(rec: Record, route: str) -> tuple[str, str, Decimal]:
    """A ``/v0/composing-items`` row -> (kit itemId, component itemId, quantity per kit)."""
    return _str(rec, "itemId", route), _str(rec, "composingItemId", route), _dec(rec, "quantity", route)


def parse_child_id(rec: Record, route: str) -> str:
    """The itemId of a ``/v0/items/{id}/children`` row."""
    return _str(rec, "itemId", route)


def parse_location(rec: Record, route: str) -> Location:
    return Location(_str(rec, "locationId", route), _str(rec, "name", route), _int(rec, "status", route))


def parse_bin(rec: Record, route: str) -> Bin:
    default = field(rec, "default", (int, bool), system=SYSTEM, route=route)
    return Bin(_str(rec, "binId", route), _str(rec, "locationId", route), _opt_str(rec, "name", route, "") or "",
               bool(default), _opt_str(rec, "status", route, "active") or "active")


def parse_stock_level(rec: Record, route: str) -> StockLevel:
    """A location-level inventory record (``binId`` UNASSIGNED); ``allocated`` (assumed) may be unknown."""
    allocated = known_decimal(rec.get(INVENTORY_ALLOCATED)) if type(rec) is dict else None  # the common case
    if allocated is None:
        allocated = _Soft(rec, route).dec(INVENTORY_ALLOCATED, "allocated")
    return StockLevel(
        _str(rec, "itemId", route), _str(rec, "itemSku", route), _str(rec, "locationId", route),
        _dec(rec, "onHand", route), _opt_dec(rec, "quarantined", route), allocated,
    )


def parse_channel(rec: Record, route: str) -> Channel:
    soft = _Soft(rec, route)
    allocate = soft.text(CHANNEL_ALLOCATE_SOLD_LOCATION, "allocate_sold_location_id")
    return Channel(
        _str(rec, "channelId", route), _opt_str(rec, "name", route, "") or "", _int(rec, "type", route),
        _int(rec, "status", route), _strings(rec, "inventoryLocationIds", route), allocate, soft.frozen(),
    )


def parse_listing(rec: Record, route: str) -> Listing:
    return Listing(
        _str(rec, "listingId", route), _str(rec, "channelId", route), _str(rec, "itemId", route),
        _str(rec, "sku", route), _opt_str(rec, "referenceId", route), _int(rec, "status", route),
    )


def parse_customer(rec: Record, route: str) -> Customer:
    soft = _Soft(rec, route)
    name = soft.text(CUSTOMER_FULL_NAME, "name", absent_ok=True)
    if name is None:
        parts = _obj(rec, "name", route)
        name = " ".join(p for p in (_opt_str(parts, "forename", route), _opt_str(parts, "surname", route)) if p)
    return Customer(_str(rec, "customerId", route), _opt_str(rec, "barcode", route),
                    soft.text(CUSTOMER_EMAIL, "email", absent_ok=True), name)


# --------------------------------------------------------------------------- sales


def _payments(soft: _Soft, name: str) -> tuple[Payment, ...]:
    rows = soft.records(name, "payments")
    return () if rows is None else tuple(Payment(_int(p, "method", soft.route), _dec(p, "amount", soft.route))
                                         for p in rows)


def parse_sale_order(rec: Record, route: str, lines: tuple[SaleOrderLine, ...] = ()) -> SaleOrder:
    """A sale order (list row or single read); ``lines`` come from the items route.

    The assumed fields (customer, totals, allocated location, payments) may be unknown: see ``unknown``.
    """
    f, soft = SALE_ORDER, _Soft(rec, route)
    return SaleOrder(
        _str(rec, "saleOrderId", route), _int(rec, "niceId", route), _str(rec, "stage", route),
        _opt_str(rec, "sourceReferenceId", route), _opt_str(rec, "currency", route, "") or "",
        _time(rec, "createdAt", route), lines, _opt_str(rec, "sourceId", route),
        soft.text(f.customer_id, "customer_id"), soft.dec(f.total, "total"), soft.dec(f.tax, "tax"),
        soft.text(f.allocated_location_id, "allocated_location_id"),
        _strings(rec, "itemStatuses", route), _payments(soft, f.payments), soft.frozen(),
    )


def parse_line(rec: Record, route: str) -> SaleOrderLine:
    soft = _Soft(rec, route)
    return SaleOrderLine(
        _str(rec, "lineId", route), _str(rec, "referenceId", route), _opt_str(rec, "itemSku", route, "") or "",
        _dec(rec, "quantity", route), _opt_dec(rec, "displayPrice", route), _opt_dec(rec, "displayTax", route),
        _opt_str(rec, "status", route, "unprocessed") or "unprocessed", _opt_str(rec, "parentId", route),
        soft.dec(LINE_QUANTITY_CANCELLED, "quantity_cancelled") or ZERO, soft.frozen(),
    )


def parse_invoice(rec: Record, route: str) -> Invoice:
    soft = _Soft(rec, route)
    return Invoice(
        _str(rec, "saleInvoiceId", route), _opt_int(rec, "niceId", route), _str(rec, "saleOrderId", route),
        _time(rec, "issueDate", route), _opt_str(rec, "currency", route, "") or "",
        _opt_str(rec, "status", route, "") or "", soft.dec(INVOICE_TOTAL, "total"), soft.dec(INVOICE_TAX, "tax"),
    )


def parse_dispatch(rec: Record, route: str) -> Dispatch:
    """An (assumed) shipment record. Without tracking (a collection, a letter) it is a normal dispatch."""
    f, soft = SHIPMENT, _Soft(rec, route)
    rows = soft.records(f.items, "lines")
    lines = () if rows is None else tuple(
        DispatchLine(_str(i, f.item_line_id, route), _dec(i, f.item_quantity, route)) for i in rows)
    return Dispatch(
        _str(rec, f.id, route), soft.integer(f.nice_id, "nice_id"), _str(rec, f.sale_order_id, route),
        soft.text(f.location_id, "location_id", absent_ok=True),
        soft.text(f.carrier, "carrier", absent_ok=True, default="") or "",
        soft.text(f.tracking_number, "tracking_number", absent_ok=True, default="") or "",
        _time(rec, f.dispatched_at, route), lines,
        soft.text(f.service, "service", absent_ok=True, default="") or "",
        soft.text(f.tracking_url, "tracking_url", absent_ok=True, default="") or "",
        soft.text(f.status, "status", absent_ok=True, default=f.status_dispatched) or f.status_dispatched,
        soft.frozen(),
    )


def _credit_lines(soft: _Soft) -> tuple[CreditNoteLine, ...] | None:
    fi = CREDIT_NOTE_ITEM
    rows = soft.records(CREDIT_NOTE.items, "lines")
    if rows is None:
        return None
    lines = []
    items = CREDIT_NOTE.items
    for i in rows:
        qty, price, tax = (soft.dec(name, "lines", obj=i, path=f"{items}[].{name}")
                           for name in (fi.quantity, fi.unit_price, fi.unit_tax))
        item_id = i.get(fi.reference_id)
        if qty is None or price is None or tax is None or not isinstance(item_id, str):
            return None
        lines.append(CreditNoteLine(sys.intern(item_id), qty, price, tax, i.get(fi.restock) is True))
    return tuple(lines)


def parse_credit_note(rec: Record, route: str) -> CreditNote:
    """An (assumed) VAT credit note: amount is the refund, VAT is lines' tax plus shipping tax.

    A part that cannot be read (the refund, the lines, the shipping tax) leaves ``amount`` or
    ``vat`` None and its attribute in ``unknown``.
    """
    f, soft = CREDIT_NOTE, _Soft(rec, route)
    lines = _credit_lines(soft)
    shipping = soft.obj(f.shipping, "shipping_tax") if f.shipping in rec else {}
    shipping_tax = None if shipping is None else (
        soft.dec(f.shipping_tax, "shipping_tax", obj=shipping, path=f"{f.shipping}.{f.shipping_tax}")
        if f.shipping_tax in shipping else ZERO)
    shipping_cost = _opt_dec(shipping, f.shipping_cost, route) if shipping else ZERO
    vat = None if lines is None or shipping_tax is None else (
        sum((ln.unit_tax * ln.quantity for ln in lines), ZERO) + shipping_tax)
    return CreditNote(
        _str(rec, f.id, route), soft.integer(f.nice_id, "nice_id"),
        soft.text(f.source_reference_id, "source_reference_id"),
        soft.text(f.currency, "currency", default="") or "", _credit_amount(soft), vat,
        soft.time(f.issue_date, "issue_date"), soft.text(f.reference_id, "reference_id", absent_ok=True),
        lines or (), shipping_cost, shipping_tax or ZERO,
        soft.text(f.status, "status", absent_ok=True, default=f.status_open) or f.status_open, soft.frozen(),
    )


def _credit_amount(soft: _Soft) -> Decimal | None:
    """``refund.amount``; for a voucher-shaped note (no refund) its ``value.amount``."""
    f = CREDIT_NOTE
    refund = soft.rec.get(f.refund)
    if isinstance(refund, Mapping) and refund:
        return soft.dec(f.refund_amount, "amount", obj=refund, path=f"{f.refund}.{f.refund_amount}")
    value = soft.rec.get(f.value)
    if isinstance(value, Mapping):
        return soft.dec("amount", "amount", obj=value)
    soft._miss(f"{f.refund}.{f.refund_amount}", "amount", "a number", ABSENT)
    return None
