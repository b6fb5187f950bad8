"""Routes whose whole shape is assumed (see ``watchdog.stokly_assumed``): shipments with tracking,
VAT credit notes, and the cancel-items amend used for a refund before fulfilment."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from watchdog.simulators.stokly.bodies import credit_note_spec, line_quantities, shipment_args
from watchdog.simulators.stokly.context import SimContext
from watchdog.simulators.stokly.views_sales import credit_note_json, shipment_json
from watchdog.simulators.stokly.web import accepted, json_body, listing, opt_str, single
from watchdog.stokly_assumed import (
    ACCOUNT_SHIPMENTS_PATH,
    CANCEL_ITEMS,
    CANCEL_ITEMS_PATH,
    CREDIT_NOTE_PATH,
    CREDIT_NOTES_PATH,
    SHIPMENTS_PATH,
)

__all__ = ["assumed_routes"]


def assumed_routes(ctx: SimContext) -> list[Route]:
    """Shipments, credit notes and cancel-items bound to one simulated account."""
    state = ctx.state

    async def cancel_items(request: Request) -> Response:
        order_id = state.sale_order(request.path_params["sale_order_id"]).sale_order_id
        body = await json_body(request)
        lines, reason = line_quantities(body, CANCEL_ITEMS.items), opt_str(body, CANCEL_ITEMS.reason, "") or ""
        ctx.apply(lambda: state.cancel_lines(order_id, lines, reason), "cancel-items")
        return accepted(order_id)

    async def create_shipment(request: Request) -> Response:
        order_id = state.sale_order(request.path_params["sale_order_id"]).sale_order_id
        a = shipment_args(await json_body(request))
        new_id = state.new_id()
        ctx.apply(lambda: state.dispatch(
            order_id, carrier=a.carrier, tracking_number=a.tracking_number, location_id=a.location_id,
            lines=a.lines, service=a.service, tracking_url=a.tracking_url, dispatched_at=a.dispatched_at,
            dispatch_id=new_id), "shipment")
        return accepted(new_id)

    async def order_shipments(request: Request) -> Response:
        order_id = state.sale_order(request.path_params["sale_order_id"]).sale_order_id
        return listing([shipment_json(d) for d in state.dispatches(order_id)], ctx.query(request))

    async def all_shipments(request: Request) -> Response:
        return listing([shipment_json(d) for d in state.dispatches()], ctx.query(request))

    async def list_credit_notes(request: Request) -> Response:
        return listing([credit_note_json(c) for c in state.credit_notes()], ctx.query(request))

    async def get_credit_note(request: Request) -> Response:
        return single(credit_note_json(state.credit_note_record(request.path_params["credit_note_id"])))

    async def create_credit_note(request: Request) -> Response:
        spec = credit_note_spec(await json_body(request))
        new_id = state.new_id()
        ctx.apply(lambda: state.credit_note(spec, credit_note_id=new_id), "credit note")
        return accepted(new_id)

    return [
        Route(CANCEL_ITEMS_PATH, cancel_items, methods=["POST"]),
        Route(SHIPMENTS_PATH, create_shipment, methods=["POST"]),
        Route(SHIPMENTS_PATH, order_shipments, methods=["GET"]),
        Route(ACCOUNT_SHIPMENTS_PATH, all_shipments, methods=["GET"]),
        Route(CREDIT_NOTES_PATH, list_credit_notes, methods=["GET"]),
        Route(CREDIT_NOTES_PATH, create_credit_note, methods=["POST"]),
        Route(CREDIT_NOTE_PATH, get_credit_note, methods=["GET"]),
    ]
