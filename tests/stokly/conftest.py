"""Fixtures for the Stokly simulator and connector tests.

A fake clock drives the simulated account (token expiry, rate windows, consistency delay)
and the connector (refresh); the connector's ``sleep`` advances the same clock, so retry and
back-off waits cost no real time and can be asserted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from watchdog.connectors.http import RetryPolicy
from watchdog.connectors.stokly import StoklyClient, StoklyCredentials
from watchdog.secret import Secret
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly import StoklySimApp, StoklySimSettings, StoklyState, create_app, sign

START = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)
FAST_RETRY = RetryPolicy(attempts=4, base_s=0.001, cap_s=0.004, max_retry_after_s=120.0)


class FakeClock:
    """A settable UTC clock, safe to read from the server thread."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Sleeps:
    """The connector's ``sleep``: records each wait and advances the fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Merchant:
    """Ids of the standard test merchant."""

    warehouse: str
    shop: str  # a second location, not designated for Magento
    widget: str  # simple, 20 on hand at the warehouse
    gadget: str  # simple, 10 on hand at the warehouse, 3 at the shop
    kit: str  # composite: 1 widget + 2 gadgets
    tee: str  # variable parent of tee_s and tee_m
    tee_s: str
    tee_m: str
    channel: str  # Magento channel, allocating at the warehouse
    customer: str


def build_merchant(state: StoklyState) -> Merchant:
    """Locations, items (simple, kit, variable), stock, a Magento channel and a customer."""
    warehouse, shop = state.add_location("Warehouse"), state.add_location("Shop")
    widget = state.add_item("WID-1", "Widget", barcodes=["5055759212513"])
    gadget = state.add_item("GAD-1", "Gadget")
    kit = state.add_kit("KIT-1", "Widget kit", [(widget, 1), (gadget, 2)])
    tee_s, tee_m = state.add_item("TEE-S", "Tee S"), state.add_item("TEE-M", "Tee M")
    tee = state.add_variable_item("TEE", "Tee", [tee_s, tee_m])
    state.set_stock(widget, warehouse, 20)
    state.set_stock(gadget, warehouse, 10)
    state.set_stock(gadget, shop, 3)
    state.set_stock(tee_s, warehouse, 5)
    channel = state.add_channel("Magento UK", allocate_sold_location_id=warehouse, inventory_location_ids=[warehouse])
    customer = state.add_customer(forename="Jane", surname="Doe", email="jane@example.com", barcode="MAG-C-1")
    return Merchant(warehouse, shop, widget, gadget, kit, tee, tee_s, tee_m, channel, customer)


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(clock: FakeClock) -> Sleeps:
    return Sleeps(clock)


@pytest.fixture
def state(clock: FakeClock) -> StoklyState:
    return StoklyState(seed=7, clock=clock)


@pytest.fixture
def merchant(state: StoklyState) -> Merchant:
    return build_merchant(state)


@pytest.fixture
def settings() -> StoklySimSettings:
    """The simulator's settings (rate limit off unless a test turns it on)."""
    return StoklySimSettings(rate_limit=0)


@pytest.fixture
def sim(state: StoklyState, settings: StoklySimSettings) -> StoklySimApp:
    return create_app(state, settings=settings)


@pytest.fixture
def credentials(settings: StoklySimSettings) -> StoklyCredentials:
    return StoklyCredentials(settings.account_key, settings.client_id, Secret(settings.client_secret))


@pytest.fixture
def served(sim: StoklySimApp) -> Iterator[ServedApp]:
    """The simulator over real HTTP on loopback."""
    server = ServedApp(sim, name="stokly").start()
    yield server
    server.stop()


@pytest.fixture
async def raw(sim: StoklySimApp, settings: StoklySimSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client on the simulator (in-process), already holding a valid token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url="http://stokly.test") as client:
        grant = await client.post("/v1/grant", json={
            "accountkey": settings.account_key, "clientId": settings.client_id,
            "signature": sign(settings.client_id, settings.client_secret)})
        token = grant.json()["data"]["authenticationResult"]["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


MakeClient = Callable[..., StoklyClient]


@pytest.fixture
async def make_client(
    sim: StoklySimApp, credentials: StoklyCredentials, clock: FakeClock, sleeps: Sleeps,
) -> AsyncIterator[MakeClient]:
    """Build connectors on the simulator: in-process by default, over HTTP with ``url=``."""
    clients: list[StoklyClient] = []

    def make(*, url: str | None = None, creds: StoklyCredentials | None = None, **options: Any) -> StoklyClient:
        transport = None if url else httpx.ASGITransport(app=sim)
        opts: dict[str, Any] = {"transport": transport, "retry": FAST_RETRY, "sleep": sleeps, "clock": clock,
                                "rate_per_s": 0.0, "seed": 1, **options}
        client = StoklyClient(url or "http://stokly.test", creds or credentials, **opts)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture(params=["in-process", "http"])
async def stokly(request: pytest.FixtureRequest, make_client: MakeClient) -> StoklyClient:
    """The connector on the simulator, once in-process and once over real HTTP."""
    if request.param == "http":
        server: ServedApp = request.getfixturevalue("served")
        return make_client(url=server.url)
    return make_client()
