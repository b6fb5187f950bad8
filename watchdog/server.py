"""The HTTP surface of the service: ``/metrics``, ``/healthz``, ``/readyz`` and ``/findings``.

``/metrics`` speaks the Prometheus text format, or OpenMetrics when the scraper asks
for it (Prometheus does). A scrape may read the store (see ``watchdog.metrics``), so it
runs in a worker thread, never on the event loop.

``/healthz`` answers 200, or 503 when a source has been down longer than the grace or the
database is unreachable; ``/readyz`` answers 503 only for the database (the service cannot work
at all). Both bodies are the same JSON (``watchdog.health.assess``): ``failing`` names each cause,
``down`` each source that is down, since when and why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from watchdog.health import DEFAULT_GRACE, Health, assess
from watchdog.metrics import Metrics

__all__ = ["create_app", "render_metrics"]


def render_metrics(metrics: Metrics, accept: str = "") -> tuple[bytes, str]:
    """One scrape of ``metrics``: the exposition bytes and their content type for an ``Accept`` header."""
    encoder, content_type = choose_encoder(accept)
    return encoder(metrics.registry), content_type


def create_app(metrics: Metrics, findings: Callable[[], list[dict[str, Any]]] | None = None, *,
               health: Callable[[], Health] | None = None) -> Starlette:
    """The service's ASGI app. ``findings`` returns the current findings as JSON-ready dicts;
    ``health`` the verdict (it may probe the database: it runs in a worker thread). Without it, the
    sources on ``metrics`` are judged with the default grace and no database."""

    def judge() -> Health:
        return assess(metrics.health.sources(), datetime.now(UTC), DEFAULT_GRACE, None)

    async def scrape(request: Request) -> Response:
        body, content_type = await run_in_threadpool(render_metrics, metrics, request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    async def healthz(_: Request) -> Response:
        verdict = await run_in_threadpool(health or judge)
        return JSONResponse(verdict.body, status_code=200 if verdict.healthy else 503)

    async def readyz(_: Request) -> Response:
        verdict = await run_in_threadpool(health or judge)
        return JSONResponse(verdict.body, status_code=200 if verdict.ready else 503)

    async def list_findings(_: Request) -> Response:
        rows = await run_in_threadpool(findings) if findings is not None else []
        return JSONResponse(rows)

    return Starlette(routes=[
        Route("/metrics", scrape), Route("/healthz", healthz), Route("/readyz", readyz),
        Route("/findings", list_findings),
    ])
