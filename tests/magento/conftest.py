"""Fixtures for the Magento simulator and connector tests (helpers live in ``magento_kit``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from magento_kit import START, Contract, Recorder, seed_catalog

from watchdog.simulators.magento import IntegrationCredentials, MagentoState, SimClock, create_app
from watchdog.simulators.serve import ServedApp


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract()


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def state(clock: SimClock) -> MagentoState:
    store = MagentoState(seed=7, clock=clock)
    seed_catalog(store)
    return store


@pytest.fixture
def creds(state: MagentoState) -> IntegrationCredentials:
    return state.add_integration("stokly")


@pytest.fixture
def app(state: MagentoState) -> Any:
    return create_app(state)


@pytest.fixture
async def api(app: Any, creds: IntegrationCredentials) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client on the simulator (in-process), authenticated as the integration (Bearer).

    Every exchange is kept in ``api.recorder.exchanges`` for the contract checks.
    """
    recorder = Recorder(httpx.ASGITransport(app))
    headers = {"Authorization": f"Bearer {creds.access_token}"}
    async with httpx.AsyncClient(transport=recorder, base_url="https://magento.test", headers=headers) as client:
        client.recorder = recorder  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def served(app: Any) -> Iterator[ServedApp]:
    """The simulator over real HTTP on loopback."""
    with ServedApp(app, name="magento") as server:
        yield server
