"""Routes: items, variable and composite items, channels, listings, customers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from watchdog.model import ItemFormat
from watchdog.simulators.stokly.context import SimContext
from watchdog.simulators.stokly.views_catalog import (
    StockIndex,
    channel_json,
    children_rows,
    composing_rows,
    customer_json,
    item_json,
    listing_json,
    movement_json,
)
from watchdog.simulators.stokly.web import (
    ApiError,
    accepted,
    json_body,
    listing,
    opt_str,
    req_number,
    req_obj,
    req_str,
    single,
)
from watchdog.stokly_assumed import ITEM_COMPONENTS, STATUS_INVALID, msg_invalid

__all__ = ["catalog_routes"]


def _strings(body: Mapping[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be an array of strings"))
    return value


def _components(body: Mapping[str, Any]) -> list[tuple[str, Decimal]] | None:
    value = body.get(ITEM_COMPONENTS)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ApiError(STATUS_INVALID, msg_invalid(ITEM_COMPONENTS, "must be an array"))
    return [(req_str(_obj(c, ITEM_COMPONENTS), "itemId"), req_number(c, "quantity")) for c in value]


def _obj(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must hold objects"))
    return value


def catalog_routes(ctx: SimContext) -> list[Route]:
    """The catalogue routes bound to one simulated account."""
    state = ctx.state

    def items_view(items: Sequence[Any]) -> list[dict[str, Any]]:
        stock = StockIndex.read(state)
        return [item_json(state, i, stock) for i in items]

    async def list_items(request: Request) -> Response:
        return listing(items_view(state.items()), ctx.query(request))

    async def create_item(request: Request) -> Response:
        body = await json_body(request)
        sku, name = req_str(body, "sku"), req_str(body, "name")
        fmt = int(req_number(body, "format")) if body.get("format") is not None else 0
        barcodes, parts = _strings(body, "barcodes") or [], _components(body)
        new_id = state.new_id()
        if fmt == ItemFormat.COMPOSITE:
            ctx.apply(lambda: state.add_kit(sku, name, parts or [], barcodes=barcodes, item_id=new_id), "item")
        elif fmt in (ItemFormat.SIMPLE, ItemFormat.BILL_OF_MATERIALS):
            ctx.apply(lambda: state.add_item(sku, name, barcodes=barcodes, item_id=new_id), "item")
        else:
            raise ApiError(STATUS_INVALID, msg_invalid("format", "must be 0, 1 or 3 (use /v0/variable-items)"))
        return accepted(new_id)

    async def get_item(request: Request) -> Response:
        return single(items_view([state.item(request.path_params["item_id"])])[0])

    async def patch_item(request: Request) -> Response:
        item_id, body = request.path_params["item_id"], await json_body(request)
        sku, name = opt_str(body, "sku"), opt_str(body, "name")
        barcodes, parts = _strings(body, "barcodes"), _components(body)
        variants = _strings(body, "variantItems")
        ctx.apply(lambda: state.update_item(item_id, sku=sku, name=name, barcodes=barcodes, components=parts,
                                            variants=variants), "item")
        return accepted(item_id)

    async def delete_item(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        state.item(item_id)
        ctx.apply(lambda: state.delete_item(item_id), "item")
        return accepted(item_id)

    async def children(request: Request) -> Response:
        item = state.item(request.path_params["item_id"])
        return listing(children_rows(state, item), ctx.query(request))

    async def item_movements(request: Request) -> Response:
        item_id = state.item(request.path_params["item_id"]).item_id
        return listing([movement_json(state, m) for m in state.movements(item_id)], ctx.query(request))

    async def composing(request: Request) -> Response:
        return listing(composing_rows(state), ctx.query(request))

    async def list_variable(request: Request) -> Response:
        parents = [i for i in state.items() if i.format is ItemFormat.VARIABLE]
        return listing(items_view(parents), ctx.query(request))

    async def create_variable(request: Request) -> Response:
        body = await json_body(request)
        sku, name, variants = req_str(body, "sku"), req_str(body, "name"), _strings(body, "variantItems") or []
        new_id = state.new_id()
        ctx.apply(lambda: state.add_variable_item(sku, name, variants, item_id=new_id), "variable item")
        return accepted(new_id)

    return [
        Route("/v0/items", list_items, methods=["GET"]),
        Route("/v0/items", create_item, methods=["POST"]),
        Route("/v0/items/{item_id}", get_item, methods=["GET"]),
        Route("/v0/items/{item_id}", patch_item, methods=["PATCH"]),
        Route("/v0/items/{item_id}", delete_item, methods=["DELETE"]),
        Route("/v0/items/{item_id}/children", children, methods=["GET"]),
        Route("/v0/items/{item_id}/inventory-movements", item_movements, methods=["GET"]),
        Route("/v0/composing-items", composing, methods=["GET"]),
        Route("/v0/variable-items", list_variable, methods=["GET"]),
        Route("/v0/variable-items", create_variable, methods=["POST"]),
        Route("/v0/variable-items/{item_id}", patch_item, methods=["PATCH"]),
        *_channel_routes(ctx),
        *_customer_routes(ctx),
    ]


def _channel_routes(ctx: SimContext) -> list[Route]:
    state = ctx.state

    async def list_channels(request: Request) -> Response:
        return listing([channel_json(c) for c in state.channels()], ctx.query(request))

    async def get_channel(request: Request) -> Response:
        return single(channel_json(state.channel(request.path_params["channel_id"])))

    async def patch_channel(request: Request) -> Response:
        channel_id, body = request.path_params["channel_id"], await json_body(request)
        state.channel(channel_id)
        name, locations = opt_str(body, "name"), _strings(body, "inventoryLocationIds")
        manage, sync = _opt_bool(body, "manageInventory"), _opt_bool(body, "syncData")
        ctx.apply(lambda: state.update_channel(channel_id, name=name, manage_inventory=manage, sync_data=sync,
                                               inventory_location_ids=locations), "channel")
        return accepted(channel_id)

    async def channel_listings(request: Request) -> Response:
        channel_id = state.channel(request.path_params["channel_id"]).channel_id
        rows = [listing_json(state, ls) for ls in state.listings(channel_id)]
        return listing(rows, ctx.query(request))

    async def get_listing(request: Request) -> Response:
        return single(listing_json(state, state.listing(request.path_params["listing_id"])))

    async def create_listing(request: Request) -> Response:
        body = await json_body(request)
        channel_id, data = req_str(body, "channelId"), req_obj(body, "data")
        item_id, reference = req_str(data, "itemId"), opt_str(body, "referenceId")
        new_id = state.new_id()
        ctx.apply(lambda: state.add_listing(channel_id, item_id, reference_id=reference, listing_id=new_id),
                  "listing")
        return accepted(new_id)

    async def delete_listing(request: Request) -> Response:
        listing_id = state.listing(request.path_params["listing_id"]).listing_id
        ctx.apply(lambda: state.remove_listing(listing_id), "listing")
        return accepted(listing_id)

    return [
        Route("/v0/channels", list_channels, methods=["GET"]),
        Route("/v0/channels/{channel_id}", get_channel, methods=["GET"]),
        Route("/v0/channels/{channel_id}", patch_channel, methods=["PATCH"]),
        Route("/v0/channels/{channel_id}/listings", channel_listings, methods=["GET"]),
        Route("/v0/listings", create_listing, methods=["POST"]),
        Route("/v0/listings/{listing_id}", get_listing, methods=["GET"]),
        Route("/v0/listings/{listing_id}", delete_listing, methods=["DELETE"]),
    ]


def _opt_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be a boolean"))
    return value


def _customer_routes(ctx: SimContext) -> list[Route]:
    state = ctx.state

    async def list_customers(request: Request) -> Response:
        return listing([customer_json(c) for c in state.customers()], ctx.query(request))

    async def get_customer(request: Request) -> Response:
        return single(customer_json(state.customer(request.path_params["customer_id"])))

    async def create_customer(request: Request) -> Response:
        body = await json_body(request)
        name = req_obj(body, "name")
        forename, surname = opt_str(name, "forename", "") or "", opt_str(name, "surname", "") or ""
        email, barcode = opt_str(body, "email"), opt_str(body, "barcode")
        new_id = state.new_id()
        ctx.apply(lambda: state.add_customer(forename=forename, surname=surname, email=email, barcode=barcode,
                                             customer_id=new_id), "customer")
        return accepted(new_id)

    return [
        Route("/v0/customers", list_customers, methods=["GET"]),
        Route("/v0/customers", create_customer, methods=["POST"]),
        Route("/v0/customers/{customer_id}", get_customer, methods=["GET"]),
    ]

