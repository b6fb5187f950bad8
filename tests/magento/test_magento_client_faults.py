"""Injected faults over real HTTP: reads and idempotent writes retry; other writes become ambiguous."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from magento_kit import SleepRecorder, bearer, make_client

from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.magento import MagentoClient, ShipRequest
from watchdog.model import SourceItem
from watchdog.simulators.faults import FaultInjector, FaultRule
from watchdog.simulators.magento import IntegrationCredentials, MagentoState, OrderItemSpec
from watchdog.simulators.serve import ServedApp

SALABLE = r"GET /rest/V1/inventory/get-product-salable-quantity/"
SHIP = r"POST /rest/V1/order/\d+/ship"


@pytest.fixture
def injector(app: Any) -> FaultInjector:
    return app.injector  # type: ignore[no-any-return]


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(served: ServedApp, creds: IntegrationCredentials, sleeps: SleepRecorder) -> MagentoClient:
    return make_client(served.url, bearer(creds), sleep=sleeps, timeout_s=0.25)


@pytest.mark.parametrize("rule", [
    FaultRule("latency", SALABLE, latency_s=0.05),
    FaultRule("status", SALABLE, status=500, count=2),
    FaultRule("status", SALABLE, status=502, count=1),
    FaultRule("status", SALABLE, status=503, count=1),
    FaultRule("timeout", SALABLE, latency_s=0.5, count=1),
    FaultRule("malformed", SALABLE, count=1),
    FaultRule("truncated", r"GET /rest/V1/products/", count=1),
], ids=lambda r: f"{r.kind}-{r.status}")
async def test_reads_retry_through_each_fault(client: MagentoClient, injector: FaultInjector, rule: FaultRule,
                                              sleeps: SleepRecorder) -> None:
    injector.add(rule)
    async with client:
        assert await client.salable_qty("MUG", 1) == 50
        assert (await client.product("MUG")).sku == "MUG"
    assert len(sleeps.delays) == (rule.count or 0)


async def test_429_honours_retry_after(client: MagentoClient, injector: FaultInjector, sleeps: SleepRecorder) -> None:
    injector.add(FaultRule("rate_limit", SALABLE, retry_after=2, count=1))
    async with client:
        assert await client.salable_qty("MUG", 1) == 50
    assert sleeps.delays == [2.0]


async def test_retries_run_out_as_a_transient_error(client: MagentoClient, injector: FaultInjector,
                                                    sleeps: SleepRecorder) -> None:
    injector.add(FaultRule("status", SALABLE, status=500))
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.salable_qty("MUG", 1)
    assert (caught.value.kind, caught.value.status, len(sleeps.delays)) == (ErrorKind.TRANSIENT, 500, 3)
    assert caught.value.message.startswith("Internal Error. Details are available in Magento log file.")


async def test_permanent_errors_are_not_retried(client: MagentoClient, sleeps: SleepRecorder) -> None:
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.product("NOPE")
    assert (caught.value.kind, caught.value.status, sleeps.delays) == (ErrorKind.PERMANENT, 404, [])
    assert caught.value.message == "The product that was requested doesn't exist. Verify the product and try again."


async def test_idempotent_stock_write_retries_a_timeout(client: MagentoClient, injector: FaultInjector,
                                                        state: MagentoState) -> None:
    injector.add(FaultRule("timeout", r"POST /rest/V1/inventory/source-items", latency_s=0.5, count=1))
    async with client:
        await client.save_source_items([SourceItem("MUG", "wh1", Decimal(3))])
    assert state.source_qty("MUG", "wh1") == 3


async def _eventually(check: Any) -> None:
    for _ in range(100):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the server never finished the write")


@pytest.mark.parametrize("rule", [
    FaultRule("timeout", SHIP, latency_s=0.5, count=1),
    FaultRule("truncated", SHIP, count=1),
], ids=["timeout", "truncated"])
async def test_a_ship_that_may_have_happened_is_ambiguous(client: MagentoClient, injector: FaultInjector,
                                                         state: MagentoState, rule: FaultRule,
                                                         sleeps: SleepRecorder) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 1)])
    injector.add(rule)
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.ship(order_id, ShipRequest(()))
        assert caught.value.kind is ErrorKind.AMBIGUOUS
        assert sleeps.delays == []  # never retried blindly
        await _eventually(lambda: len(state.shipments) == 1)  # it did happen: read back before retrying
        shipments = await client.shipments(order_id=order_id)
    assert len(shipments) == 1
    if rule.kind == "truncated":  # half the body, then the server drops the connection
        assert "network error" in caught.value.message


async def test_a_5xx_on_ship_is_ambiguous_but_503_and_429_are_retried(client: MagentoClient,
                                                                      injector: FaultInjector,
                                                                      state: MagentoState) -> None:
    first = state.place_order([OrderItemSpec("MUG", 1)])
    injector.add(FaultRule("status", SHIP, status=500, count=1))
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.ship(first, ShipRequest(()))
        assert caught.value.kind is ErrorKind.AMBIGUOUS
        injector.add(FaultRule("status", SHIP, status=503, count=1))
        injector.add(FaultRule("rate_limit", SHIP, retry_after=0, count=1))
        assert await client.ship(first, ShipRequest(())) == 1
    assert len(state.shipments) == 1
