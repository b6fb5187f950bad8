"""Request bodies of the sales routes, parsed into the state's typed arguments (400 when malformed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from watchdog.simulators.stokly.records import (
    CreditLineSpec,
    CreditNoteSpec,
    InvoiceLineSpec,
    LineSpec,
    Shipping,
)
from watchdog.simulators.stokly.web import (
    ApiError,
    opt_number,
    opt_str,
    parse_time,
    req_list,
    req_number,
    req_str,
)
from watchdog.stokly_assumed import (
    CANCEL_ITEMS,
    CREDIT_NOTE,
    CREDIT_NOTE_ITEM,
    PAYMENT_METHOD_EXTERNAL,
    REFERENCE_TYPE_VOUCHER,
    SHIPMENT,
    STATUS_INVALID,
    OrderStage,
    msg_invalid,
    msg_required,
)

__all__ = [
    "OrderBody",
    "ShipmentArgs",
    "credit_note_spec",
    "invoice_bodies",
    "line_quantities",
    "order_body",
    "payments",
    "shipment_args",
]


def _objects(body: Mapping[str, Any], name: str, *, required: bool = True) -> list[Mapping[str, Any]]:
    if not required and body.get(name) is None:
        return []
    values = req_list(body, name)
    if not all(isinstance(v, Mapping) for v in values):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must hold objects"))
    return list(values)


def _sub(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be an object"))
    return value


def payments(body: Mapping[str, Any]) -> tuple[tuple[int, Decimal], ...]:
    """``payments: [{method, amount}]`` (optional)."""
    return tuple((int(opt_number(p, "method", Decimal(PAYMENT_METHOD_EXTERNAL))), req_number(p, "amount"))
                 for p in _objects(body, "payments", required=False))


@dataclass(frozen=True)
class OrderBody:
    channel_id: str | None
    source_reference_id: str | None
    lines: tuple[LineSpec, ...]
    currency: str
    customer_id: str | None
    shipping: Shipping
    payments: tuple[tuple[int, Decimal], ...]
    created_at: datetime | None
    source_type: str
    customer_reference: str | None
    tags: tuple[str, ...]


def order_body(body: Mapping[str, Any]) -> OrderBody:
    """The POST /v2/saleorders body; raises ApiError 400."""
    stage = opt_str(body, "stage", OrderStage.ORDER.value)
    if stage != OrderStage.ORDER.value:
        raise ApiError(STATUS_INVALID, msg_invalid("stage", "must be order"))
    lines = tuple(_line(raw) for raw in _objects(body, "items"))
    created = opt_str(body, "createdAt")
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ApiError(STATUS_INVALID, msg_invalid("tags", "must be an array of strings"))
    return OrderBody(
        opt_str(body, "sourceId"), opt_str(body, "sourceReferenceId"), lines, req_str(body, "currency"),
        opt_str(_sub(body, "customer"), "customerId"), _shipping(_sub(body, "shipping")), payments(body),
        parse_time(created, "createdAt") if created else None, opt_str(body, "sourceType", "other") or "other",
        opt_str(body, "customerReference"), tuple(tags),
    )


def _line(raw: Mapping[str, Any]) -> LineSpec:
    if opt_str(raw, "type", "item") != "item":
        raise ApiError(STATUS_INVALID, msg_invalid("items.type", "must be item"))
    return LineSpec(
        req_str(raw, "referenceId"), req_number(raw, "quantity"), opt_number(raw, "displayPrice"),
        opt_number(raw, "displayTax"), opt_number(raw, "displayLineDiscount"),
        opt_str(raw, "fulfilmentType", "delivery") or "delivery",
    )


def _shipping(raw: Mapping[str, Any]) -> Shipping:
    name, address = _sub(raw, "name"), _sub(raw, "address")
    text = {k: opt_str(address, k, "") or "" for k in ("line1", "line2", "city", "region", "country", "postcode")}
    return Shipping(
        opt_str(name, "forename", "") or "", opt_str(name, "surname", "") or "", **text,
        option=opt_str(raw, "option", "") or "", cost=opt_number(raw, "cost"), tax=opt_number(raw, "tax"),
    )


def line_quantities(body: Mapping[str, Any], name: str = "items", *, required: bool = True) -> dict[str, Decimal]:
    """``items: [{lineId, quantity}]`` as lineId -> quantity (repeats add up)."""
    result: dict[str, Decimal] = {}
    for raw in _objects(body, name, required=required):
        line_id = req_str(raw, CANCEL_ITEMS.line_id)
        result[line_id] = result.get(line_id, Decimal(0)) + req_number(raw, CANCEL_ITEMS.quantity)
    return result


def invoice_bodies(body: Mapping[str, Any]) -> list[tuple[str, str | None, tuple[InvoiceLineSpec, ...],
                                                         tuple[tuple[int, Decimal], ...]]]:
    """``{"invoices": [...]}`` as (status, currency, lines, payments) per invoice."""
    result = []
    for inv in _objects(body, "invoices"):
        lines = tuple(
            InvoiceLineSpec(req_str(i, "referenceId"), req_number(i, "quantity"), opt_number(i, "displayPrice"),
                            opt_number(i, "displayTax"), opt_str(i, "itemName", "") or "")
            for i in _objects(inv, "items"))
        result.append((opt_str(inv, "status", "paid") or "paid", opt_str(inv, "currency"), lines, payments(inv)))
    if not result:
        raise ApiError(STATUS_INVALID, msg_required("invoices"))
    return result


@dataclass(frozen=True)
class ShipmentArgs:
    location_id: str | None
    carrier: str
    tracking_number: str
    service: str
    tracking_url: str
    dispatched_at: datetime | None
    lines: dict[str, Decimal] | None


def shipment_args(body: Mapping[str, Any]) -> ShipmentArgs:
    """The (assumed) POST shipments body; raises ApiError 400."""
    f = SHIPMENT
    when = opt_str(body, f.dispatched_at)
    lines: dict[str, Decimal] | None = None
    if body.get(f.items) is not None:
        lines = {}
        for raw in _objects(body, f.items):
            line_id = req_str(raw, f.item_line_id)
            lines[line_id] = lines.get(line_id, Decimal(0)) + req_number(raw, f.item_quantity)
    return ShipmentArgs(
        opt_str(body, f.location_id), req_str(body, f.carrier), opt_str(body, f.tracking_number, "") or "",
        opt_str(body, f.service, "") or "", opt_str(body, f.tracking_url, "") or "",
        parse_time(when, f.dispatched_at) if when else None, lines,
    )


def credit_note_spec(body: Mapping[str, Any]) -> CreditNoteSpec:
    """POST /v0/credit-notes: a voucher (referenceType 0, confirmed) or a VAT credit note (assumed)."""
    f, fi = CREDIT_NOTE, CREDIT_NOTE_ITEM
    ref_type = int(opt_number(body, f.reference_type, Decimal(REFERENCE_TYPE_VOUCHER)))
    if ref_type == REFERENCE_TYPE_VOUCHER:
        value = _sub(body, f.value)
        return CreditNoteSpec(None, req_str(value, "currency"), refund_amount=req_number(value, "amount"),
                              reference_type=ref_type, barcode=opt_str(body, f.barcode), refund_method=0)
    lines = tuple(
        CreditLineSpec(req_str(i, fi.reference_id), req_number(i, fi.quantity), opt_number(i, fi.unit_price),
                       opt_number(i, fi.unit_tax), i.get(fi.restock) is True, opt_str(i, fi.location_id))
        for i in _objects(body, f.items, required=False))
    shipping, refund = _sub(body, f.shipping), _sub(body, f.refund)
    return CreditNoteSpec(
        opt_str(body, f.source_reference_id), req_str(body, f.currency), lines, opt_str(body, f.reference_id),
        opt_str(body, f.reason, "") or "", opt_number(shipping, f.shipping_cost), opt_number(shipping, f.shipping_tax),
        req_number(refund, f.refund_amount) if refund.get(f.refund_amount) is not None else None,
        int(opt_number(refund, f.refund_method, Decimal(PAYMENT_METHOD_EXTERNAL))), ref_type,
        opt_str(body, f.barcode),
    )
