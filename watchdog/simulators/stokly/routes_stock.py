"""Routes: locations and bins, inventory records, adjustments, inventory movements."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from watchdog.simulators.stokly.context import SimContext
from watchdog.simulators.stokly.views_catalog import (
    StockIndex,
    bin_json,
    inventory_rows,
    location_json,
    movement_json,
)
from watchdog.simulators.stokly.web import (
    ApiError,
    accepted,
    json_body,
    listing,
    opt_str,
    req_list,
    req_number,
    req_str,
    single,
)
from watchdog.stokly_assumed import STATUS_INVALID, msg_invalid

__all__ = ["stock_routes"]


def _bin_specs(body: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(name, type, barcode) of each bin in a location PATCH."""
    specs = []
    for raw in body.get("bins") or []:
        if not isinstance(raw, Mapping):
            raise ApiError(STATUS_INVALID, msg_invalid("bins", "must hold objects"))
        specs.append((req_str(raw, "name"), opt_str(raw, "type", "pickable") or "pickable",
                      opt_str(raw, "barcode", "") or ""))
    return specs


def _deltas(body: Mapping[str, Any]) -> dict[str, Decimal]:
    deltas: dict[str, Decimal] = {}
    for raw in req_list(body, "items"):
        if not isinstance(raw, Mapping):
            raise ApiError(STATUS_INVALID, msg_invalid("items", "must hold objects"))
        item_id = req_str(raw, "itemId")
        deltas[item_id] = deltas.get(item_id, Decimal(0)) + req_number(raw, "quantity")
    return deltas


def stock_routes(ctx: SimContext) -> list[Route]:
    """The stock routes bound to one simulated account."""
    state = ctx.state

    async def list_locations(request: Request) -> Response:
        return listing([location_json(loc) for loc in state.locations()], ctx.query(request))

    async def get_location(request: Request) -> Response:
        return single(location_json(state.location(request.path_params["location_id"])))

    async def create_location(request: Request) -> Response:
        name = req_str(await json_body(request), "name")
        new_id = state.new_id()
        ctx.apply(lambda: state.add_location(name, location_id=new_id), "location")
        return accepted(new_id)

    async def patch_location(request: Request) -> Response:
        location_id = state.location(request.path_params["location_id"]).location_id
        specs = _bin_specs(await json_body(request))

        def write() -> None:
            for name, kind, barcode in specs:
                state.add_bin(location_id, name, type=kind, barcode=barcode)

        ctx.apply(write, "location")
        return accepted(location_id)

    async def location_bins(request: Request) -> Response:
        location_id = state.location(request.path_params["location_id"]).location_id
        return listing([bin_json(b) for b in state.bins(location_id)], ctx.query(request))

    async def all_bins(request: Request) -> Response:
        return listing([bin_json(b) for b in state.bins()], ctx.query(request))

    async def inventory(request: Request) -> Response:
        query = ctx.query(request)
        with state.lock:
            rows = inventory_rows(state, StockIndex.read(state))
        return listing(rows, query)

    async def adjust(request: Request) -> Response:
        body = await json_body(request)
        location_id, bin_id = req_str(body, "locationId"), opt_str(body, "binId")
        reason, deltas = opt_str(body, "reason", "") or "", _deltas(body)
        new_id = state.new_id()
        ctx.apply(lambda: state.adjust(location_id, deltas, bin_id=bin_id, reason=reason, adjustment_id=new_id),
                  "adjustment")
        return accepted(new_id)

    async def movements(request: Request) -> Response:
        query = ctx.query(request)
        with state.lock:
            rows = [movement_json(state, m) for m in state.movements()]
        return listing(rows, query)

    return [
        Route("/v0/locations", list_locations, methods=["GET"]),
        Route("/v0/locations", create_location, methods=["POST"]),
        Route("/v0/locations/{location_id}", get_location, methods=["GET"]),
        Route("/v0/locations/{location_id}", patch_location, methods=["PATCH"]),
        Route("/v0/locations/{location_id}/bins", location_bins, methods=["GET"]),
        Route("/v0/bins", all_bins, methods=["GET"]),
        Route("/v1/inventory-records", inventory, methods=["GET"]),
        Route("/v1/adjustments", adjust, methods=["POST"]),
        Route("/v0/inventory-movements", movements, methods=["GET"]),
    ]
