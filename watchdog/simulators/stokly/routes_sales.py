"""Routes: sale orders, their lines, collection, invoices (confirmed shapes)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from watchdog.simulators.stokly.bodies import invoice_bodies, line_quantities, order_body
from watchdog.simulators.stokly.context import SimContext
from watchdog.simulators.stokly.views_sales import invoice_json, line_json, sale_order_json
from watchdog.simulators.stokly.web import (
    ApiError,
    accepted,
    json_body,
    listing,
    opt_str,
    req_str,
    single,
)
from watchdog.stokly_assumed import STATUS_INVALID, OrderStage, msg_invalid

__all__ = ["sales_routes"]


def sales_routes(ctx: SimContext) -> list[Route]:
    """The sale order routes bound to one simulated account."""
    state = ctx.state

    async def list_orders(request: Request) -> Response:
        query = ctx.query(request)
        with state.lock:
            rows = [sale_order_json(state, o) for o in state.sale_orders()]
        return listing(rows, query)

    async def get_order(request: Request) -> Response:
        with state.lock:
            return single(sale_order_json(state, state.sale_order(request.path_params["order_id"])))

    async def create_order(request: Request) -> Response:
        b = order_body(await json_body(request))
        new_id = state.new_id()
        ctx.apply(lambda: state.create_sale_order(
            b.channel_id, b.source_reference_id, b.lines, currency=b.currency, customer_id=b.customer_id,
            shipping=b.shipping, payments=b.payments, created_at=b.created_at, source_type=b.source_type,
            customer_reference=b.customer_reference, tags=b.tags, sale_order_id=new_id), "sale order")
        return accepted(new_id)

    async def patch_order(request: Request) -> Response:
        order_id, body = state.sale_order(request.path_params["order_id"]).sale_order_id, await json_body(request)
        raw_stage, tags = opt_str(body, "stage"), body.get("tags")
        if raw_stage is not None and raw_stage not in set(OrderStage):
            raise ApiError(STATUS_INVALID, msg_invalid("stage", "is not a known stage"))
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
            raise ApiError(STATUS_INVALID, msg_invalid("tags", "must be an array of strings"))
        stage, reference = OrderStage(raw_stage) if raw_stage else None, opt_str(body, "customerReference")
        ctx.apply(lambda: state.update_sale_order(order_id, stage=stage, tags=tags, customer_reference=reference),
                  "sale order")
        return accepted(order_id)

    async def order_lines(request: Request) -> Response:
        query = ctx.query(request)
        with state.lock:
            order = state.sale_order(request.path_params["order_id"])
            rows = [line_json(state, ln) for ln in order.lines]
        return listing(rows, query)

    async def collect(request: Request) -> Response:
        order_id = state.sale_order(request.path_params["order_id"]).sale_order_id
        body = await json_body(request)
        location_id, lines = req_str(body, "locationId"), line_quantities(body)
        ctx.apply(lambda: state.collect(order_id, location_id, lines), "collect-items")
        return accepted(order_id)

    async def create_invoices(request: Request) -> Response:
        order_id = state.sale_order(request.path_params["order_id"]).sale_order_id
        specs = invoice_bodies(await json_body(request))
        ids = [state.new_id() for _ in specs]

        def write() -> None:
            for new_id, (status, currency, lines, pays) in zip(ids, specs, strict=True):
                state.invoice(order_id, lines=lines, status=status, payments=pays, currency=currency,
                              invoice_id=new_id)

        ctx.apply(write, "invoices")
        return accepted(ids[0])

    async def order_invoices(request: Request) -> Response:
        order_id = state.sale_order(request.path_params["order_id"]).sale_order_id
        return listing([invoice_json(i) for i in state.invoices(order_id)], ctx.query(request))

    async def all_invoices(request: Request) -> Response:
        return listing([invoice_json(i) for i in state.invoices()], ctx.query(request))

    return [
        Route("/v2/saleorders", list_orders, methods=["GET"]),
        Route("/v2/saleorders", create_order, methods=["POST"]),
        Route("/v2/saleorders/{order_id}", get_order, methods=["GET"]),
        Route("/v2/saleorders/{order_id}", patch_order, methods=["PATCH"]),
        Route("/v2/saleorders/{order_id}/items", order_lines, methods=["GET"]),
        Route("/v2/saleorders/{order_id}/collect-items", collect, methods=["POST"]),
        Route("/v2/saleorders/{order_id}/invoices", create_invoices, methods=["POST"]),
        Route("/v2/saleorders/{order_id}/invoices", order_invoices, methods=["GET"]),
        Route("/v0/invoices", all_invoices, methods=["GET"]),
    ]
