"""Stokly's rate limit: a fixed window per account (or per token), ``x-ratelimit-remaining`` everywhere.

Every API response (errors and injected faults included) carries ``x-ratelimit-remaining``
(confirmed). Past the limit the answer is 429 with the assumed body and a ``Retry-After``
of the seconds left in the window (both assumed). ``/_sim/`` routes are not counted.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from watchdog.simulators.stokly.base import Clock
from watchdog.simulators.stokly.settings import SettingsBox
from watchdog.stokly_assumed import MSG_RATE_LIMITED, RETRY_AFTER_HEADER, STATUS_RATE_LIMITED

__all__ = ["REMAINING_HEADER", "UNLIMITED_REMAINING", "RateLimitMiddleware", "RateWindows"]

REMAINING_HEADER = "x-ratelimit-remaining"  # confirmed
UNLIMITED_REMAINING = 1000  # what the header says when the simulator's limit is off

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RateWindows:
    """Fixed windows per key: ``hit`` counts one request and says whether it is allowed."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int, window_s: float) -> tuple[bool, int, float]:
        """(allowed, remaining after this request, seconds until the window rolls)."""
        now = self._clock().timestamp()
        with self._lock:
            start, used = self._windows.get(key, (now, 0))
            if now - start >= window_s:
                start, used = now, 0
            allowed = used < limit
            used += 1 if allowed else 0
            self._windows[key] = (start, used)
        return allowed, max(0, limit - used), max(0.0, start + window_s - now)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


class RateLimitMiddleware:
    """Outermost layer of the simulator: counts, limits, and stamps the remaining-requests header."""

    def __init__(self, app: ASGIApp, settings: SettingsBox, windows: RateWindows) -> None:
        self.app = app
        self.settings = settings
        self.windows = windows

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await self.app(scope, receive, send)
            return
        current = self.settings.current
        if current.rate_limit <= 0:
            await self.app(scope, receive, _stamped(send, UNLIMITED_REMAINING))
            return
        allowed, remaining, reset_s = self.windows.hit(self._key(scope, current.rate_limit_scope),
                                                       current.rate_limit, current.rate_window_s)
        if allowed:
            await self.app(scope, receive, _stamped(send, remaining))
            return
        body = json.dumps({"message": MSG_RATE_LIMITED}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (REMAINING_HEADER.encode(), b"0"),
                   (RETRY_AFTER_HEADER.encode(), str(max(1, math.ceil(reset_s))).encode())]
        await send({"type": "http.response.start", "status": STATUS_RATE_LIMITED, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _key(scope: Scope, per: str) -> str:
        if per != "token":
            return "account"
        auth: bytes = dict(scope.get("headers", [])).get(b"authorization", b"")
        return "token:" + auth.decode(errors="replace")


def _stamped(send: Send, remaining: int) -> Send:
    """``send`` that adds ``x-ratelimit-remaining`` to the response start."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", []) if h[0].lower() != REMAINING_HEADER.encode()]
            message = {**message, "headers": [*headers, (REMAINING_HEADER.encode(), str(remaining).encode())]}
        await send(message)

    return wrapped
