"""``create_app``: the simulated Stokly REST API as an ASGI app (in-process or over real HTTP).

Layers, outermost first: rate limit (and ``x-ratelimit-remaining`` on every API response)
-> fault injection -> gate (due deferred writes, bearer token) -> routes. ``/_sim/`` routes
pass every layer untouched. Errors are Stokly's body ``{"message": ...}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from watchdog.simulators.faults import FaultInjector, FaultMiddleware
from watchdog.simulators.stokly.auth import TokenBook
from watchdog.simulators.stokly.context import GRANT_PATH, GateMiddleware, SimContext
from watchdog.simulators.stokly.control import control_routes
from watchdog.simulators.stokly.ratelimit import RateLimitMiddleware, RateWindows, Receive, Scope, Send
from watchdog.simulators.stokly.records import SimError
from watchdog.simulators.stokly.routes_assumed import assumed_routes
from watchdog.simulators.stokly.routes_catalog import catalog_routes
from watchdog.simulators.stokly.routes_sales import sales_routes
from watchdog.simulators.stokly.routes_stock import stock_routes
from watchdog.simulators.stokly.settings import SettingsBox, StoklySimSettings
from watchdog.simulators.stokly.shape import ShapeRules, shaped_routes
from watchdog.simulators.stokly.state import StoklyState
from watchdog.simulators.stokly.web import ApiError, error_response, iso, json_body, render_error, req_str
from watchdog.stokly_assumed import MSG_NOT_FOUND, TOKEN_TYPE

__all__ = ["StoklySimApp", "create_app"]


class StoklySimApp:
    """The ASGI app plus handles on what tests and scenarios tune: state, settings, tokens, faults."""

    def __init__(self, ctx: SimContext, asgi: RateLimitMiddleware) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.settings = ctx.settings
        self.tokens = ctx.tokens
        self.faults = ctx.faults
        self._asgi = asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)


def create_app(
    state: StoklyState, *, settings: StoklySimSettings | None = None, faults: FaultInjector | None = None,
    shape: ShapeRules | None = None,
) -> StoklySimApp:
    """Serve ``state`` as Stokly's REST API (reads shaped by ``shape``, default: every field); returns an
    ASGI app (usable with ``ServedApp``)."""
    ctx = SimContext(state, SettingsBox(settings or StoklySimSettings(), shape), TokenBook(state.clock),
                     RateWindows(state.clock), faults or FaultInjector())
    routes = [Route(GRANT_PATH, _grant_handler(ctx), methods=["POST"]), *catalog_routes(ctx),
              *stock_routes(ctx), *sales_routes(ctx), *assumed_routes(ctx), *control_routes(ctx)]
    router = Starlette(routes=shaped_routes(routes, ctx.settings), exception_handlers={
        SimError: _sim_error, ApiError: _api_error, HTTPException: _http_error})
    gated = GateMiddleware(router, ctx)
    faulty = FaultMiddleware(gated, ctx.faults, render_error)
    return StoklySimApp(ctx, RateLimitMiddleware(faulty, ctx.settings, ctx.windows))


def _grant_handler(ctx: SimContext) -> Callable[[Request], Awaitable[Response]]:
    async def grant(request: Request) -> Response:
        body = await json_body(request)
        token = ctx.tokens.grant(ctx.settings.current, req_str(body, "accountkey"), req_str(body, "clientId"),
                                 req_str(body, "signature"))
        expiry = iso(token.expiry) if token.expiry is not None else None
        result = {"accessToken": token.value, "expiry": expiry, "tokenType": TOKEN_TYPE}
        return JSONResponse({"data": {"authenticationResult": result}})

    return grant


async def _sim_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SimError)
    return error_response(exc.status, exc.message)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, MSG_NOT_FOUND if exc.status_code == 404 else str(exc.detail))
