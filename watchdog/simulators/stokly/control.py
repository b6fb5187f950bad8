"""``/_sim/`` control routes: NOT part of Stokly's API. They drive the simulated account over HTTP
(``watchdog simulate``, scenarios in another process) with the same domain API as in-process callers.

Items may be named by ``itemId`` or ``sku`` everywhere here. Bodies are JSON objects; every
route answers JSON (``{"id": ...}`` for creations).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from watchdog.simulators.faults import fault_routes
from watchdog.simulators.stokly.context import SimContext
from watchdog.simulators.stokly.records import CreditLineSpec, CreditNoteSpec, LineSpec
from watchdog.simulators.stokly.shape import shape_routes
from watchdog.simulators.stokly.state import StoklyState
from watchdog.simulators.stokly.web import (
    ApiError,
    json_body,
    num,
    opt_number,
    opt_str,
    parse_time,
    req_list,
    req_number,
    req_str,
)
from watchdog.stokly_assumed import STATUS_INVALID, msg_invalid

__all__ = ["control_routes"]


def _item(state: StoklyState, body: Mapping[str, Any]) -> str:
    """The itemId named by ``itemId`` or ``sku``."""
    if body.get("itemId"):
        return state.item(req_str(body, "itemId")).item_id
    return state.item_id_for(req_str(body, "sku"))


def _objects(body: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    values = req_list(body, name)
    if not all(isinstance(v, Mapping) for v in values):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must hold objects"))
    return list(values)


def _quantities(body: Mapping[str, Any]) -> dict[str, Decimal] | None:
    """Optional ``lines: {lineId: quantity}``."""
    raw = body.get("lines")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ApiError(STATUS_INVALID, msg_invalid("lines", "must map lineId to quantity"))
    return {str(k): req_number(raw, str(k)) for k in raw}


def _stock_json(state: StoklyState, item_id: str, location_id: str | None) -> dict[str, Any]:
    return {"itemId": item_id, "locationId": location_id, "onHand": num(state.on_hand(item_id, location_id)),
            "allocated": num(state.allocated(item_id, location_id)),
            "available": num(state.available(item_id, location_id))}


def control_routes(ctx: SimContext) -> list[Route]:
    """Every ``/_sim/`` route (including the fault-injection ones)."""
    return [*_service_routes(ctx), *_catalog_routes(ctx), *_order_routes(ctx), *fault_routes(ctx.faults),
            *shape_routes(ctx.settings)]


def _service_routes(ctx: SimContext) -> list[Route]:
    async def summary(request: Request) -> Response:
        ctx.state.settle()
        return JSONResponse({**ctx.state.summary(), "grants": ctx.tokens.grants,
                             "settings": ctx.settings.current.public()})

    async def settings(request: Request) -> Response:
        if request.method == "POST":
            try:
                ctx.settings.update(**await json_body(request))
            except (TypeError, ValueError) as exc:
                raise ApiError(STATUS_INVALID, str(exc)) from None
        return JSONResponse(ctx.settings.current.public())

    async def expire(request: Request) -> Response:
        return JSONResponse({"expired": ctx.tokens.expire_all()})

    async def revoke(request: Request) -> Response:
        """Revoke every token; with ``{"clientSecret": "..."}`` also rotate the secret grants need."""
        secret = opt_str(await json_body(request), "clientSecret")
        revoked = ctx.tokens.rotate_secret(secret) if secret else ctx.tokens.revoke_all()
        return JSONResponse({"revoked": revoked, "rotated": bool(secret)})

    async def reset_rate(request: Request) -> Response:
        ctx.windows.reset()
        return JSONResponse({"reset": True})

    return [
        Route("/_sim/state", summary, methods=["GET"]),
        Route("/_sim/settings", settings, methods=["GET", "POST"]),
        Route("/_sim/expire-tokens", expire, methods=["POST"]),
        Route("/_sim/revoke-tokens", revoke, methods=["POST"]),
        Route("/_sim/reset-rate-limit", reset_rate, methods=["POST"]),
    ]


def _catalog_routes(ctx: SimContext) -> list[Route]:
    state = ctx.state

    async def add_item(request: Request) -> Response:
        body = await json_body(request)
        sku, name = req_str(body, "sku"), opt_str(body, "name", "") or req_str(body, "sku")
        if body.get("components") is not None:
            parts = [(_item(state, c), req_number(c, "quantity")) for c in _objects(body, "components")]
            return JSONResponse({"id": state.add_kit(sku, name, parts)})
        if body.get("variants") is not None:
            variants = [_item(state, v) for v in _objects(body, "variants")]
            return JSONResponse({"id": state.add_variable_item(sku, name, variants)})
        barcodes = [str(b) for b in body.get("barcodes") or []]
        return JSONResponse({"id": state.add_item(sku, name, barcodes=barcodes)})

    async def add_location(request: Request) -> Response:
        location_id = state.add_location(req_str(await json_body(request), "name"))
        return JSONResponse({"id": location_id, "defaultBinId": state.default_bin(location_id).bin_id})

    async def add_bin(request: Request) -> Response:
        body = await json_body(request)
        return JSONResponse({"id": state.add_bin(req_str(body, "locationId"), req_str(body, "name"),
                                                 default=body.get("default") is True)})

    async def stock(request: Request) -> Response:
        if request.method == "GET":
            params = request.query_params
            return JSONResponse(_stock_json(state, _item(state, params), params.get("locationId")))
        body = await json_body(request)
        item_id, location_id, bin_id = _item(state, body), req_str(body, "locationId"), opt_str(body, "binId")
        if body.get("quantity") is not None:
            state.set_stock(item_id, location_id, req_number(body, "quantity"), bin_id=bin_id)
        else:
            state.adjust(location_id, {item_id: req_number(body, "delta")}, bin_id=bin_id,
                         reason=opt_str(body, "reason", "Simulator") or "Simulator")
        return JSONResponse(_stock_json(state, item_id, location_id))

    async def add_channel(request: Request) -> Response:
        body = await json_body(request)
        return JSONResponse({"id": state.add_channel(
            req_str(body, "name"), type=int(opt_number(body, "type", Decimal(5))),
            allocate_sold_location_id=opt_str(body, "allocateSoldLocationId"))})

    async def designate(request: Request) -> Response:
        body = await json_body(request)
        state.set_allocate_sold_location(request.path_params["channel_id"], opt_str(body, "locationId"))
        return JSONResponse({"ok": True})

    async def add_listing(request: Request) -> Response:
        body = await json_body(request)
        return JSONResponse({"id": state.add_listing(req_str(body, "channelId"), _item(state, body),
                                                     reference_id=opt_str(body, "referenceId"))})

    async def add_customer(request: Request) -> Response:
        body = await json_body(request)
        return JSONResponse({"id": state.add_customer(
            forename=opt_str(body, "forename", "") or "", surname=opt_str(body, "surname", "") or "",
            email=opt_str(body, "email"), barcode=opt_str(body, "barcode"))})

    return [
        Route("/_sim/items", add_item, methods=["POST"]),
        Route("/_sim/locations", add_location, methods=["POST"]),
        Route("/_sim/bins", add_bin, methods=["POST"]),
        Route("/_sim/stock", stock, methods=["GET", "POST"]),
        Route("/_sim/channels", add_channel, methods=["POST"]),
        Route("/_sim/channels/{channel_id}/designated-location", designate, methods=["POST"]),
        Route("/_sim/listings", add_listing, methods=["POST"]),
        Route("/_sim/customers", add_customer, methods=["POST"]),
    ]


def _order_routes(ctx: SimContext) -> list[Route]:
    state = ctx.state

    async def add_order(request: Request) -> Response:
        body = await json_body(request)
        lines = [LineSpec(_item(state, ln), req_number(ln, "quantity"), opt_number(ln, "price"),
                          opt_number(ln, "tax")) for ln in _objects(body, "lines")]
        created = opt_str(body, "createdAt")
        return JSONResponse({"id": state.create_sale_order(
            opt_str(body, "channelId"), opt_str(body, "sourceReferenceId"), lines,
            currency=opt_str(body, "currency", "GBP") or "GBP", customer_id=opt_str(body, "customerId"),
            created_at=parse_time(created, "createdAt") if created else None)})

    def collect(order_id: str, body: Mapping[str, Any]) -> str:
        state.collect(order_id, req_str(body, "locationId"), _quantities(body))
        return order_id

    def cancel(order_id: str, body: Mapping[str, Any]) -> str:
        lines = _quantities(body)
        if lines is None:  # everything still open
            lines = {ln.line_id: ln.open_quantity for ln in state.sale_order(order_id).top_lines if ln.open_quantity}
        state.cancel_lines(order_id, lines)
        return order_id

    def invoice(order_id: str, body: Mapping[str, Any]) -> str:
        return state.invoice(order_id, status=opt_str(body, "status", "paid") or "paid")

    def dispatch(order_id: str, body: Mapping[str, Any]) -> str:
        return state.dispatch(
            order_id, carrier=req_str(body, "carrier"), tracking_number=opt_str(body, "trackingNumber", "") or "",
            location_id=opt_str(body, "locationId"), lines=_quantities(body),
            service=opt_str(body, "service", "") or "", tracking_url=opt_str(body, "trackingUrl", "") or "")

    actions = {"collect": collect, "cancel": cancel, "invoice": invoice, "dispatch": dispatch}

    async def act(request: Request) -> Response:
        action = actions.get(request.path_params["action"])
        if action is None:
            raise ApiError(404, f"unknown action; one of {', '.join(actions)}")
        return JSONResponse({"id": action(request.path_params["order_id"], await json_body(request))})

    async def add_credit_note(request: Request) -> Response:
        body = await json_body(request)
        lines = tuple(CreditLineSpec(_item(state, ln), req_number(ln, "quantity"), opt_number(ln, "price"),
                                     opt_number(ln, "tax"), ln.get("restock") is True, opt_str(ln, "locationId"))
                      for ln in _objects(body, "lines"))
        refund = body.get("refundAmount")
        spec = CreditNoteSpec(
            req_str(body, "sourceReferenceId"), opt_str(body, "currency", "GBP") or "GBP", lines,
            opt_str(body, "invoiceId"), opt_str(body, "reason", "") or "", opt_number(body, "shippingCost"),
            opt_number(body, "shippingTax"), None if refund is None else req_number(body, "refundAmount"))
        return JSONResponse({"id": state.credit_note(spec)})

    return [
        Route("/_sim/saleorders", add_order, methods=["POST"]),
        Route("/_sim/saleorders/{order_id}/{action}", act, methods=["POST"]),
        Route("/_sim/credit-notes", add_credit_note, methods=["POST"]),
    ]

