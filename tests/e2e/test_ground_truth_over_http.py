"""The watchdog's exam: a merchant with known failures, read over real HTTP, judged by the real engine.

Both simulators serve the ground-truth scenario on loopback; the real connectors read
them into snapshots; the real engine runs every registered check. The open findings
must be exactly the injected failures (precision and recall 100%), with their measures,
and nothing about clean or in-flight records.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from watchdog.connectors.http import RetryPolicy
from watchdog.connectors.magento import MagentoClient
from watchdog.connectors.magento_types import BearerToken
from watchdog.connectors.stokly import StoklyClient, StoklyCredentials
from watchdog.engine import RunSummary, run_checks
from watchdog.model import LedgerView
from watchdog.secret import Secret
from watchdog.simulators.embedded import EmbeddedSystems
from watchdog.simulators.faults import FaultRule
from watchdog.simulators.merchant import Merchant, build_merchant
from watchdog.simulators.scenario import SimClock, builtin_scenario
from watchdog.snapshot import take_snapshots
from watchdog.store.db import Store
from watchdog.store.finding_queries import findings_json

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=2, base_s=0.01)


@pytest.fixture(scope="module")
def systems() -> Iterator[EmbeddedSystems]:
    merchant = build_merchant(builtin_scenario("ground-truth"), NOW, clock=SimClock(NOW))
    with EmbeddedSystems(merchant) as embedded:
        yield embedded


async def _run(systems: EmbeddedSystems, store: Store, *, complete: bool = True) -> RunSummary:
    integration = systems.integration_config("gt")
    c = systems.credentials
    async with (
        MagentoClient(systems.magento_url, BearerToken(Secret(c.magento_access_token)), retry=FAST) as magento,
        StoklyClient(systems.stokly_url, StoklyCredentials(c.stokly_account, c.stokly_client_id,
                                                           Secret(c.stokly_client_secret)),
                     clock=lambda: NOW, retry=FAST) as stokly,
    ):
        m_snap, s_snap = await take_snapshots(integration, magento, stokly, NOW)
    if complete:
        assert not m_snap.errors
        assert not s_snap.errors
    ledger = LedgerView(last_success={"stock": NOW})
    return run_checks(store, integration, m_snap, s_snap, ledger, NOW)


async def test_exactly_the_injected_failures_are_found(systems: EmbeddedSystems, sqlite_store: Store) -> None:
    summary = await _run(systems, sqlite_store)
    merchant: Merchant = systems.merchant
    found = {(f["check"], f["subject"]): f for f in findings_json(sqlite_store)}
    expected = {(e.check, e.subject): e for e in merchant.expected}
    assert set(found) == set(expected), summary.checks_json()
    for key, truth in expected.items():
        for name, value in truth.measures.items():
            assert Decimal(str(found[key]["measures"][name])) == value, (key, name)
    in_flight = {f"order:{ref}" for ref in merchant.in_flight_orders}
    assert not in_flight & {subject for _, subject in found}
    assert all(v["outcome"] == "ok" for v in summary.checks_json().values())


def test_the_scenario_injects_every_failure_mode(systems: EmbeddedSystems) -> None:
    checks = {e.check for e in systems.merchant.expected}
    assert checks == {"stock_divergence", "missing_orders", "rejected_tracking", "order_status_drift",
                      "missing_credit_notes", "unlocated_stock", "sku_mismatch"}
    assert len(systems.merchant.expected) == 18


async def test_an_outage_resolves_nothing_and_shows_as_source_unreachable(systems: EmbeddedSystems,
                                                                         sqlite_store: Store) -> None:
    await _run(systems, sqlite_store)
    before = {(f["check"], f["subject"]) for f in findings_json(sqlite_store)}
    systems.magento_faults.add(FaultRule("status", r"GET /rest/(\w+/)?V1/orders", status=503))
    try:
        for _ in range(3):  # more than the flap damping: an outage must never count as absence
            summary = await _run(systems, sqlite_store, complete=False)
    finally:
        systems.magento_faults.clear()
    during = {(f["check"], f["subject"]) for f in findings_json(sqlite_store)}
    assert during == before | {("source_unreachable", "system:magento")}
    assert summary.checks_json()["missing_orders"]["outcome"] == "not_evaluated"
    for _ in range(3):
        await _run(systems, sqlite_store)
    after = {(f["check"], f["subject"]) for f in findings_json(sqlite_store)}
    assert after == before
