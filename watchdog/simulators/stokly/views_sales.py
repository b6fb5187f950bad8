"""Stokly JSON shapes of sales records (reference sections 8.4-8.6); assumed names from stokly_assumed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from watchdog.simulators.stokly.records import SimCreditNote, SimDispatch, SimInvoice, SimLine, SimSaleOrder
from watchdog.simulators.stokly.state import StoklyState
from watchdog.simulators.stokly.web import iso, num
from watchdog.stokly_assumed import (
    CREDIT_NOTE,
    CREDIT_NOTE_ITEM,
    INVOICE_TAX,
    INVOICE_TOTAL,
    LINE_QUANTITY_CANCELLED,
    LINE_QUANTITY_COLLECTED,
    LINE_QUANTITY_DISPATCHED,
    SALE_ORDER,
    SHIPMENT,
)

__all__ = ["credit_note_json", "invoice_json", "line_json", "sale_order_json", "shipment_json"]


def sale_order_json(state: StoklyState, order: SimSaleOrder) -> dict[str, Any]:
    """The read shape of a sale order (flat shipping fields, as GET /v2/saleorders/{id} shows them)."""
    ship = order.shipping
    channel_name = state.channel(order.source_id).name if order.source_id else None
    return {
        "saleOrderId": order.sale_order_id, "niceId": order.nice_id, "stage": order.stage.value,
        "itemStatuses": sorted({ln.status.value for ln in order.top_lines}),
        "sourceType": order.source_type, "sourceId": order.source_id, "channelName": channel_name,
        "sourceReferenceId": order.source_reference_id, "customerReference": order.customer_reference,
        "currency": order.currency, "createdAt": iso(order.created_at), "tags": list(order.tags),
        SALE_ORDER.shipping_line1: ship.line1, "shippingAddressLine2": ship.line2,
        "shippingAddressCity": ship.city, "shippingAddressRegion": ship.region,
        SALE_ORDER.shipping_postcode: ship.postcode, SALE_ORDER.shipping_country: ship.country,
        SALE_ORDER.shipping_option: ship.option, SALE_ORDER.shipping_cost: num(ship.cost),
        SALE_ORDER.shipping_tax: num(ship.tax),
        "carrierReference": None,
        SALE_ORDER.customer_id: order.customer_id,
        SALE_ORDER.allocated_location_id: order.allocated_location_id,
        SALE_ORDER.total: num(order.total), SALE_ORDER.tax: num(order.tax), SALE_ORDER.paid: num(order.paid),
        SALE_ORDER.payments: [{"method": m, "amount": num(a)} for m, a in order.payments],
    }


def line_json(state: StoklyState, line: SimLine) -> dict[str, Any]:
    """One row of ``/v2/saleorders/{id}/items``; ``price``/``tax`` are line totals (inferred)."""
    item = state.item(line.item_id)
    return {
        "lineId": line.line_id, "parentId": line.parent_id, "type": "item", "referenceId": line.item_id,
        "itemSku": item.sku, "itemName": item.name, "quantity": num(line.quantity), "status": line.status.value,
        "displayPrice": num(line.unit_price), "displayTax": num(line.unit_tax),
        "displayLineDiscount": num(line.line_discount), "price": num(line.line_price), "tax": num(line.line_tax),
        "fulfilmentType": line.fulfilment_type,
        LINE_QUANTITY_COLLECTED: num(line.collected), LINE_QUANTITY_DISPATCHED: num(line.dispatched),
        LINE_QUANTITY_CANCELLED: num(line.cancelled),
    }


def invoice_json(invoice: SimInvoice) -> dict[str, Any]:
    return {
        "saleInvoiceId": invoice.sale_invoice_id, "invoiceNumber": invoice.nice_id, "niceId": invoice.nice_id,
        "issueDate": iso(invoice.issue_date), "dueDate": iso(invoice.issue_date + timedelta(days=30)),
        "currency": invoice.currency, "status": invoice.status, "saleOrderId": invoice.sale_order_id,
        "saleOrderNiceId": invoice.sale_order_nice_id,
        INVOICE_TOTAL: num(invoice.total), INVOICE_TAX: num(invoice.tax),
    }


def shipment_json(d: SimDispatch) -> dict[str, Any]:
    """A shipment record; a dispatch without tracking (a collection, a letter) has no tracking keys at all (A)."""
    f = SHIPMENT
    record = {
        f.id: d.dispatch_id, f.nice_id: d.nice_id, f.sale_order_id: d.sale_order_id,
        f.location_id: d.location_id, f.carrier: d.carrier, f.service: d.service,
        f.tracking_number: d.tracking_number, f.tracking_url: d.tracking_url,
        f.dispatched_at: iso(d.dispatched_at), f.status: d.status,
        f.items: [{f.item_line_id: line_id, f.item_quantity: num(q)} for line_id, q in d.lines],
    }
    if not d.tracking_number:
        del record[f.tracking_number], record[f.tracking_url]
    return record


def credit_note_json(note: SimCreditNote) -> dict[str, Any]:
    f, fi, spec = CREDIT_NOTE, CREDIT_NOTE_ITEM, note.spec
    return {
        f.id: note.credit_note_id, f.nice_id: note.nice_id, f.barcode: spec.barcode,
        f.value: {"amount": num(note.amount), "currency": spec.currency},
        f.reference_type: spec.reference_type, f.reference_id: spec.reference_id,
        f.source_reference_id: spec.source_reference_id, f.currency: spec.currency, f.reason: spec.reason,
        f.status: note.status, f.issue_date: iso(note.issue_date),
        f.items: [
            {fi.reference_type: fi.reference_type_item, fi.reference_id: ln.item_id, fi.quantity: num(ln.quantity),
             fi.unit_price: num(ln.unit_price), fi.unit_tax: num(ln.unit_tax), fi.restock: ln.restock,
             fi.location_id: ln.location_id}
            for ln in spec.lines
        ],
        f.shipping: {f.shipping_cost: num(spec.shipping_cost), f.shipping_tax: num(spec.shipping_tax)},
        f.refund: {f.refund_method: spec.refund_method, f.refund_amount: num(note.amount)},
    }
