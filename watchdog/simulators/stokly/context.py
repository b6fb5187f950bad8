"""What every route handler of the simulator shares, and the gate in front of the routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from watchdog.simulators.faults import FaultInjector
from watchdog.simulators.stokly.auth import TokenBook
from watchdog.simulators.stokly.ratelimit import ASGIApp, RateWindows, Receive, Scope, Send
from watchdog.simulators.stokly.settings import SettingsBox
from watchdog.simulators.stokly.state import StoklyState
from watchdog.simulators.stokly.web import ApiError, ListQuery, error_response, list_query

__all__ = ["GRANT_PATH", "GateMiddleware", "SimContext"]

GRANT_PATH = "/v1/grant"


@dataclass(frozen=True)
class SimContext:
    """The account, its settings, tokens, rate windows and fault rules."""

    state: StoklyState
    settings: SettingsBox
    tokens: TokenBook
    windows: RateWindows
    faults: FaultInjector

    def query(self, request: Request) -> ListQuery:
        """The list parameters of a request; raises ApiError 400."""
        return list_query(request, self.settings.current)

    def apply(self, write: Callable[[], Any], label: str) -> None:
        """Run a write now, or (with a consistency delay) later; SimError propagates when run now."""
        delay = self.settings.current.consistency_delay_s
        if delay > 0:
            self.state.defer(delay, write, label)
        else:
            write()


class GateMiddleware:
    """Applies due deferred writes, then demands a valid bearer token (except on the grant)."""

    def __init__(self, app: ASGIApp, ctx: SimContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await self.app(scope, receive, send)
            return
        self.ctx.state.settle()
        if scope["path"] != GRANT_PATH:
            header = dict(scope.get("headers", [])).get(b"authorization")
            try:
                self.ctx.tokens.check(header.decode(errors="replace") if header else None)
            except ApiError as exc:
                await error_response(exc.status, exc.message)(scope, receive, send)
                return
        await self.app(scope, receive, send)
