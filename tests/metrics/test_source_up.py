"""``watchdog_source_up`` and ``watchdog_source_requests_total`` follow every request, over real HTTP.

Both simulators are served on loopback; outages are injected through their ``/_sim/faults``
control routes. Each test has a fresh registry.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import CollectorRegistry

from tests.service.kit import CREDENTIALS, SECRETS, free_port, tiny_merchant
from watchdog.clients import ClientOptions, Clients, open_clients
from watchdog.config import IntegrationConfig
from watchdog.connectors.http import RetryPolicy, UpstreamError
from watchdog.metrics import Metrics
from watchdog.simulators.embedded import EmbeddedSystems

FAST = RetryPolicy(attempts=3, base_s=0.001, cap_s=0.002)
NAME = "acme-uk"


def fault(url: str, **rule: object) -> None:
    httpx.post(f"{url}/_sim/faults", json=rule, timeout=5).raise_for_status()


def heal(url: str) -> None:
    httpx.delete(f"{url}/_sim/faults", timeout=5).raise_for_status()


@pytest.fixture(scope="module")
def systems() -> Iterator[EmbeddedSystems]:
    with EmbeddedSystems(tiny_merchant(), credentials=CREDENTIALS) as served:
        yield served


@pytest.fixture
def integration(systems: EmbeddedSystems) -> Iterator[IntegrationConfig]:
    yield systems.integration_config(NAME)
    heal(systems.magento_url)
    heal(systems.stokly_url)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
async def clients(integration: IntegrationConfig, metrics: Metrics) -> AsyncIterator[Clients]:
    async with open_clients(integration, observer=metrics.observer(NAME), options=ClientOptions(retry=FAST)) as c:
        yield c


def up(metrics: Metrics, system: str) -> float | None:
    return metrics.registry.get_sample_value("watchdog_source_up", {"integration": NAME, "system": system})


def requests(metrics: Metrics, system: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value("watchdog_source_requests_total",
                                              {"integration": NAME, "system": system, "outcome": outcome})
    return value or 0.0


async def test_retries_that_run_out_count_as_one_error(clients: Clients, metrics: Metrics,
                                                       systems: EmbeddedSystems) -> None:
    await clients.stokly.locations()  # the grant, and one good read
    fault(systems.stokly_url, kind="status", route="GET /v0/locations", status=503)
    with pytest.raises(UpstreamError):
        await clients.stokly.locations()
    assert (requests(metrics, "stokly", "ok"), requests(metrics, "stokly", "retry"),
            requests(metrics, "stokly", "error")) == (1.0, 2.0, 1.0)


async def test_every_request_moves_source_up_not_only_checks(clients: Clients, metrics: Metrics,
                                                             systems: EmbeddedSystems) -> None:
    assert up(metrics, "magento") is None  # nothing known before the first request
    await clients.magento.sources()
    await clients.stokly.locations()
    assert (up(metrics, "magento"), up(metrics, "stokly")) == (1.0, 1.0)

    fault(systems.stokly_url, kind="status", route=".*", status=502)
    with pytest.raises(UpstreamError):
        await clients.stokly.channels()
    await clients.magento.sources()  # a sync against Magento goes on meanwhile
    assert (up(metrics, "magento"), up(metrics, "stokly")) == (1.0, 0.0)
    state = metrics.health.sources()[(NAME, "stokly")]
    assert "HTTP 502" in state.reason
    assert "/v0/channels" in state.reason

    heal(systems.stokly_url)
    await clients.stokly.channels()
    assert up(metrics, "stokly") == 1.0
    assert metrics.health.sources()[(NAME, "stokly")].reason == ""


async def test_a_connection_refused_marks_the_source_down(metrics: Metrics, integration: IntegrationConfig) -> None:
    gone = replace(integration, magento=replace(integration.magento, base_url=f"http://127.0.0.1:{free_port()}"))
    async with open_clients(gone, observer=metrics.observer(NAME), options=ClientOptions(retry=FAST)) as c:
        with pytest.raises(UpstreamError):
            await c.magento.sources()
    assert up(metrics, "magento") == 0.0
    assert "network error" in metrics.health.sources()[(NAME, "magento")].reason


async def test_an_answer_about_the_request_is_not_an_outage(clients: Clients, metrics: Metrics) -> None:
    await clients.magento.sources()
    with pytest.raises(UpstreamError) as caught:
        await clients.magento.order(987654)
    assert caught.value.status == 404
    assert up(metrics, "magento") == 1.0
    assert requests(metrics, "magento", "error") == 1.0


async def test_the_engine_report_still_counts(metrics: Metrics) -> None:
    metrics.source_checked(NAME, "magento", False, datetime(2026, 1, 1, tzinfo=UTC), "Magento could not be read")
    assert up(metrics, "magento") == 0.0


async def test_a_failed_request_is_logged_once_at_warning_without_secrets(
        clients: Clients, systems: EmbeddedSystems, caplog: pytest.LogCaptureFixture) -> None:
    await clients.stokly.locations()
    fault(systems.stokly_url, kind="status", route="GET /v2/saleorders", status=500)
    with caplog.at_level(logging.DEBUG), pytest.raises(UpstreamError):
        await clients.stokly.sale_orders()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    record = warnings[0]
    assert (record.integration, record.system, record.route, record.status) == (  # type: ignore[attr-defined]
        NAME, "stokly", "/v2/saleorders", 500)
    assert record.reason  # type: ignore[attr-defined]
    assert "/v2/saleorders" in record.getMessage()
    assert NAME in record.getMessage()
    for secret in SECRETS:
        assert secret not in caplog.text


def test_unreadable_records_are_counted_by_route(metrics: Metrics) -> None:
    metrics.upstream_unreadable(NAME, "stokly", "/v2/saleorders", 3)
    metrics.upstream_unreadable(NAME, "stokly", "/v2/saleorders", 0)
    metrics.upstream_unreadable(NAME, "stokly", "/v2/saleorders", 2)
    assert metrics.registry.get_sample_value("watchdog_upstream_unreadable_records_total", {
        "integration": NAME, "system": "stokly", "route": "/v2/saleorders"}) == 5.0
