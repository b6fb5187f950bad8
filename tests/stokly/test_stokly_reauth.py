"""Any 401 gets one fresh grant and one retry: revoked and rotated tokens, over real HTTP.

The simulator revokes its tokens (``POST /_sim/revoke-tokens``, as after a restart) or rotates the
client secret as well; the connector must grant again and carry on, or fail once and say why.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import httpx
import pytest
from prometheus_client import CollectorRegistry

from tests.http_kit import Counting
from tests.stokly.conftest import MakeClient, Merchant
from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.stokly import StoklyClient
from watchdog.metrics import Metrics
from watchdog.simulators.faults import FaultRule
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly import StoklySimApp, StoklySimSettings


def control(served: ServedApp, path: str, body: dict[str, str] | None = None) -> dict[str, object]:
    response = httpx.post(f"{served.url}/_sim/{path}", json=body or {}, timeout=5)
    response.raise_for_status()
    result: dict[str, object] = response.json()
    return result


def grants(served: ServedApp) -> int:
    return int(httpx.get(f"{served.url}/_sim/state", timeout=5).json()["grants"])


@pytest.fixture
def counting() -> Counting:
    return Counting()


@pytest.fixture
def client(make_client: MakeClient, served: ServedApp, counting: Counting) -> StoklyClient:
    return make_client(url=served.url, transport=counting)


async def test_a_revoked_token_is_replaced_and_the_request_succeeds(
        client: StoklyClient, served: ServedApp, merchant: Merchant) -> None:
    assert len(await client.locations()) == 2
    assert control(served, "revoke-tokens") == {"revoked": 1, "rotated": False}
    assert {c.channel_id for c in await client.channels()} == {merchant.channel}  # 401 invalid token, then ok
    assert grants(served) == 2
    assert client.auth.grants == 2


async def test_concurrent_requests_share_one_new_grant(client: StoklyClient, served: ServedApp,
                                                       merchant: Merchant) -> None:
    await client.locations()
    control(served, "revoke-tokens")
    results = await asyncio.gather(*(client.locations() for _ in range(6)))
    assert all(len(r) == 2 for r in results)
    assert grants(served) == 2  # six 401s, one fresh grant


async def test_a_rotated_secret_fails_once_permanently_without_a_loop(
        client: StoklyClient, counting: Counting, served: ServedApp, merchant: Merchant,
        caplog: pytest.LogCaptureFixture, settings: StoklySimSettings) -> None:
    await client.locations()
    control(served, "revoke-tokens", {"clientSecret": "rotated-secret-9f2c"})
    before = counting.paths.copy()
    with caplog.at_level(logging.INFO), pytest.raises(UpstreamError) as caught:
        await client.locations()
    assert (caught.value.kind, caught.value.status, caught.value.route) == (ErrorKind.PERMANENT, 401, "/v1/grant")
    assert counting.paths - before == Counter({"/v0/locations": 1, "/v1/grant": 1})  # one 401, one refused grant
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    with pytest.raises(UpstreamError):
        await client.locations()  # the refused token is never sent again: straight to the grant
    assert counting.paths - before == Counter({"/v0/locations": 1, "/v1/grant": 2})
    for secret in (settings.client_secret, "rotated-secret-9f2c"):
        assert secret not in caplog.text


async def test_a_second_401_is_a_failure_after_exactly_one_retry(
        make_client: MakeClient, sim: StoklySimApp, served: ServedApp, merchant: Merchant) -> None:
    metrics = Metrics(CollectorRegistry())
    transport = Counting()
    client = make_client(url=served.url, transport=transport, observer=metrics.observer("acme"))
    await client.locations()
    sim.faults.add(FaultRule("status", route="GET /v0/locations", status=401))  # every token refused there
    with pytest.raises(UpstreamError) as caught:
        await client.locations()
    assert (caught.value.kind, caught.value.status) == (ErrorKind.PERMANENT, 401)
    assert "fresh grant" in caught.value.message
    assert transport.paths == Counter({"/v0/locations": 3, "/v1/grant": 2})  # ok; then 401, grant, 401
    labels = {"integration": "acme", "system": "stokly"}
    assert metrics.registry.get_sample_value("watchdog_source_requests_total", {**labels, "outcome": "error"}) == 1
    assert metrics.registry.get_sample_value("watchdog_source_up", labels) == 0.0
