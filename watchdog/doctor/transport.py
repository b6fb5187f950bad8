"""A read-only, recording HTTP transport: the doctor's guarantee that it never writes.

Both clients of a doctor run send through ``ReadOnlyTransport``. It lets GET through, and a
POST only to the paths named as token requests (Stokly's ``/v1/grant``); anything else raises
``WriteRefused`` before a byte leaves the machine. Every answer is recorded as an ``Exchange``
(method, path, status, the server's ``Date`` and Stokly's ``x-ratelimit-remaining``) for the
clock and rate-limit checks. Nothing recorded holds a header value other than those two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["Exchange", "ReadOnlyTransport", "WriteRefused"]

REMAINING_HEADER = "x-ratelimit-remaining"


class WriteRefused(RuntimeError):
    """The doctor tried to send something other than a read or a token request (a bug)."""


@dataclass(frozen=True)
class Exchange:
    """One answered request, reduced to what the doctor's checks read."""

    method: str
    path: str
    status: int
    sent_at: datetime
    received_at: datetime
    server_date: datetime | None
    remaining: str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _server_date(response: httpx.Response) -> datetime | None:
    raw = response.headers.get("date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class ReadOnlyTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner``: refuses writes, records every answer in ``exchanges``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, token_paths: tuple[str, ...] = (),
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._inner = inner
        self._token_paths = token_paths
        self._clock = clock
        self.exchanges: list[Exchange] = []

    def allows(self, request: httpx.Request) -> bool:
        """True for a GET, or a POST to one of the token paths."""
        if request.method == "GET":
            return True
        return request.method == "POST" and request.url.path.endswith(self._token_paths or ("\0",))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` if it only reads. Raises WriteRefused otherwise."""
        if not self.allows(request):
            raise WriteRefused(f"doctor never writes: refused {request.method} {request.url.path}")
        sent = self._clock()
        response = await self._inner.handle_async_request(request)
        self.exchanges.append(Exchange(request.method, request.url.path, response.status_code, sent, self._clock(),
                                       _server_date(response), response.headers.get(REMAINING_HEADER)))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
