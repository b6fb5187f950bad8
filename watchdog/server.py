"""The HTTP surface of the service: ``/metrics``, ``/healthz`` and ``/findings``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from watchdog.metrics import Metrics

__all__ = ["create_app"]


def create_app(metrics: Metrics, findings: Callable[[], list[dict[str, Any]]] | None = None) -> Starlette:
    """The service's ASGI app. ``findings`` returns the current findings as JSON-ready dicts."""

    async def scrape(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        sources = {f"{i}/{s}": state.up for (i, s), state in metrics.health.sources().items()}
        return JSONResponse({"status": "ok", "sources": sources})

    async def list_findings(_: Request) -> Response:
        return JSONResponse(findings() if findings is not None else [])

    return Starlette(routes=[
        Route("/metrics", scrape), Route("/healthz", healthz), Route("/findings", list_findings),
    ])
