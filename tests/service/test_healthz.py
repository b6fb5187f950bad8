"""``/healthz`` and ``/readyz``: 503 with the reason while a source is down beyond the grace or the
database does not answer, 200 again after recovery.

The verdict on its own (``assess``), the HTTP surface on a served Stokly simulator whose routes all
answer 5xx (``/_sim/faults``), an unreachable database, and ``watchdog run`` as a real process.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from tests.service.kit import (
    CREDENTIALS,
    FAST,
    SECRETS,
    ServiceProcess,
    env_for,
    free_port,
    integration_toml,
    migrate,
    served_merchant,
    tiny_merchant,
    wait_for,
)
from watchdog.clients import ClientOptions, Clients, open_clients
from watchdog.config import load_config
from watchdog.connectors.http import RetryPolicy, UpstreamError
from watchdog.health import HealthBoard, assess, probe_database
from watchdog.logs import Masker
from watchdog.metrics import Metrics
from watchdog.server import create_app
from watchdog.simulators.embedded import EmbeddedSystems
from watchdog.simulators.serve import ServedApp
from watchdog.store.db import open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GRACE = timedelta(minutes=10)
NAME = "acme-uk"


# ------------------------------------------------------------------ the verdict


def test_a_source_down_within_the_grace_is_reported_but_healthy() -> None:
    board = HealthBoard()
    board.set_source(NAME, "magento", True, T0)
    board.set_source(NAME, "stokly", False, T0, "stokly /v0/items HTTP 503 (transient): unavailable")
    board.set_source(NAME, "stokly", False, T0 + timedelta(minutes=4), "stokly /v0/items HTTP 502 (transient): bad")
    health = assess(board.sources(), T0 + timedelta(minutes=5), GRACE, None)
    assert (health.healthy, health.ready) == (True, True)
    assert health.body["down"] == [{"integration": NAME, "system": "stokly", "since": T0.isoformat(),
                                    "seconds": 300.0, "beyond_grace": False,
                                    "reason": "stokly /v0/items HTTP 502 (transient): bad"}]


def test_beyond_the_grace_it_is_unhealthy_and_says_which() -> None:
    board = HealthBoard()
    board.set_source(NAME, "stokly", False, T0, "timed out")
    health = assess(board.sources(), T0 + GRACE, GRACE, None)
    assert (health.healthy, health.ready) == (False, True)
    assert health.body["status"] == "unhealthy"
    assert health.body["failing"] == [f"{NAME}/stokly"]
    board.set_source(NAME, "stokly", True, T0 + GRACE)
    assert assess(board.sources(), T0 + 2 * GRACE, GRACE, None).healthy


def test_an_unreachable_database_is_unhealthy_and_not_ready(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/missing-dir/w.db")
    try:
        reason = probe_database(store)
    finally:
        store.dispose()
    assert reason == "database unreachable (OperationalError)"
    health = assess({}, T0, GRACE, reason)
    assert (health.healthy, health.ready, health.body["failing"]) == (False, False, ["database"])
    good = open_store(f"sqlite:///{tmp_path}/w.db")
    try:
        assert probe_database(good) is None
    finally:
        good.dispose()


def test_reasons_are_masked() -> None:
    board = HealthBoard()
    board.set_source(NAME, "stokly", False, T0, f"refused {CREDENTIALS.stokly_client_secret}")
    body = json.dumps(assess(board.sources(), T0, GRACE, None, Masker(SECRETS)).body)
    assert CREDENTIALS.stokly_client_secret not in body
    assert "**********" in body


# ------------------------------------------------------------------ over HTTP, with a fake clock


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def systems() -> Iterator[EmbeddedSystems]:
    with EmbeddedSystems(tiny_merchant(), credentials=CREDENTIALS) as served:
        yield served


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics(clock: Clock) -> Metrics:
    return Metrics(CollectorRegistry(), now=clock)


@pytest.fixture
def watchdog_url(metrics: Metrics, clock: Clock) -> Iterator[str]:
    app = create_app(metrics, health=lambda: assess(metrics.health.sources(), clock(), GRACE, None))
    with ServedApp(app, name="watchdog-http") as served:
        yield served.url


@pytest.fixture
async def clients(systems: EmbeddedSystems, metrics: Metrics) -> AsyncIterator[Clients]:
    options = ClientOptions(retry=RetryPolicy(attempts=2, base_s=0.001, cap_s=0.002))
    async with open_clients(systems.integration_config(NAME), observer=metrics.observer(NAME), options=options) as c:
        yield c


async def test_healthz_is_503_during_an_outage_and_200_after(
        clients: Clients, systems: EmbeddedSystems, watchdog_url: str, clock: Clock) -> None:
    await clients.stokly.locations()
    assert httpx.get(f"{watchdog_url}/healthz").status_code == 200

    httpx.post(f"{systems.stokly_url}/_sim/faults", json={"kind": "status", "route": ".*", "status": 503})
    with pytest.raises(UpstreamError):
        await clients.stokly.channels()
    assert httpx.get(f"{watchdog_url}/healthz").status_code == 200  # within the grace
    clock.now += GRACE

    down = httpx.get(f"{watchdog_url}/healthz")
    assert down.status_code == 503
    body = down.json()
    assert body["failing"] == [f"{NAME}/stokly"]
    [stokly] = body["down"]
    assert (stokly["integration"], stokly["system"], stokly["beyond_grace"]) == (NAME, "stokly", True)
    assert "HTTP 503" in stokly["reason"]
    assert httpx.get(f"{watchdog_url}/readyz").status_code == 200  # the service itself can work

    httpx.delete(f"{systems.stokly_url}/_sim/faults")
    await clients.stokly.channels()
    healed = httpx.get(f"{watchdog_url}/healthz")
    assert (healed.status_code, healed.json()["down"], healed.json()["status"]) == (200, [], "ok")


# ------------------------------------------------------------------ watchdog run, a real process


def test_watchdog_run_answers_503_while_stokly_is_down_and_200_after(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/watchdog.db"
    migrate(db_url)
    port = free_port()
    with served_merchant(3) as systems:
        config = tmp_path / "watchdog.toml"
        config.write_text("".join([
            f'[server]\nlisten = "127.0.0.1:{port}"\nsource_down_grace = "1s"\n', f'[database]\nurl = "{db_url}"\n',
            integration_toml("acme", systems, timeout_s=2), "\n[schedule]\n",
            *(f'{k} = "{v}"\n' for k, v in FAST.items())]))
        assert load_config(config, env_for(["acme"])).server.source_down_grace == timedelta(seconds=1)
        service = ServiceProcess(config, port, tmp_path / "service.log", env_for(["acme"]))
        try:
            service.wait_ready()
            httpx.post(f"{systems.stokly_url}/_sim/faults", json={"kind": "status", "route": ".*", "status": 503})
            down = wait_for(lambda: _answer(service.url, 503), 20, "/healthz 503 while Stokly is down")
            httpx.delete(f"{systems.stokly_url}/_sim/faults")
            wait_for(lambda: _answer(service.url, 200), 20, "/healthz 200 after Stokly recovered")
        finally:
            service.terminate()
    assert down["failing"] == ["acme/stokly"]
    assert "HTTP 503" in down["down"][0]["reason"]
    assert down["database"] == {"up": True, "reason": ""}
    log = (tmp_path / "service.log").read_text()
    for secret in SECRETS:
        assert secret not in log
        assert secret not in json.dumps(down)
    warnings = [json.loads(line) for line in log.splitlines() if '"level": "warning"' in line]
    assert any(w.get("system") == "stokly" and w.get("integration") == "acme" and w.get("route") for w in warnings)


def _answer(url: str, status: int) -> dict[str, Any] | None:
    try:
        response = httpx.get(f"{url}/healthz", timeout=2)
    except httpx.HTTPError:
        return None
    if response.status_code != status:
        return None
    body: dict[str, Any] = response.json()
    return body
