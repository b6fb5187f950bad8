"""Soak: the watchdog keeps telling the truth while both systems fail a fifth of their requests.

A merchant with known injected failures (its ground truth) runs on both simulators over HTTP.
The watch cycle (both snapshots, every check, the lifecycle in SQLite) runs again and again:

1. clean: every injected failure is found, nothing else;
2. faults: about 20% of requests to both systems fail (5xx, 429, timeouts, malformed and
   truncated bodies): after every cycle the open findings are still exactly the ground truth
   (no false finding) and no finding of it was ever resolved (no false resolution);
   ``source_unreachable`` may open when a read gives up, and must not stand in for truth;
3. outage: Magento answers 503 to everything: ``source_unreachable`` for Magento opens, the
   ground truth stays open;
4. recovery (faults still on): ``source_unreachable`` resolves, the ground truth stays open.

The process's resident memory after the last cycle is within 10% of what it was after the
warm-up. CI runs a few cycles; ``--run-slow`` runs the long version.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from watchdog.clients import ClientOptions, open_clients
from watchdog.config import IntegrationConfig
from watchdog.connectors.http import RetryPolicy
from watchdog.engine import SOURCE_UNREACHABLE, RunSummary, run_checks
from watchdog.model import LedgerView
from watchdog.simulators.embedded import EmbeddedSystems
from watchdog.simulators.faults import FaultInjector, FaultRule
from watchdog.simulators.merchant import build_merchant
from watchdog.simulators.scenario import Injection, ScenarioSpec
from watchdog.snapshot import take_snapshots
from watchdog.store.db import Store, open_store, upgrade
from watchdog.store.finding_queries import findings_json
from watchdog.store.models import TransitionRow

NOT_THE_GRANT = r"^(?!POST /v1/grant)"  # a refused token grant is an outage of its own, tested elsewhere
FIFTH = (FaultRule("status", NOT_THE_GRANT, status=503, probability=0.04),
         FaultRule("rate_limit", NOT_THE_GRANT, probability=0.04),
         FaultRule("timeout", NOT_THE_GRANT, latency_s=0.3, probability=0.04),
         FaultRule("malformed", NOT_THE_GRANT, probability=0.04),
         FaultRule("truncated", NOT_THE_GRANT, probability=0.04))
RETRY = RetryPolicy(attempts=6, base_s=0.01, cap_s=0.05, max_retry_after_s=0.05)
INJECTIONS = (Injection("stock_divergence", 2), Injection("missing_orders"), Injection("rejected_tracking"),
              Injection("missing_credit_notes"), Injection("sku_mismatch"), Injection("unlocated_stock"),
              Injection("order_status_drift"))
ENGINE = {SOURCE_UNREACHABLE, "check_failed"}


@dataclass(frozen=True)
class Plan:
    faulty: int  # cycles with a fifth of the requests failing
    outage: int  # cycles with Magento down
    recovery: int  # at most this many cycles for source_unreachable to resolve


def resident_mb() -> float:
    """This process's resident memory now (Linux ``VmRSS``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class Watch:
    """The watch cycle against served simulators, with its ground truth."""

    def __init__(self, systems: EmbeddedSystems, store: Store, truth: set[str]) -> None:
        # the scenario's in-flight orders were placed 20 s before the soak began and nothing imports them:
        # the settle window must outlast the long soak, or they become (truly) missing on the way
        integration = systems.integration_config("soak", checks={"missing_orders": {"settle": "1h"}})
        self.integration: IntegrationConfig = replace(
            integration, magento=replace(integration.magento, timeout_s=0.25),
            stokly=replace(integration.stokly, timeout_s=0.25))
        self.store, self.truth = store, truth
        self.unreachable_seen = 0

    def cycle(self) -> RunSummary:
        now = datetime.now(UTC)
        ledger = LedgerView(last_success=dict.fromkeys(("stock", "orders", "fulfilment", "refunds"), now))
        magento, stokly = asyncio.run(self._snapshots(now))
        summary = run_checks(self.store, self.integration, magento, stokly, ledger, now)
        self.unreachable_seen += bool(summary.unreachable)
        return summary

    async def _snapshots(self, now: datetime) -> tuple[object, object]:
        async with open_clients(self.integration, options=ClientOptions(retry=RETRY)) as clients:
            return await take_snapshots(self.integration, clients.magento, clients.stokly, now)

    def open(self) -> set[str]:
        return {f"{f['check']} {f['subject']}" for f in findings_json(self.store)}

    def assert_truthful(self) -> None:
        """Exactly the ground truth is open (engine findings aside), and none of it was ever resolved."""
        found = {f for f in self.open() if f.split(" ")[0] not in ENGINE}
        assert found == self.truth, f"false: {sorted(found - self.truth)}; lost: {sorted(self.truth - found)}"
        with self.store.session() as s:
            resolved = s.execute(select(TransitionRow).where(TransitionRow.kind == "resolved")).scalars().all()
        assert [t for t in resolved if t.check not in ENGINE] == [], "a finding of the ground truth was resolved"


def _faults(*injectors: FaultInjector) -> None:
    for injector in injectors:
        for rule in FIFTH:
            injector.add(replace(rule))


def soak(tmp_path: Path, plan: Plan) -> None:
    now = datetime.now(UTC)
    merchant = build_merchant(ScenarioSpec(simple_skus=30, configurables=2, bundles=1, orders=40,
                                           injections=INJECTIONS), now)
    merchant.clock.follow_real_time()
    truth = {f"{e.check} {e.subject}" for e in merchant.expected}
    store = open_store(f"sqlite:///{tmp_path / 'soak.db'}")
    upgrade(store.engine)
    with EmbeddedSystems(merchant) as systems:
        watch = Watch(systems, store, truth)
        for _ in range(2):  # clean: the truth, and a warm process
            watch.cycle()
        watch.assert_truthful()
        gc.collect()
        warm = resident_mb()
        injectors = (systems.magento_faults, systems.stokly_faults)
        _faults(*injectors)
        seen = sum(i.seen for i in injectors)
        for _ in range(plan.faulty):
            watch.cycle()
            watch.assert_truthful()
        fired = sum(r.fired for i in injectors for r in i.rules())
        share = fired / (sum(i.seen for i in injectors) - seen)
        assert share > 0.12, f"about a fifth of the requests failed, not {share:.0%}"
        for _ in range(plan.outage):
            summary = _down(systems, watch)
            assert "magento" in summary.unreachable
            assert f"{SOURCE_UNREACHABLE} system:magento" in watch.open()
            watch.assert_truthful()
        _up(systems)
        for _ in range(plan.recovery):
            watch.cycle()
            watch.assert_truthful()
            if f"{SOURCE_UNREACHABLE} system:magento" not in watch.open():
                break
        assert f"{SOURCE_UNREACHABLE} system:magento" not in watch.open(), "the outage cleared"
        gc.collect()
        grown = resident_mb() / warm
    store.dispose()
    assert grown <= 1.10, f"resident memory grew {100 * (grown - 1):.1f}% over the soak"


def _down(systems: EmbeddedSystems, watch: Watch) -> RunSummary:
    """One cycle with Magento answering 503 to every request."""
    systems.magento_faults.clear()
    systems.magento_faults.add(FaultRule("status", status=503))
    return watch.cycle()


def _up(systems: EmbeddedSystems) -> None:
    systems.magento_faults.clear()
    _faults(systems.magento_faults)


def test_soak_short(tmp_path: Path) -> None:
    soak(tmp_path, Plan(faulty=4, outage=2, recovery=4))


@pytest.mark.slow
def test_soak_long(tmp_path: Path) -> None:
    soak(tmp_path, Plan(faulty=300, outage=5, recovery=6))

