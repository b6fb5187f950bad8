"""``create_app(state)``: the simulated Magento REST API as an ASGI app.

Routes answer under ``/rest/V1/...``, ``/rest/<store>/V1/...`` (stores ``default`` and ``all``)
and ``/rest/[<store>/]async/bulk/V1/...``; everything is wrapped by the fault middleware, and the
control plane lives under ``/_sim/``. Request processing follows Magento's order: route match
(404), ``GET`` on store ``all`` (400), authentication and ACL (401), input, service call.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from watchdog.simulators.faults import (
    ASGIApp,
    FaultInjector,
    FaultMiddleware,
    Message,
    Receive,
    Scope,
    Send,
    fault_routes,
)

from . import routes_catalog, routes_inventory, routes_sales
from .auth import authenticate
from .control import control_routes
from .errors import GET_ON_ALL, INTERNAL, NOT_AUTHORIZED, ROUTE_NOT_FOUND, MagentoError, Phrase, render_fault
from .fields import parse_fields, trim
from .render import dumps, json_response
from .routing import ApiRoute, Call, UnknownColumn
from .settings import SimSettings
from .state import MagentoState

__all__ = ["create_app"]

log = logging.getLogger(__name__)

API_ROUTES: list[ApiRoute] = [*routes_catalog.ROUTES, *routes_inventory.ROUTES, *routes_sales.ROUTES]
STORES = ("default", "all")


def create_app(state: MagentoState, *, settings: SimSettings | None = None,
               injector: FaultInjector | None = None) -> BufferedBody:
    """The ASGI app serving ``state``; ``settings`` (if given) replace the state's settings.

    ``injector`` defaults to a fresh ``FaultInjector``; it is reachable as ``app.injector``. The
    returned app buffers each request body before the fault middleware runs (see ``BufferedBody``).
    """
    if settings is not None:
        with state.lock:
            state.settings = settings
    faults = injector or FaultInjector()

    async def rest(request: Request) -> Response:
        return await _dispatch(state, request)

    starlette = Starlette(routes=[
        *fault_routes(faults), *control_routes(state),
        Route("/rest/{path:path}", rest, methods=["GET", "POST", "PUT", "DELETE"]),
    ])
    app = BufferedBody(FaultMiddleware(starlette, faults, lambda status: render_fault(status, _report_id())))
    app.injector = faults
    return app


class BufferedBody:
    """Receive the whole request body before anything else runs, as PHP does.

    A fault that delays the answer then cannot keep a write from happening: the client may give
    up (a timeout), but the write still runs, which is exactly the ambiguity clients must handle.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.injector: FaultInjector | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body"))
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def buffered() -> Message:
            return replay.pop() if replay else {"type": "http.disconnect"}

        await self.app(scope, buffered, send)


def _report_id() -> str:
    """A ``uniqid``-like report id (not from the seeded RNG, so faults never shift seeded ids)."""
    return uuid.uuid4().hex[:13]


def _split(path: str) -> tuple[str | None, str, bool]:
    """(store code, ``/V1/...`` path, async?) for the part after ``/rest/``."""
    parts = path.split("/")
    store = parts[0] if parts and parts[0] in STORES else None
    rest = parts[1:] if store else parts
    if rest[:2] == ["async", "bulk"]:
        return store, "/" + "/".join(rest[2:]), True
    return store, "/" + "/".join(rest), False


def _match(method: str, path: str, is_async: bool) -> tuple[ApiRoute, dict[str, str]] | None:
    for api_route in API_ROUTES:
        params = api_route.match(method, path, is_async)
        if params is not None:
            return api_route, params
    return None


async def _dispatch(state: MagentoState, request: Request) -> Response:
    raw_path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    store, path, is_async = _split(raw_path.split("?", 1)[0].removeprefix("/rest/"))
    found = _match(request.method, path, is_async)
    try:
        if found is None:
            raise MagentoError(404, Phrase(ROUTE_NOT_FOUND))
        api_route, params = found
        if store == "all" and request.method == "GET":
            raise MagentoError(400, Phrase(GET_ON_ALL))
        body = await _body(request)
        with state.lock:
            principal = authenticate(state, request.method, _signed_url(request), request.headers.get("authorization"))
            if api_route.acl is not None and (principal is None or not principal.allowed(api_route.acl)):
                raise MagentoError(401, Phrase(NOT_AUTHORIZED, {"resources": api_route.acl}))
            call = Call(state, request.method, params, request.query_params.multi_items(), body, principal)
            result = api_route.handler(call)
        tree = parse_fields(request.query_params.get("fields", ""))
        if tree is not None:
            result = trim(json.loads(dumps(result)), tree)
        return json_response(result, api_route.status)
    except MagentoError as exc:
        return json_response(exc.body(), exc.status, exc.headers or None)
    except UnknownColumn as exc:  # MySQL: "Column not found" -> masked like any unexpected error
        report = _report_id()
        log.warning("unknown searchCriteria column %r (report webapi-%s)", str(exc), report)
        return json_response({"message": INTERNAL.format(report=report)}, 500)
    except Exception:
        report = _report_id()
        log.exception("simulated Magento failed (report webapi-%s)", report)
        return json_response({"message": INTERNAL.format(report=report)}, 500)


def _signed_url(request: Request) -> str:
    """scheme://host[:port]/raw-path?raw-query exactly as the client sent it."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    host = request.headers.get("host", request.url.netloc)
    url = f"{request.url.scheme}://{host}{raw_path.decode('latin-1')}"
    return f"{url}?{query.decode('latin-1')}" if query else url


async def _body(request: Request) -> Any:
    if request.method not in ("POST", "PUT"):
        return None
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise MagentoError(400, Phrase("Decoding error.")) from None
