"""Handlers: orders, comments, cancel/hold/unhold, ship, shipments, tracks, refunds, credit memos, invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .errors import ENTITY_NOT_FOUND, ID_NEEDED, bad_request, not_found
from .routing import ApiRoute, Call, decimal_arg, int_arg, route
from .specs import TrackSpec
from .views_sales import (
    creditmemo_fields,
    creditmemo_json,
    history_json,
    invoice_fields,
    invoice_json,
    order_fields,
    order_item_json,
    order_json,
    row,
    shipment_fields,
    shipment_json,
    track_json,
)

__all__ = ["ROUTES"]

VIEW = "Magento_Sales::actions_view"
SHIPMENT = "Magento_Sales::shipment"


def _new_id(call: Call, value: int) -> int | str:
    return str(value) if call.state.settings.ids_as_strings else value


def _quantities(call: Call, name: str = "items") -> dict[int, Decimal] | None:
    raw = call.arg(name, required=False)
    if not raw:
        return None
    if not isinstance(raw, list):
        raise bad_request('The "%1" value\'s type is invalid.', [type(raw).__name__])
    wanted: dict[int, Decimal] = {}
    for entry in raw:
        data = entry if isinstance(entry, dict) else {}
        if data.get("order_item_id") is None or data.get("qty") is None:
            raise bad_request('"%fieldName" is required. Enter and try again.',
                              {"fieldName": "order_item_id" if data.get("order_item_id") is None else "qty"})
        item_id = int_arg(data["order_item_id"])
        wanted[item_id] = wanted.get(item_id, Decimal(0)) + decimal_arg(data["qty"], "qty")
    return wanted


def _comment_text(call: Call) -> str | None:
    comment = call.arg("comment", required=False)
    return str(comment.get("comment") or "") or None if isinstance(comment, dict) else None


# ------------------------------------------------------------------ orders


@route("GET", "/V1/orders", VIEW)
def orders(call: Call) -> dict[str, Any]:
    """Order search (criteria required)."""
    items = list(call.state.orders.values())
    return call.search([row(order_fields(o)) for o in items], lambda i: order_json(items[i]))


@route("GET", "/V1/orders/items", VIEW)
def order_items(call: Call) -> dict[str, Any]:
    """Order item search over every order's items (children included)."""
    pairs = [(o, i) for o in call.state.orders.values() for i in o.items]
    rendered = [order_item_json(o, i, nested=False) for o, i in pairs]
    return call.search([row(r) for r in rendered], lambda n: order_item_json(*pairs[n]))


@route("GET", "/V1/orders/:id", VIEW)
def order(call: Call) -> dict[str, Any]:
    """One order by entity id."""
    return order_json(call.state.order_or_error(call.int_param("id")))


@route("GET", "/V1/orders/:id/comments", VIEW)
def comments(call: Call) -> dict[str, Any]:
    """The order's status history as a search result."""
    histories = list(reversed(call.state.order_or_error(call.int_param("id")).histories))
    return {"items": [history_json(h) for h in histories], "search_criteria": {"filter_groups": []},
            "total_count": len(histories)}


@route("POST", "/V1/orders/:id/comments", "Magento_Sales::comment")
def add_comment(call: Call) -> bool:
    """Add a status-history comment; ``true``."""
    history = call.arg("statusHistory")
    data = history if isinstance(history, dict) else {}
    return call.state.add_comment(call.int_param("id"), str(data.get("comment") or ""),
                                  status=data.get("status") or None,
                                  is_customer_notified=int(data.get("is_customer_notified") or 0),
                                  is_visible_on_front=int(data.get("is_visible_on_front") or 0))


@route("GET", "/V1/orders/:id/statuses", VIEW)
def status(call: Call) -> str:
    """The order's current status as a bare string."""
    return call.state.order_or_error(call.int_param("id")).status


@route("POST", "/V1/orders/:id/cancel", "Magento_Sales::cancel")
def cancel(call: Call) -> bool:
    """``true``, or ``false`` when the order cannot be canceled."""
    return call.state.cancel(call.int_param("id"))


@route("POST", "/V1/orders/:id/hold", "Magento_Sales::hold")
def hold(call: Call) -> bool:
    """``true``; 400 when a hold is not available."""
    return call.state.hold(call.int_param("id"))


@route("POST", "/V1/orders/:id/unhold", "Magento_Sales::unhold")
def unhold(call: Call) -> bool:
    """``true``; 400 when the order is not on hold."""
    return call.state.unhold(call.int_param("id"))


# ------------------------------------------------------------------ shipments


@route("POST", "/V1/order/:orderId/ship", "Magento_Sales::ship")
def ship(call: Call) -> int | str:
    """Create a shipment; the new id (a number, or a string with ``ids_as_strings``)."""
    tracks = [TrackSpec(str(t.get("track_number") or ""), str(t.get("title") or ""), str(t.get("carrier_code") or ""))
              for t in (call.arg("tracks", required=False) or []) if isinstance(t, dict)]
    arguments = call.arg("arguments", required=False)
    ext = arguments.get("extension_attributes") if isinstance(arguments, dict) else None
    source = ext.get("source_code") if isinstance(ext, dict) else None
    shipment_id = call.state.ship(call.int_param("orderId"), _quantities(call), tracks=tracks,
                                  source_code=str(source) if source else None, comment=_comment_text(call),
                                  notify=bool(call.arg("notify", required=False)))
    return _new_id(call, shipment_id)


@route("GET", "/V1/shipments", SHIPMENT)
def shipments(call: Call) -> dict[str, Any]:
    """Shipment search; ``source_code`` optionally left out of list items (#24135/#38294)."""
    state = call.state
    items = list(state.shipments.values())
    keep_source = state.settings.shipment_list_source_code
    return call.search([row(shipment_fields(s, state.orders.get(s.order_id))) for s in items],
                       lambda i: shipment_json(items[i], state.orders.get(items[i].order_id), source_code=keep_source))


@route("GET", "/V1/shipment/:id", SHIPMENT)
def shipment(call: Call) -> dict[str, Any]:
    """One shipment with items, tracks, comments and its MSI source."""
    found = call.state.shipment_or_404(call.int_param("id"))
    return shipment_json(found, call.state.orders.get(found.order_id))


@route("POST", "/V1/shipment/track", SHIPMENT)
def add_track(call: Call) -> dict[str, Any]:
    """Add a track to an existing shipment; the saved track."""
    entity = call.arg("entity")
    data = entity if isinstance(entity, dict) else {}
    track_id = call.state.add_track(
        int_arg(data.get("order_id") or 0), int_arg(data.get("parent_id") or 0), str(data.get("track_number") or ""),
        str(data.get("title") or ""), str(data.get("carrier_code") or "custom"),
        description=data.get("description"), weight=_opt_decimal(data.get("weight")), qty=_opt_decimal(data.get("qty")))
    return track_json(call.state.tracks[track_id])


def _opt_decimal(value: Any) -> Decimal | None:
    return None if value is None else decimal_arg(value, "value")


@route("DELETE", "/V1/shipment/track/:id", SHIPMENT)
def delete_track(call: Call) -> bool:
    """``true``; 400 when the track cannot be deleted."""
    return call.state.delete_track(call.int_param("id"))


# ------------------------------------------------------------------ refunds and invoices


@route("POST", "/V1/order/:orderId/refund", "Magento_Sales::creditmemo")
def refund(call: Call) -> int | str:
    """Offline refund; the new credit memo id."""
    arguments = call.arg("arguments", required=False)
    args: dict[str, Any] = arguments if isinstance(arguments, dict) else {}
    raw_ext = args.get("extension_attributes")
    ext: dict[str, Any] = raw_ext if isinstance(raw_ext, dict) else {}
    back = [int_arg(i) for i in (ext.get("return_to_stock_items") or [])]
    shipping = args.get("shipping_amount")
    memo_id = call.state.refund(
        call.int_param("orderId"), _quantities(call),
        shipping_amount=None if shipping is None else decimal_arg(shipping, "shipping_amount"),
        adjustment_positive=decimal_arg(args.get("adjustment_positive") or 0, "adjustment_positive"),
        adjustment_negative=decimal_arg(args.get("adjustment_negative") or 0, "adjustment_negative"),
        return_to_stock_items=back, comment=_comment_text(call))
    return _new_id(call, memo_id)


@route("GET", "/V1/creditmemos", "Magento_Sales::sales_creditmemo")
def credit_memos(call: Call) -> dict[str, Any]:
    """Credit memo search (criteria required)."""
    state = call.state
    items = list(state.credit_memos.values())
    return call.search([row(creditmemo_fields(m, state.orders.get(m.order_id))) for m in items],
                       lambda i: creditmemo_json(items[i], state.orders.get(items[i].order_id)))


@route("GET", "/V1/creditmemo/:id", "Magento_Sales::sales_creditmemo")
def credit_memo(call: Call) -> dict[str, Any]:
    """One credit memo."""
    memo = call.state.credit_memo_or_404(call.int_param("id"))
    return creditmemo_json(memo, call.state.orders.get(memo.order_id))


@route("POST", "/V1/order/:orderId/invoice", "Magento_Sales::invoice")
def create_invoice(call: Call) -> int | str:
    """Invoice the order (all, or the given items); the new invoice id."""
    capture = call.arg("capture", required=False)
    invoice_id = call.state.create_invoice(call.int_param("orderId"), _quantities(call),
                                           capture=bool(capture) if capture is not None else False,
                                           comment=_comment_text(call))
    return _new_id(call, invoice_id)


@route("GET", "/V1/invoices", "Magento_Sales::sales_invoice")
def invoices(call: Call) -> dict[str, Any]:
    """Invoice search (criteria required)."""
    state = call.state
    items = list(state.invoices.values())
    return call.search([row(invoice_fields(v, state.orders.get(v.order_id))) for v in items],
                       lambda i: invoice_json(items[i], state.orders.get(items[i].order_id)))


@route("GET", "/V1/invoices/:id", "Magento_Sales::sales_invoice")
def invoice(call: Call) -> dict[str, Any]:
    """One invoice."""
    invoice_id = call.int_param("id")
    if not invoice_id:
        raise bad_request(ID_NEEDED)
    found = call.state.invoices.get(invoice_id)
    if found is None:
        raise not_found(ENTITY_NOT_FOUND)
    return invoice_json(found, call.state.orders.get(found.order_id))


ROUTES: list[ApiRoute] = [
    orders, order_items, comments, add_comment, status, cancel, hold, unhold, order, ship, shipments, shipment,
    add_track,
    delete_track, refund, credit_memos, credit_memo, create_invoice, invoices, invoice,
]
