"""Fault injection for the simulators: an ASGI middleware plus its control routes.

Rules match ``"METHOD /path"`` by regular expression and apply one fault:

- ``latency``: sleep ``latency_s`` and then answer normally;
- ``status``: answer ``status`` (5xx by default) with the system's own error body;
- ``rate_limit``: answer 429 with ``Retry-After: retry_after`` and the system's body;
- ``timeout``: sleep ``latency_s`` (default 30 s, longer than any client timeout), then answer;
- ``malformed``: answer 200 with a body that is not JSON;
- ``truncated``: run the request, then send half the body and drop the connection (the write
  *did* happen).

A rule fires with ``probability`` (seeded RNG: runs repeat) and at most ``count`` times.
``base_latency_s`` delays every API request (benchmarks use it as network latency).
Control endpoints live under ``/_sim/faults`` and are never subject to faults.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["ErrorRenderer", "FaultInjector", "FaultMiddleware", "FaultRule", "fault_routes"]

FaultKind = Literal["latency", "status", "rate_limit", "timeout", "malformed", "truncated"]
KINDS: tuple[str, ...] = ("latency", "status", "rate_limit", "timeout", "malformed", "truncated")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: (status, retry_after) -> (body bytes, content type). Each simulator renders its own error bodies.
ErrorRenderer = Callable[[int], tuple[bytes, str]]


@dataclass
class FaultRule:
    """One injected fault. ``count=None`` means unlimited."""

    kind: FaultKind
    route: str = ".*"
    probability: float = 1.0
    count: int | None = None
    status: int = 500
    retry_after: int = 1
    latency_s: float = 0.0
    id: int = 0
    fired: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault probability {self.probability} is outside 0..1")
        self._pattern = re.compile(self.route)
        if self.kind == "timeout" and self.latency_s <= 0:
            self.latency_s = 30.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_pattern", None)
        return data


class FaultInjector:
    """Thread-safe rule book shared by the middleware and the control routes."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self.base_latency_s = 0.0
        #: requests the rules were consulted for (those under ``/_sim/`` are never counted)
        self.seen = 0

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.base_latency_s = 0.0

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first rule that matches and fires for this request (consumes one ``count``)."""
        key = f"{method} {path}"
        with self._lock:
            self.seen += 1
            for rule in self._rules:
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if not rule._pattern.search(key):
                    continue
                if self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None


class FaultMiddleware:
    """Pure ASGI middleware applying the injector's rules to every non-``/_sim/`` request."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, render_error: ErrorRenderer) -> None:
        self.app = app
        self.injector = injector
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await self.app(scope, receive, send)
            return
        if self.injector.base_latency_s > 0:
            await asyncio.sleep(self.injector.base_latency_s)
        rule = self.injector.pick(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        await self._apply(rule, scope, receive, send)

    async def _apply(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        if rule.kind in ("latency", "timeout"):
            await asyncio.sleep(rule.latency_s)
            await self.app(scope, receive, send)
        elif rule.kind == "status":
            await self._send_error(send, rule.status, {})
        elif rule.kind == "rate_limit":
            await self._send_error(send, 429, {"retry-after": str(rule.retry_after)})
        elif rule.kind == "malformed":
            await _send_raw(send, 200, b"<html><body>upstream proxy error</body>", "text/html", {})
        else:  # truncated: the request really runs; only the answer is damaged
            await self._send_truncated(scope, receive, send)

    async def _send_error(self, send: Send, status: int, headers: dict[str, str]) -> None:
        body, content_type = self.render_error(status)
        await _send_raw(send, status, body, content_type, headers)

    async def _send_truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, then send half the body under the full Content-Length and stop.

        Over real HTTP the server then drops the connection (as a dying proxy does), so even a
        bare scalar body such as ``50`` cannot arrive as a shorter, still valid ``5``.
        """
        captured: dict[str, Any] = {"status": 200, "headers": [], "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"
                ]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")

        await self.app(scope, receive, capture)
        body: bytes = captured["body"] or b"{}"
        headers = [*captured["headers"], (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": captured["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2]})


async def _send_raw(send: Send, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def fault_routes(injector: FaultInjector) -> list[Route]:
    """``/_sim/faults``: GET lists rules, POST adds one (JSON ``FaultRule`` fields), DELETE clears all.

    ``POST /_sim/latency`` with ``{"base_latency_ms": 25}`` sets the latency of every request.
    """

    async def list_or_add(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([r.to_json() for r in injector.rules()])
        if request.method == "DELETE":
            injector.clear()
            return JSONResponse({"cleared": True})
        try:
            payload = json.loads(await request.body())
            rule = injector.add(FaultRule(**payload))
        except (TypeError, ValueError, re.error) as exc:
            return JSONResponse({"message": f"bad fault rule: {exc}"}, status_code=400)
        return JSONResponse(rule.to_json(), status_code=201)

    async def latency(request: Request) -> Response:
        try:
            ms = float(json.loads(await request.body())["base_latency_ms"])
        except (KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"message": f"expected {{'base_latency_ms': number}}: {exc}"}, status_code=400)
        injector.base_latency_s = max(0.0, ms / 1000.0)
        return JSONResponse({"base_latency_ms": ms})

    return [
        Route("/_sim/faults", list_or_add, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/latency", latency, methods=["POST"]),
    ]
