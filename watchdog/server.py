"""The HTTP surface of the service: ``/metrics``, ``/healthz`` and ``/findings``.

``/metrics`` speaks the Prometheus text format, or OpenMetrics when the scraper asks
for it (Prometheus does). A scrape may read the store (see ``watchdog.metrics``), so it
runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from watchdog.metrics import Metrics

__all__ = ["create_app", "render_metrics"]


def render_metrics(metrics: Metrics, accept: str = "") -> tuple[bytes, str]:
    """One scrape of ``metrics``: the exposition bytes and their content type for an ``Accept`` header."""
    encoder, content_type = choose_encoder(accept)
    return encoder(metrics.registry), content_type


def create_app(metrics: Metrics, findings: Callable[[], list[dict[str, Any]]] | None = None) -> Starlette:
    """The service's ASGI app. ``findings`` returns the current findings as JSON-ready dicts."""

    async def scrape(request: Request) -> Response:
        body, content_type = await run_in_threadpool(render_metrics, metrics, request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    async def healthz(_: Request) -> Response:
        sources = {f"{i}/{s}": state.up for (i, s), state in metrics.health.sources().items()}
        return JSONResponse({"status": "ok", "sources": sources})

    async def list_findings(_: Request) -> Response:
        rows = await run_in_threadpool(findings) if findings is not None else []
        return JSONResponse(rows)

    return Starlette(routes=[
        Route("/metrics", scrape), Route("/healthz", healthz), Route("/findings", list_findings),
    ])
