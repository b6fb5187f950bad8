"""Handlers: MSI sources, stocks, links, source items (sync and async bulk), salable quantity, bulk status."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from .errors import MAX_ITEMS, MagentoError, Phrase, bad_request, not_found
from .records import BulkOperationRec, BulkRec
from .render import num, ts
from .routing import ApiRoute, Call, decimal_arg, int_arg, route
from .views_catalog import link_json, source_item_json, source_json, stock_json

__all__ = ["ROUTES"]

SOURCE = "Magento_InventoryApi::source"
ASSIGN = "Magento_InventoryApi::stock_source_item_assign"
STOCK = "Magento_InventoryApi::stock"
LINK = "Magento_InventoryApi::stock_source_link"
SALES_STOCK = "Magento_InventorySalesApi::stock"
BULK = "Magento_Logging::system_magento_logging_bulk_operations"
SOURCE_ITEM_TYPE = "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface"
BULK_TOPIC = "Topic async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post"
BULK_OK = ("Service execution success "
           "Magento\\Inventory\\Model\\SourceItem\\Command\\SourceItemsSave\\Interceptor::execute")


@route("GET", "/V1/inventory/source-items", SOURCE)
def source_items(call: Call) -> dict[str, Any]:
    """Source item search (searchCriteria required)."""
    items = list(call.state.source_items.values())
    rows = [source_item_json(i) for i in items]
    return call.search(rows, lambda i: rows[i])


def _source_items_arg(call: Call, limit: int) -> list[Any]:
    items = call.arg("sourceItems")
    if not isinstance(items, list):
        raise bad_request('The "%1" value\'s type is invalid.', [type(items).__name__])
    if call.state.settings.input_limits and len(items) > limit:
        raise MagentoError(400, Phrase(MAX_ITEMS, {"type": SOURCE_ITEM_TYPE, "max": limit}))
    return items


@route("POST", "/V1/inventory/source-items", ASSIGN)
def save_source_items(call: Call) -> None:
    """Absolute upsert; renders ``[]``."""
    call.state.save_source_items(_source_items_arg(call, call.state.settings.complex_array_limit))


@route("POST", "/V1/inventory/source-items-delete", ASSIGN)
def delete_source_items(call: Call) -> None:
    """Unassign source items; renders ``[]``."""
    call.state.delete_source_items(_source_items_arg(call, call.state.settings.complex_array_limit))


@route("GET", "/V1/inventory/sources", SOURCE)
def sources(call: Call) -> dict[str, Any]:
    """Source search (criteria optional)."""
    rows = [source_json(s) for s in call.state.sources.values()]
    return call.search(rows, lambda i: rows[i], required=False)


@route("GET", "/V1/inventory/sources/:sourceCode", SOURCE)
def source(call: Call) -> dict[str, Any]:
    """One source; 404 ``Source with code "%value" does not exist.``"""
    found = call.state.sources.get(call.params["sourceCode"])
    if found is None:
        raise not_found('Source with code "%value" does not exist.', {"value": call.params["sourceCode"]})
    return source_json(found)


@route("GET", "/V1/inventory/stocks", STOCK)
def stocks(call: Call) -> dict[str, Any]:
    """Stock search (criteria optional)."""
    items = list(call.state.stocks.values())
    rows = [{"stock_id": s.stock_id, "name": s.name} for s in items]
    return call.search(rows, lambda i: stock_json(items[i]), required=False)


@route("GET", "/V1/inventory/stocks/:stockId", STOCK)
def stock(call: Call) -> dict[str, Any]:
    """One stock; 404 ``Stock with id "%value" does not exist.``"""
    stock_id = call.int_param("stockId")
    found = call.state.stocks.get(stock_id)
    if found is None:
        raise not_found('Stock with id "%value" does not exist.', {"value": stock_id})
    return stock_json(found)


@route("GET", "/V1/inventory/stock-source-links", LINK)
def links(call: Call) -> dict[str, Any]:
    """Stock-source link search (criteria required)."""
    rows = [link_json(s, c, p) for (s, c), p in call.state.links.items()]
    return call.search(rows, lambda i: rows[i])


@route("GET", "/V1/inventory/stock-resolver/:type/:code", SALES_STOCK)
def stock_resolver(call: Call) -> dict[str, Any]:
    """The stock assigned to a sales channel; 404 when none."""
    channel = (call.params["type"], call.params["code"])
    found = next((s for s in call.state.stocks.values() if channel in s.channels), None)
    if found is None:
        raise not_found("No linked stock found")
    return stock_json(found)


@route("GET", "/V1/inventory/get-product-salable-quantity/:sku/:stockId", SALES_STOCK)
def salable_qty(call: Call) -> int | float | None:
    """A bare number."""
    return num(call.state.salable_qty(call.params["sku"], call.int_param("stockId")))


def _salable(call: Call, sku: str, stock_id: int, qty: Decimal = Decimal(1)) -> bool:
    try:
        return call.state.salable_qty(sku, stock_id) >= qty
    except MagentoError:
        return False


@route("GET", "/V1/inventory/is-product-salable/:sku/:stockId", SALES_STOCK)
def is_salable(call: Call) -> bool:
    """A bare boolean."""
    return _salable(call, call.params["sku"], call.int_param("stockId"))


@route("GET", "/V1/inventory/is-product-salable-for-requested-qty/:sku/:stockId/:requestedQty", SALES_STOCK)
def is_salable_for_qty(call: Call) -> dict[str, Any]:
    """``{"salable", "errors"}`` with MSI's error codes."""
    qty = decimal_arg(call.params["requestedQty"], "requestedQty")
    if _salable(call, call.params["sku"], call.int_param("stockId"), qty):
        return {"salable": True, "errors": []}
    return {"salable": False, "errors": [{"code": "is_salable_with_reservations-not_enough_qty",
                                          "message": "Not enough items for sale"}]}


@route("GET", "/V1/inventory/are-products-salable", SALES_STOCK)
def are_salable(call: Call) -> list[dict[str, Any]]:
    """``[{"sku", "stock_id", "salable"}]`` for ``skus[i]`` and ``stockId``."""
    stock_id = int_arg(dict(call.query).get("stockId", ""))
    skus = [v for k, v in call.query if k.startswith("skus[")]
    return [{"sku": s, "stock_id": stock_id, "salable": _salable(call, s, stock_id)} for s in skus]


@route("POST", "/V1/inventory/source-items", ASSIGN, status=202, is_async=True)
def bulk_source_items(call: Call) -> dict[str, Any]:
    """Async bulk: every operation is applied at once (the consumer is instant)."""
    if not isinstance(call.body, list) or not call.body:
        raise bad_request("Request body must be an array of operations.")
    state = call.state
    bulk = BulkRec(state.random_uuid(), BULK_TOPIC, state.now(), 2, call.principal.user_id if call.principal else 0)
    request_items = []
    for index, payload in enumerate(call.body):
        request_items.append({"id": index, "data_hash": _hash(payload), "status": "accepted"})
        bulk.operations.append(_run_operation(call, index, payload))
    state.bulks[bulk.uuid] = bulk
    return {"bulk_uuid": bulk.uuid, "request_items": request_items, "errors": False}


def _run_operation(call: Call, index: int, payload: Any) -> BulkOperationRec:
    op_id = call.state.next_id("bulk_operation")
    items = payload.get("sourceItems") if isinstance(payload, dict) else None
    try:
        call.state.save_source_items(items if isinstance(items, list) else [])
    except MagentoError as exc:
        return BulkOperationRec(op_id, 3, exc.phrase.rendered(), 0)
    return BulkOperationRec(op_id, 1, BULK_OK)


def _hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@route("GET", "/V1/bulk/:bulkUuid/status", BULK)
def bulk_status(call: Call) -> dict[str, Any]:
    """Bulk summary with every operation's status (1 complete, 3 failed not retriable)."""
    bulk = call.state.bulks.get(call.params["bulkUuid"])
    if bulk is None:
        raise not_found("Bulk uuid %bulkUuid not exist", {"bulkUuid": call.params["bulkUuid"]})
    operations = [{"id": op.id, "status": op.status, "result_message": op.result_message,
                   "error_code": op.error_code} for op in bulk.operations]
    return {"operations_list": operations, "user_type": bulk.user_type, "bulk_id": bulk.uuid,
            "description": bulk.description, "start_time": ts(bulk.start_time), "user_id": bulk.user_id,
            "operation_count": len(operations)}


ROUTES: list[ApiRoute] = [
    source_items, save_source_items, delete_source_items, sources, source, stocks, stock, links, stock_resolver,
    salable_qty, is_salable, is_salable_for_qty, are_salable, bulk_source_items, bulk_status,
]
