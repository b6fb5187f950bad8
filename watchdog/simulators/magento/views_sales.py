"""JSON of orders, shipments, tracks, credit memos and invoices (sections 8-10, 13.4-13.7).

Each ``*_fields`` function gives every column (``None`` included): the search rows use those;
the ``*_json`` functions drop nulls except the schema's required keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .records import (
    ZERO,
    AddressRec,
    CommentRec,
    CreditMemoRec,
    DocItemRec,
    HistoryRec,
    InvoiceRec,
    OrderItemRec,
    OrderRec,
    ShipmentRec,
    TrackRec,
)
from .render import compact, num, ts

__all__ = [
    "creditmemo_json", "history_json", "invoice_json", "order_item_json", "order_json", "row",
    "shipment_json", "track_json",
]

PAYMENT_REQUIRED = ("account_status", "additional_information", "cc_last4", "method")
ADDRESS_REQUIRED = ("address_type", "city", "country_id", "firstname", "lastname", "postcode", "telephone")
TRACK_REQUIRED = ("order_id", "parent_id", "weight", "qty", "description", "track_number", "title", "carrier_code")


def row(body: dict[str, Any]) -> dict[str, Any]:
    """The scalar columns of an entity's fields (what searchCriteria filters and sorts on)."""
    return {k: v for k, v in body.items() if not isinstance(v, dict | list)}


# ------------------------------------------------------------------ orders


def order_fields(o: OrderRec) -> dict[str, Any]:
    """Every top-level order column, nulls included."""
    tax = o.tax_amount
    guest = o.customer_id is None
    return {
        "entity_id": o.entity_id, "increment_id": o.increment_id, "state": o.state, "status": o.status,
        "store_id": o.store_id, "created_at": ts(o.created_at), "updated_at": ts(o.updated_at),
        "customer_email": o.customer_email, "customer_firstname": o.customer_firstname,
        "customer_lastname": o.customer_lastname, "customer_id": o.customer_id,
        "customer_is_guest": 1 if guest else 0, "customer_group_id": 0 if guest else 1,
        "order_currency_code": o.currency, "base_currency_code": o.currency, "global_currency_code": o.currency,
        "store_currency_code": o.currency, "base_to_global_rate": 1, "base_to_order_rate": 1,
        "subtotal": num(o.subtotal), "base_subtotal": num(o.subtotal),
        "subtotal_incl_tax": num(o.subtotal + o.items_tax), "tax_amount": num(tax), "base_tax_amount": num(tax),
        "shipping_amount": num(o.shipping_amount), "base_shipping_amount": num(o.shipping_amount),
        "shipping_tax_amount": num(o.shipping_tax_amount), "base_shipping_tax_amount": num(o.shipping_tax_amount),
        "shipping_incl_tax": num(o.shipping_amount + o.shipping_tax_amount),
        "base_shipping_incl_tax": num(o.shipping_amount + o.shipping_tax_amount),
        "shipping_description": o.shipping_description, "discount_amount": 0, "base_discount_amount": 0,
        "grand_total": num(o.grand_total), "base_grand_total": num(o.grand_total),
        "total_qty_ordered": num(sum((i.qty_ordered for i in o.items if i.parent_item_id is None), ZERO)),
        "total_item_count": len(o.items), "weight": num(sum((i.weight * i.qty_ordered for i in o.items
                                                              if i.parent_item_id is None), ZERO)),
        "is_virtual": 0, "billing_address_id": o.billing.entity_id,
        "total_invoiced": _money_or_none(o.total_invoiced), "base_total_invoiced": _money_or_none(o.total_invoiced),
        "total_paid": _money_or_none(o.total_paid), "base_total_paid": _money_or_none(o.total_paid),
        "total_due": num(o.grand_total - o.total_paid), "base_total_due": num(o.grand_total - o.total_paid),
        "total_refunded": _money_or_none(o.total_refunded), "base_total_refunded": _money_or_none(o.total_refunded),
        "total_offline_refunded": _money_or_none(o.total_refunded),
        "subtotal_refunded": _money_or_none(o.subtotal_refunded), "tax_refunded": _money_or_none(o.tax_refunded),
        "shipping_refunded": _money_or_none(o.shipping_refunded),
        "total_canceled": _money_or_none(o.total_canceled),
        "hold_before_state": o.hold_before_state, "hold_before_status": o.hold_before_status,
        "ext_order_id": None, "coupon_code": None, "customer_dob": None,
    }


def _money_or_none(value: Decimal) -> int | float | None:
    return num(value) if value else None


def order_json(o: OrderRec) -> dict[str, Any]:
    """``sales-data-order-interface`` with items, addresses, payment and shipping assignments."""
    body = compact(("base_grand_total", "customer_email", "grand_total"), **order_fields(o))
    body["items"] = [order_item_json(o, i) for i in o.items]
    body["billing_address"] = address_json(o.billing)
    body["payment"] = _payment(o)
    body["status_histories"] = [history_json(h) for h in reversed(o.histories)]
    body["extension_attributes"] = _order_extension(o)
    return body


def order_item_json(o: OrderRec, item: OrderItemRec, *, nested: bool = True) -> dict[str, Any]:
    """One order item; a child also embeds its full parent in ``parent_item``."""
    body = compact(
        ("sku",), item_id=item.item_id, order_id=item.order_id, parent_item_id=item.parent_item_id,
        product_id=item.product_id, product_type=item.product_type, sku=item.sku, name=item.name,
        store_id=o.store_id, created_at=ts(item.created_at), updated_at=ts(item.updated_at),
        qty_ordered=num(item.qty_ordered), qty_invoiced=num(item.qty_invoiced), qty_shipped=num(item.qty_shipped),
        qty_refunded=num(item.qty_refunded), qty_canceled=num(item.qty_canceled), qty_backordered=None,
        price=num(item.price), base_price=num(item.price), original_price=num(item.price),
        price_incl_tax=num(item.price_incl_tax),
        row_total=num(item.row_total), base_row_total=num(item.row_total),
        row_total_incl_tax=num(item.row_total_incl_tax), tax_amount=num(item.tax_amount),
        base_tax_amount=num(item.tax_amount), tax_percent=num(item.tax_percent),
        discount_amount=num(item.discount_amount), weight=num(item.weight), is_virtual=int(item.is_virtual),
        product_option=item.product_option, is_qty_decimal=0, no_discount=0)
    parent = o.item(item.parent_item_id) if item.parent_item_id is not None else None
    if parent is not None and nested:
        body["parent_item"] = order_item_json(o, parent, nested=False)
    return body


def address_json(a: AddressRec) -> dict[str, Any]:
    """An order address (billing, or shipping inside the shipping assignment)."""
    return compact(ADDRESS_REQUIRED, address_type=a.address_type, city=a.city, company=a.company,
                   country_id=a.country_id, email=a.email, entity_id=a.entity_id, firstname=a.firstname,
                   lastname=a.lastname, parent_id=a.parent_id, postcode=a.postcode, region=a.region,
                   street=list(a.street), telephone=a.telephone)


def _payment(o: OrderRec) -> dict[str, Any]:
    titles = {"checkmo": "Check / Money order"}
    return compact(PAYMENT_REQUIRED, account_status=None, additional_information=[titles.get(o.payment_method,
                   o.payment_method)], amount_ordered=num(o.grand_total), base_amount_ordered=num(o.grand_total),
                   amount_paid=_money_or_none(o.total_paid), cc_last4=None, entity_id=o.entity_id,
                   method=o.payment_method, parent_id=o.entity_id)


def _order_extension(o: OrderRec) -> dict[str, Any]:
    shipping = compact((), address=address_json(o.shipping) if o.shipping else None, method=o.shipping_method,
                       total={"shipping_amount": num(o.shipping_amount), "base_shipping_amount": num(o.shipping_amount),
                              "shipping_incl_tax": num(o.shipping_amount + o.shipping_tax_amount),
                              "shipping_tax_amount": num(o.shipping_tax_amount)})
    top = [order_item_json(o, i) for i in o.items if i.parent_item_id is None]
    return {"shipping_assignments": [{"shipping": shipping, "items": top, "stock_id": o.stock_id}],
            "payment_additional_info": [{"key": "method_title", "value": "Check / Money order"}],
            "applied_taxes": _applied_taxes(o)}


def _applied_taxes(o: OrderRec) -> list[dict[str, Any]]:
    by_rate: dict[Decimal, Decimal] = {}
    for item in o.items:
        if item.tax_amount:
            by_rate[item.tax_percent] = by_rate.get(item.tax_percent, ZERO) + item.tax_amount
    if o.shipping_tax_amount:
        by_rate[o.shipping_tax_percent] = by_rate.get(o.shipping_tax_percent, ZERO) + o.shipping_tax_amount
    return [{"code": f"VAT-{num(rate)}", "title": f"VAT {num(rate)}%", "percent": num(rate),
             "amount": num(amount), "base_amount": num(amount)} for rate, amount in sorted(by_rate.items())]


def history_json(h: HistoryRec) -> dict[str, Any]:
    """An order status-history comment."""
    return compact(("comment", "is_customer_notified", "is_visible_on_front", "parent_id"), comment=h.comment,
                   created_at=ts(h.created_at), entity_id=h.entity_id, entity_name=h.entity_name,
                   is_customer_notified=h.is_customer_notified, is_visible_on_front=h.is_visible_on_front,
                   parent_id=h.parent_id, status=h.status)


# ------------------------------------------------------------------ documents


def _comments(comments: Iterable[CommentRec]) -> list[dict[str, Any]]:
    return [compact(("is_customer_notified", "parent_id", "comment", "is_visible_on_front"),
                    is_customer_notified=c.is_customer_notified, parent_id=c.parent_id, comment=c.comment,
                    is_visible_on_front=c.is_visible_on_front, created_at=ts(c.created_at), entity_id=c.entity_id)
            for c in comments]


def shipment_fields(s: ShipmentRec, o: OrderRec | None) -> dict[str, Any]:
    """Every top-level shipment column."""
    return {"entity_id": s.entity_id, "increment_id": s.increment_id, "order_id": s.order_id,
            "store_id": o.store_id if o else 1, "customer_id": o.customer_id if o else None,
            "billing_address_id": o.billing.entity_id if o else None,
            "shipping_address_id": o.shipping.entity_id if o and o.shipping else None,
            "total_qty": num(s.total_qty), "email_sent": s.email_sent, "created_at": ts(s.created_at),
            "updated_at": ts(s.updated_at)}


def shipment_json(s: ShipmentRec, o: OrderRec | None, *, source_code: bool = True) -> dict[str, Any]:
    """``sales-data-shipment-interface`` with items, tracks, comments and the MSI source."""
    body = compact(("order_id",), **shipment_fields(s, o))
    body["packages"] = []
    body["items"] = [compact(("order_item_id", "qty"), entity_id=i.entity_id, name=i.name, parent_id=i.parent_id,
                             price=num(i.price), product_id=i.product_id, sku=i.sku, weight=num(i.weight),
                             order_item_id=i.order_item_id, qty=num(i.qty)) for i in s.items]
    body["tracks"] = [track_json(t) for t in s.tracks]
    body["comments"] = _comments(s.comments)
    if source_code and s.source_code:
        body["extension_attributes"] = {"source_code": s.source_code}
    return body


def track_json(t: TrackRec) -> dict[str, Any]:
    """A shipment track; weight, qty and description are required getters (null when unset)."""
    return compact(TRACK_REQUIRED, order_id=t.order_id, created_at=ts(t.created_at), entity_id=t.entity_id,
                   parent_id=t.parent_id, updated_at=ts(t.updated_at), weight=num(t.weight), qty=num(t.qty),
                   description=t.description, track_number=t.track_number, title=t.title,
                   carrier_code=t.carrier_code)


def _money_items(items: Iterable[DocItemRec], required: tuple[str, ...]) -> list[dict[str, Any]]:
    return [compact(required, base_cost=0, base_price=num(i.price), price=num(i.price),
                    base_price_incl_tax=num(_incl(i)), price_incl_tax=num(_incl(i)), base_row_total=num(i.row_total),
                    row_total=num(i.row_total), row_total_incl_tax=num(i.row_total + i.tax_amount),
                    base_row_total_incl_tax=num(i.row_total + i.tax_amount), tax_amount=num(i.tax_amount),
                    base_tax_amount=num(i.tax_amount), discount_amount=0, entity_id=i.entity_id, name=i.name,
                    order_item_id=i.order_item_id, parent_id=i.parent_id, product_id=i.product_id,
                    qty=num(i.qty), sku=i.sku)
            for i in items]


def _incl(item: DocItemRec) -> Decimal:
    return (item.row_total + item.tax_amount) / item.qty if item.qty else ZERO


def creditmemo_fields(m: CreditMemoRec, o: OrderRec | None) -> dict[str, Any]:
    """Every top-level credit memo column."""
    currency = o.currency if o else "GBP"
    sub_incl = m.subtotal + sum((i.tax_amount for i in m.items), ZERO)
    return {
        "entity_id": m.entity_id, "increment_id": m.increment_id, "order_id": m.order_id,
        "invoice_id": m.invoice_id, "state": m.state, "store_id": o.store_id if o else 1,
        "created_at": ts(m.created_at), "updated_at": ts(m.updated_at), "order_currency_code": currency,
        "base_currency_code": currency, "global_currency_code": currency, "store_currency_code": currency,
        "base_to_global_rate": 1, "base_to_order_rate": 1, "subtotal": num(m.subtotal),
        "base_subtotal": num(m.subtotal),
        "subtotal_incl_tax": num(sub_incl), "base_subtotal_incl_tax": num(sub_incl), "tax_amount": num(m.tax_amount),
        "base_tax_amount": num(m.tax_amount), "shipping_amount": num(m.shipping_amount),
        "base_shipping_amount": num(m.shipping_amount), "shipping_tax_amount": num(m.shipping_tax_amount),
        "base_shipping_tax_amount": num(m.shipping_tax_amount),
        "shipping_incl_tax": num(m.shipping_amount + m.shipping_tax_amount),
        "base_shipping_incl_tax": num(m.shipping_amount + m.shipping_tax_amount),
        "adjustment": num(m.adjustment), "base_adjustment": num(m.adjustment),
        "adjustment_positive": num(m.adjustment_positive), "base_adjustment_positive": num(m.adjustment_positive),
        "adjustment_negative": num(m.adjustment_negative), "base_adjustment_negative": num(m.adjustment_negative),
        "discount_amount": 0, "base_discount_amount": 0, "grand_total": num(m.grand_total),
        "base_grand_total": num(m.grand_total), "email_sent": None,
        "billing_address_id": o.billing.entity_id if o else None, "creditmemo_status": None, "transaction_id": None,
    }


def creditmemo_json(m: CreditMemoRec, o: OrderRec | None) -> dict[str, Any]:
    """``sales-data-creditmemo-interface`` (state 2 = refunded)."""
    body = compact(("order_id",), **creditmemo_fields(m, o))
    body["items"] = _money_items(m.items, ("base_cost", "base_price", "entity_id", "order_item_id", "qty"))
    body["comments"] = _comments(m.comments)
    return body


def invoice_fields(inv: InvoiceRec, o: OrderRec | None) -> dict[str, Any]:
    """Every top-level invoice column."""
    currency = o.currency if o else "GBP"
    sub_incl = inv.subtotal + sum((i.tax_amount for i in inv.items), ZERO)
    return {
        "entity_id": inv.entity_id, "increment_id": inv.increment_id, "order_id": inv.order_id, "state": inv.state,
        "store_id": o.store_id if o else 1, "created_at": ts(inv.created_at), "updated_at": ts(inv.updated_at),
        "order_currency_code": currency, "base_currency_code": currency, "global_currency_code": currency,
        "store_currency_code": currency, "subtotal": num(inv.subtotal), "base_subtotal": num(inv.subtotal),
        "subtotal_incl_tax": num(sub_incl), "base_subtotal_incl_tax": num(sub_incl),
        "tax_amount": num(inv.tax_amount), "base_tax_amount": num(inv.tax_amount),
        "shipping_amount": num(inv.shipping_amount), "base_shipping_amount": num(inv.shipping_amount),
        "shipping_tax_amount": num(inv.shipping_tax_amount), "base_shipping_tax_amount": num(inv.shipping_tax_amount),
        "shipping_incl_tax": num(inv.shipping_amount + inv.shipping_tax_amount),
        "grand_total": num(inv.grand_total), "base_grand_total": num(inv.grand_total), "discount_amount": 0,
        "total_qty": num(sum((i.qty for i in inv.items), ZERO)), "can_void_flag": 0, "email_sent": None,
        "billing_address_id": o.billing.entity_id if o else None, "transaction_id": None,
    }


def invoice_json(inv: InvoiceRec, o: OrderRec | None) -> dict[str, Any]:
    """``sales-data-invoice-interface`` (state 2 = paid)."""
    body = compact(("order_id", "total_qty"), **invoice_fields(inv, o))
    body["items"] = _money_items(inv.items, ("sku", "order_item_id", "qty"))
    body["comments"] = _comments(inv.comments)
    return body
