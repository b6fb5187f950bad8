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

from watchdog.connectors.http import ErrorKind, MalformedResponse, field, opt_field, to_decimal
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
    """A location-level inventory record (``binId`` UNASSIGNED); ``allocated`` is an assumed field."""
    return StockLevel(
        _str(rec, "itemId", route), _str(rec, "itemSku", route), _str(rec, "locationId", route),
        _dec(rec, "onHand", route), _opt_dec(rec, "quarantined", route), _dec(rec, INVENTORY_ALLOCATED, route),
    )


def parse_channel(rec: Record, route: str) -> Channel:
    return Channel(
        _str(rec, "channelId", route), _str(rec, "name", route), _int(rec, "type", route),
        _int(rec, "status", route), _strings(rec, "inventoryLocationIds", route),
        _opt_str(rec, CHANNEL_ALLOCATE_SOLD_LOCATION, route),
    )


def parse_listing(rec: Record, route: str) -> Listing:
    return Listing(
        _str(rec, "listingId", route), _str(rec, "channelId", route), _str(rec, "itemId", route),
        _str(rec, "sku", route), _opt_str(rec, "referenceId", route), _int(rec, "status", route),
    )


def parse_customer(rec: Record, route: str) -> Customer:
    name = _opt_str(rec, CUSTOMER_FULL_NAME, route)
    if name is None:
        parts = _obj(rec, "name", route)
        name = " ".join(p for p in (_opt_str(parts, "forename", route), _opt_str(parts, "surname", route)) if p)
    return Customer(_str(rec, "customerId", route), _opt_str(rec, "barcode", route),
                    _opt_str(rec, CUSTOMER_EMAIL, route), name)


# --------------------------------------------------------------------------- sales


def _payments(rec: Record, name: str, route: str) -> tuple[Payment, ...]:
    return tuple(Payment(_int(p, "method", route), _dec(p, "amount", route)) for p in _records(rec, name, route))


def parse_sale_order(rec: Record, route: str, lines: tuple[SaleOrderLine, ...] = ()) -> SaleOrder:
    """A sale order (list row or single read); ``lines`` come from the items route."""
    f = SALE_ORDER
    return SaleOrder(
        _str(rec, "saleOrderId", route), _int(rec, "niceId", route), _str(rec, "stage", route),
        _opt_str(rec, "sourceReferenceId", route), _str(rec, "currency", route), _time(rec, "createdAt", route),
        lines, _opt_str(rec, "sourceId", route), _opt_str(rec, f.customer_id, route), _dec(rec, f.total, route),
        _dec(rec, f.tax, route), _opt_str(rec, f.allocated_location_id, route),
        _strings(rec, "itemStatuses", route), _payments(rec, f.payments, route),
    )


def parse_line(rec: Record, route: str) -> SaleOrderLine:
    return SaleOrderLine(
        _str(rec, "lineId", route), _str(rec, "referenceId", route), _opt_str(rec, "itemSku", route, "") or "",
        _dec(rec, "quantity", route), _opt_dec(rec, "displayPrice", route), _opt_dec(rec, "displayTax", route),
        _str(rec, "status", route), _opt_str(rec, "parentId", route),
        _opt_dec(rec, LINE_QUANTITY_CANCELLED, route),
    )


def parse_invoice(rec: Record, route: str) -> Invoice:
    return Invoice(
        _str(rec, "saleInvoiceId", route), _int(rec, "niceId", route), _str(rec, "saleOrderId", route),
        _time(rec, "issueDate", route), _str(rec, "currency", route), _str(rec, "status", route),
        _dec(rec, INVOICE_TOTAL, route), _dec(rec, INVOICE_TAX, route),
    )


def parse_dispatch(rec: Record, route: str) -> Dispatch:
    """An (assumed) shipment record."""
    f = SHIPMENT
    lines = tuple(DispatchLine(_str(i, f.item_line_id, route), _dec(i, f.item_quantity, route))
                  for i in _records(rec, f.items, route))
    return Dispatch(
        _str(rec, f.id, route), _int(rec, f.nice_id, route), _str(rec, f.sale_order_id, route),
        _opt_str(rec, f.location_id, route), _opt_str(rec, f.carrier, route, "") or "",
        _str(rec, f.tracking_number, route), _time(rec, f.dispatched_at, route), lines,
        _opt_str(rec, f.service, route, "") or "", _opt_str(rec, f.tracking_url, route, "") or "",
        _opt_str(rec, f.status, route, f.status_dispatched) or f.status_dispatched,
    )


def parse_credit_note(rec: Record, route: str) -> CreditNote:
    """An (assumed) VAT credit note: amount is the refund, VAT is lines' tax plus shipping tax."""
    f, fi = CREDIT_NOTE, CREDIT_NOTE_ITEM
    lines = tuple(
        CreditNoteLine(_str(i, fi.reference_id, route), _dec(i, fi.quantity, route), _dec(i, fi.unit_price, route),
                       _dec(i, fi.unit_tax, route), i.get(fi.restock) is True)
        for i in _records(rec, f.items, route))
    shipping, refund = _obj(rec, f.shipping, route), _obj(rec, f.refund, route)
    shipping_tax = _opt_dec(shipping, f.shipping_tax, route)
    vat = sum((ln.unit_tax * ln.quantity for ln in lines), ZERO) + shipping_tax
    amount = _dec(refund, f.refund_amount, route) if refund else _dec(_obj(rec, f.value, route), "amount", route)
    return CreditNote(
        _str(rec, f.id, route), _int(rec, f.nice_id, route), _opt_str(rec, f.source_reference_id, route),
        _str(rec, f.currency, route), amount, vat, _time(rec, f.issue_date, route),
        _opt_str(rec, f.reference_id, route), lines, _opt_dec(shipping, f.shipping_cost, route), shipping_tax,
        _opt_str(rec, f.status, route, f.status_open) or f.status_open,
    )
