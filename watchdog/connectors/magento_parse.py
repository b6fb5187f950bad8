"""Magento JSON -> domain records. Every problem raises ``MalformedResponse`` naming the route and
the field path (``items[3].qty_ordered``); no KeyError or TypeError escapes.

Magento omits null fields, so optional fields default; ids may arrive as numbers or numeric
strings; money and quantities become ``Decimal``; timestamps (``YYYY-MM-DD HH:MM:SS``, UTC) become
aware datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from watchdog.connectors.magento_json import (
    Ctx,
    dec,
    int_of,
    integer,
    items_of,
    obj,
    opt_int,
    seq,
    text,
    timestamp,
)
from watchdog.connectors.magento_types import BulkOperation, BulkStatus
from watchdog.model import (
    Address,
    CreditMemo,
    CreditMemoItem,
    MagentoInvoice,
    Order,
    OrderLine,
    Product,
    Shipment,
    ShipmentItem,
    Source,
    SourceItem,
    Track,
)

__all__ = [
    "configurable_links",
    "parse_bulk_status",
    "parse_credit_memo",
    "parse_id",
    "parse_invoice",
    "parse_order",
    "parse_page",
    "parse_product",
    "parse_shipment",
    "parse_source",
    "parse_source_item",
    "parse_track",
    "render_error",
]

_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")


def parse_id(value: Any, route: str) -> int:
    """A new entity id returned bare by ship/refund/invoice: a number or a numeric string."""
    return integer(value, Ctx(route))


def parse_page(body: Any, route: str) -> tuple[list[Any], int]:
    """(items, total_count) of a search-results envelope."""
    ctx = Ctx(route)
    envelope = obj(body, ctx)
    if envelope.get("items") is None:
        raise ctx.at("items").fail("is missing, expected a list")
    return seq(envelope["items"], ctx.at("items")), int_of(envelope, "total_count", ctx)


# ------------------------------------------------------------------ catalogue and inventory


def parse_product(value: Any, route: str, sku_by_id: Mapping[int, str] | None = None) -> Product:
    """A catalogue product; configurable children resolve through ``sku_by_id`` when given."""
    return _product(value, Ctx(route), sku_by_id or {})


def _product(value: Any, ctx: Ctx, sku_by_id: Mapping[int, str]) -> Product:
    rec = obj(value, ctx)
    sku = text(rec, "sku", ctx)
    ext_ctx = ctx.at("extension_attributes")
    ext = obj(rec.get("extension_attributes") or {}, ext_ctx)
    attrs = {a["attribute_code"]: a.get("value") for a in seq(rec.get("custom_attributes"), ctx.at("custom_attributes"))
             if isinstance(a, Mapping) and isinstance(a.get("attribute_code"), str)}
    type_id = text(rec, "type_id", ctx, "simple")
    bundle_children = _bundle_children(ext, ext_ctx.at("bundle_product_options"))
    child_ids = seq(ext.get("configurable_product_links"), ext_ctx.at("configurable_product_links"))
    children = tuple(sku_by_id[i] for i in child_ids if isinstance(i, int) and i in sku_by_id)
    dynamic = type_id == "bundle" and attrs.get("sku_type") == "0"
    return Product(entity_id=int_of(rec, "id", ctx), sku=sku, name=text(rec, "name", ctx, sku), type_id=type_id,
                   status=int_of(rec, "status", ctx, 1), dynamic_sku=dynamic, bundle_children=bundle_children,
                   configurable_children=children)


def configurable_links(value: Any) -> list[Any]:
    """The raw ``configurable_product_links`` of a product that ``parse_product`` accepted."""
    ext = value.get("extension_attributes") or {}
    return list(ext.get("configurable_product_links") or [])


def _bundle_children(ext: Mapping[str, Any], ctx: Ctx) -> tuple[str, ...]:
    skus = []
    for n, option in enumerate(seq(ext.get("bundle_product_options"), ctx)):
        links = ctx.at(n).at("product_links")
        for k, link in enumerate(seq(obj(option, ctx.at(n)).get("product_links"), links)):
            skus.append(text(obj(link, links.at(k)), "sku", links.at(k)))
    return tuple(skus)


def parse_source(value: Any, route: str) -> Source:
    """An MSI source."""
    ctx = Ctx(route)
    rec = obj(value, ctx)
    code = text(rec, "source_code", ctx)
    enabled = rec.get("enabled")
    return Source(code, text(rec, "name", ctx, code), enabled if isinstance(enabled, bool) else bool(enabled or 0))


def parse_source_item(value: Any, ctx: Ctx | str) -> SourceItem:
    """A source item ``{sku, source_code, quantity, status}``."""
    ctx = Ctx(ctx) if isinstance(ctx, str) else ctx
    rec = obj(value, ctx)
    return SourceItem(text(rec, "sku", ctx), text(rec, "source_code", ctx), dec(rec, "quantity", ctx, None),
                      int_of(rec, "status", ctx, 0))


# ------------------------------------------------------------------ orders


def _address(value: Any, ctx: Ctx) -> Address:
    rec = obj(value, ctx)
    street = seq(rec.get("street"), ctx.at("street"))
    return Address(
        firstname=text(rec, "firstname", ctx, ""), lastname=text(rec, "lastname", ctx, ""),
        street=tuple(str(s) for s in street), city=text(rec, "city", ctx, ""), region=text(rec, "region", ctx, ""),
        postcode=text(rec, "postcode", ctx, ""), country_id=text(rec, "country_id", ctx, ""),
        telephone=text(rec, "telephone", ctx, ""), email=text(rec, "email", ctx, ""))


def _order_line(value: Any, ctx: Ctx) -> OrderLine:
    rec = obj(value, ctx)
    return OrderLine(
        item_id=int_of(rec, "item_id", ctx), sku=text(rec, "sku", ctx), name=text(rec, "name", ctx, ""),
        product_type=text(rec, "product_type", ctx, "simple"), qty_ordered=dec(rec, "qty_ordered", ctx, None),
        price=dec(rec, "price", ctx), tax_amount=dec(rec, "tax_amount", ctx), row_total=dec(rec, "row_total", ctx),
        qty_shipped=dec(rec, "qty_shipped", ctx), qty_invoiced=dec(rec, "qty_invoiced", ctx),
        qty_refunded=dec(rec, "qty_refunded", ctx), qty_canceled=dec(rec, "qty_canceled", ctx),
        price_incl_tax=dec(rec, "price_incl_tax", ctx), row_total_incl_tax=dec(rec, "row_total_incl_tax", ctx),
        tax_percent=dec(rec, "tax_percent", ctx), discount_amount=dec(rec, "discount_amount", ctx),
        parent_item_id=opt_int(rec, "parent_item_id", ctx))


def _shipping(rec: Mapping[str, Any], ctx: Ctx) -> tuple[str, Address | None]:
    ext_ctx = ctx.at("extension_attributes")
    ext = obj(rec.get("extension_attributes") or {}, ext_ctx)
    assignments = ext.get("shipping_assignments") or []
    if not isinstance(assignments, list) or not assignments:
        return "", None
    first_ctx = ext_ctx.at("shipping_assignments").at(0)
    shipping = obj(obj(assignments[0], first_ctx).get("shipping") or {}, first_ctx.at("shipping"))
    address = shipping.get("address")
    method = text(shipping, "method", first_ctx.at("shipping"), "")
    return method, _address(address, first_ctx.at("shipping").at("address")) if address is not None else None


def parse_order(value: Any, route: str) -> Order:
    """A sales order with its lines (children included) and addresses."""
    ctx = Ctx(route)
    rec = obj(value, ctx)
    method, ship_to = _shipping(rec, ctx)
    customer_id = opt_int(rec, "customer_id", ctx)
    billing = rec.get("billing_address")
    return Order(
        entity_id=int_of(rec, "entity_id", ctx), increment_id=text(rec, "increment_id", ctx),
        state=text(rec, "state", ctx), status=text(rec, "status", ctx, ""),
        created_at=timestamp(rec, "created_at", ctx), updated_at=timestamp(rec, "updated_at", ctx),
        currency=text(rec, "order_currency_code", ctx, text(rec, "base_currency_code", ctx, "")),
        grand_total=dec(rec, "grand_total", ctx, None), subtotal=dec(rec, "subtotal", ctx),
        tax_amount=dec(rec, "tax_amount", ctx), shipping_amount=dec(rec, "shipping_amount", ctx),
        customer_email=text(rec, "customer_email", ctx), lines=items_of(rec, "items", ctx, _order_line, required=True),
        shipping_tax_amount=dec(rec, "shipping_tax_amount", ctx), shipping_incl_tax=dec(rec, "shipping_incl_tax", ctx),
        discount_amount=dec(rec, "discount_amount", ctx), total_paid=dec(rec, "total_paid", ctx),
        total_refunded=dec(rec, "total_refunded", ctx), customer_id=customer_id,
        customer_is_guest=bool(int_of(rec, "customer_is_guest", ctx, 1 if customer_id is None else 0)),
        customer_firstname=text(rec, "customer_firstname", ctx, ""),
        customer_lastname=text(rec, "customer_lastname", ctx, ""), shipping_method=method,
        shipping_description=text(rec, "shipping_description", ctx, ""), shipping_address=ship_to,
        billing_address=_address(billing, ctx.at("billing_address")) if billing is not None else None)


# ------------------------------------------------------------------ documents


def _track(value: Any, ctx: Ctx) -> Track:
    rec = obj(value, ctx)
    description = rec.get("description")
    return Track(track_number=text(rec, "track_number", ctx), title=text(rec, "title", ctx, ""),
                 carrier_code=text(rec, "carrier_code", ctx, ""), entity_id=opt_int(rec, "entity_id", ctx),
                 parent_id=opt_int(rec, "parent_id", ctx), order_id=opt_int(rec, "order_id", ctx),
                 description=description if isinstance(description, str) else None)


def parse_track(value: Any, route: str) -> Track:
    """A shipment track."""
    return _track(value, Ctx(route))


def _shipment_item(value: Any, ctx: Ctx) -> ShipmentItem:
    rec = obj(value, ctx)
    return ShipmentItem(int_of(rec, "order_item_id", ctx), text(rec, "sku", ctx, ""), dec(rec, "qty", ctx, None))


def _comment(value: Any, ctx: Ctx) -> str:
    return text(obj(value, ctx), "comment", ctx, "")


def parse_shipment(value: Any, route: str) -> Shipment:
    """A shipment with items, tracks, comments and (when Magento sends it) its MSI source."""
    ctx = Ctx(route)
    rec = obj(value, ctx)
    ext = obj(rec.get("extension_attributes") or {}, ctx.at("extension_attributes"))
    source = ext.get("source_code")
    return Shipment(
        entity_id=int_of(rec, "entity_id", ctx), increment_id=text(rec, "increment_id", ctx, ""),
        order_id=int_of(rec, "order_id", ctx), created_at=timestamp(rec, "created_at", ctx),
        items=items_of(rec, "items", ctx, _shipment_item), tracks=items_of(rec, "tracks", ctx, _track),
        source_code=source if isinstance(source, str) else None, comments=items_of(rec, "comments", ctx, _comment),
        updated_at=timestamp(rec, "updated_at", ctx) if rec.get("updated_at") else None)


def _memo_item(value: Any, ctx: Ctx) -> CreditMemoItem:
    rec = obj(value, ctx)
    return CreditMemoItem(int_of(rec, "order_item_id", ctx), text(rec, "sku", ctx, ""), dec(rec, "qty", ctx, None),
                          dec(rec, "price", ctx), dec(rec, "tax_amount", ctx), dec(rec, "row_total", ctx))


def parse_credit_memo(value: Any, route: str) -> CreditMemo:
    """A credit memo (``tax_amount`` is the VAT refunded, shipping tax included)."""
    ctx = Ctx(route)
    rec = obj(value, ctx)
    created = timestamp(rec, "created_at", ctx)
    return CreditMemo(
        entity_id=int_of(rec, "entity_id", ctx), increment_id=text(rec, "increment_id", ctx, ""),
        order_id=int_of(rec, "order_id", ctx), created_at=created,
        updated_at=timestamp(rec, "updated_at", ctx) if rec.get("updated_at") else created,
        state=int_of(rec, "state", ctx, 2), currency=text(rec, "order_currency_code", ctx, ""),
        grand_total=dec(rec, "grand_total", ctx, None), subtotal=dec(rec, "subtotal", ctx),
        tax_amount=dec(rec, "tax_amount", ctx), items=items_of(rec, "items", ctx, _memo_item, required=True),
        shipping_amount=dec(rec, "shipping_amount", ctx), shipping_tax_amount=dec(rec, "shipping_tax_amount", ctx),
        adjustment=dec(rec, "adjustment", ctx))


def parse_invoice(value: Any, route: str) -> MagentoInvoice:
    """An invoice."""
    ctx = Ctx(route)
    rec = obj(value, ctx)
    return MagentoInvoice(
        entity_id=int_of(rec, "entity_id", ctx), increment_id=text(rec, "increment_id", ctx, ""),
        order_id=int_of(rec, "order_id", ctx), created_at=timestamp(rec, "created_at", ctx),
        state=int_of(rec, "state", ctx, 2), grand_total=dec(rec, "grand_total", ctx, None),
        tax_amount=dec(rec, "tax_amount", ctx),
        updated_at=timestamp(rec, "updated_at", ctx) if rec.get("updated_at") else None)


def parse_bulk_status(value: Any, route: str) -> BulkStatus:
    """The summary of an asynchronous bulk request."""
    ctx = Ctx(route)
    rec = obj(value, ctx)

    def operation(item: Any, at: Ctx) -> BulkOperation:
        op = obj(item, at)
        return BulkOperation(int_of(op, "id", at), int_of(op, "status", at), text(op, "result_message", at, ""),
                             opt_int(op, "error_code", at))

    return BulkStatus(text(rec, "bulk_id", ctx), int_of(rec, "operation_count", ctx),
                      items_of(rec, "operations_list", ctx, operation))


# ------------------------------------------------------------------ errors


def render_error(body: Any) -> str:
    """A Magento error body for humans: placeholders substituted, aggregated errors appended."""
    if not isinstance(body, Mapping) or not isinstance(body.get("message"), str):
        return "no error message"
    message = _render(body["message"], body.get("parameters"))
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        details = [_render(str(e.get("message", "")), e.get("parameters")) for e in errors if isinstance(e, Mapping)]
        message += " [" + "; ".join(details) + "]"
    return message


def _render(message: str, params: Any) -> str:
    if isinstance(params, Mapping):
        values = {str(k): v for k, v in params.items()}
    elif isinstance(params, list):
        values = {str(i + 1): v for i, v in enumerate(params)}
    else:
        return message
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), message)
