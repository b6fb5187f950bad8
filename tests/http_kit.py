"""A real HTTP transport that counts the requests going through it, by path (a fake at the seam)."""

from __future__ import annotations

from collections import Counter

import httpx


class Counting(httpx.AsyncBaseTransport):
    """Sends every request over real HTTP and counts it by path in ``paths``."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paths: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
