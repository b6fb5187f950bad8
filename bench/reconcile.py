"""P1: one reconcile (both snapshots + every check) of a large merchant, against the network floor.

For each size the merchant is served by both simulators on loopback, ``LATENCY_S`` (25 ms) added
to every request and the connectors allowed ``CONCURRENCY`` (8) requests at once per system.
Each measurement runs in a fresh child process, so its peak RSS is the reconcile's own:

- ``reconcile``: ``take_snapshots`` + ``run_checks`` (into a fresh SQLite file), timed wall clock;
  the child counts the requests each system answered;
- ``floor`` = (Magento requests + Stokly requests) x latency / concurrency, and
  ``P1_floor_ratio`` = reconcile wall / floor (goal <= 1.5);
- ``baseline``: what a simple integration does, on the same data: per SKU, ask Magento for the
  source item and the salable quantity and Stokly for the item's stock record (three requests,
  the same concurrency). It is timed on a random sample of SKUs and scaled to the catalogue
  (its cost is linear by construction); ``P1_speedup`` = baseline / reconcile (goal >= 30);
- ``P1_rss_mb``: peak RSS of the reconcile's process (goal <= 250).

Every answer is recorded in an untimed pass and replayed byte for byte in the timed ones
(``bench.common.ReplayCache``): the simulators render and sort the whole table for each page,
which at 100,000 SKUs would measure them instead of the watchdog. The recording pass (no added
latency) is shown for reference. The reported figures are the medians of ``REPEATS`` timed runs.
``run(quick)`` returns the figures of the largest size; ``python -m bench.reconcile [--quick]``
prints the table.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Served, bulk_merchant, in_child, integration_for, peak_rss_mb, table, utc
from watchdog.clients import open_clients
from watchdog.connectors.magento import MagentoClient
from watchdog.connectors.stokly import StoklyClient
from watchdog.engine import load_ledger_view, run_checks
from watchdog.simulators.merchant import SOURCE_CODE
from watchdog.snapshot import take_snapshots
from watchdog.store.db import open_store, upgrade
from watchdog.store.finding_queries import findings_json

__all__ = ["child", "main", "measure", "run"]

LATENCY_S = 0.025
CONCURRENCY = 8
REPEATS = 3
FULL = ((10_000, 500), (100_000, 2_000))  # (SKUs, orders in the 72 h window)
QUICK = ((10_000, 500),)
#: findings beyond the merchant's injected failures that are true of the benchmark itself
WHY = {"stale_stock_push flow:stock": " (true: the benchmark runs no sync, so no stock push is on record)"}
SAMPLE_REQUESTS = 300  # the per-SKU baseline is timed on this many requests' worth of SKUs (three each)...
SAMPLE_SCANS = 3_000_000  # ...or fewer, so that recording them costs the simulators few row scans


# --------------------------------------------------------------------------- the child


def child(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one ``reconcile`` or ``baseline`` (``payload["mode"]``) and report it."""
    work = _reconcile if payload["mode"] == "reconcile" else _baseline
    answer = asyncio.run(work(payload))
    return {**answer, "rss_mb": peak_rss_mb()}


async def _reconcile(payload: dict[str, Any]) -> dict[str, Any]:
    integration = integration_for(*payload["urls"], concurrency=payload["concurrency"], timeout_s=payload["timeout"])
    now = utc(payload["now"])
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'watchdog.db'}")
        upgrade(store.engine)
        requests: Counter[str] = Counter()
        observer = _counter(requests)
        async with open_clients(integration, observer=observer) as clients:
            started, cpu = time.perf_counter(), time.process_time()
            magento, stokly = await take_snapshots(integration, clients.magento, clients.stokly, now)
            read, read_cpu = time.perf_counter(), time.process_time()
            summary = run_checks(store, integration, magento, stokly, load_ledger_view(store, "bench", now), now)
            finished = time.perf_counter()
        found = [f"{f['check']} {f['subject']}" for f in findings_json(store)]
        store.dispose()
    return {"wall_s": finished - started, "snapshot_s": read - started, "checks_s": finished - read,
            "snapshot_cpu_s": read_cpu - cpu, "requests": dict(requests), "findings": found,
            "errors": {**magento.errors, **stokly.errors}, "unreachable": dict(summary.unreachable)}


def _counter(requests: Counter[str]) -> Any:
    def observe(system: str, route: str, outcome: str, seconds: float) -> None:
        requests[f"{system}:{outcome}"] += 1

    return observe


async def _baseline(payload: dict[str, Any]) -> dict[str, Any]:
    integration = integration_for(*payload["urls"], concurrency=payload["concurrency"], timeout_s=payload["timeout"])
    requests: Counter[str] = Counter()
    async with open_clients(integration, observer=_counter(requests)) as clients:
        await clients.stokly.locations()  # the token grant and a warm connection, like the reconcile's
        started = time.perf_counter()
        await asyncio.gather(*(_per_sku(clients.magento, clients.stokly, sku, item, payload["location"])
                               for sku, item in payload["sample"]))
        wall = time.perf_counter() - started
    return {"wall_s": wall, "requests": dict(requests)}


async def _per_sku(magento: MagentoClient, stokly: StoklyClient, sku: str, item_id: str, location: str) -> None:
    """Stock and salable quantity of one SKU, asked one request at a time per question."""
    where = f"[itemId]=={{{item_id}}}&&[locationId]=={{{location}}}&&[binId]=={{UNASSIGNED}}"
    await asyncio.gather(magento.source_items(source_code=SOURCE_CODE, skus=[sku]), magento.salable_qty(sku, 1),
                         stokly.get_all("/v1/inventory-records", "/v1/inventory-records", filter=where))


# --------------------------------------------------------------------------- the parent


def measure(skus: int, orders: int, *, repeats: int = REPEATS) -> dict[str, Any]:
    """Every figure of one size (see the module docstring)."""
    now = datetime.now(UTC)
    merchant = bulk_merchant(skus, orders, now)
    merchant.clock.follow_real_time()
    rng = random.Random(skus)
    sample = max(20, min(SAMPLE_REQUESTS // 3, SAMPLE_SCANS // skus))
    picked = rng.sample(sorted(merchant.item_ids), min(sample, len(merchant.item_ids)))
    with Served(merchant, replay=True) as served:
        base = {"urls": list(served.urls), "now": now.isoformat(), "concurrency": CONCURRENCY, "timeout": 30}
        recording = {**base, "timeout": 600}  # the simulators scan the whole table for each first answer
        recorded = in_child("bench.reconcile", {**recording, "mode": "reconcile"})  # untimed: fills the cache
        baseline_payload = {**base, "mode": "baseline", "location": merchant.location_id,
                            "sample": [[sku, merchant.item_ids[sku]] for sku in picked]}
        in_child("bench.reconcile", {**baseline_payload, **recording, "concurrency": 1})
        served.set_latency(LATENCY_S)
        runs = [in_child("bench.reconcile", {**base, "mode": "reconcile"}) for _ in range(repeats)]
        baselines = [in_child("bench.reconcile", baseline_payload) for _ in range(repeats)]
    return _figures(skus, orders, merchant, recorded, runs, baselines, len(picked))


def _figures(skus: int, orders: int, merchant: Any, recorded: dict[str, Any], runs: list[dict[str, Any]],
             baselines: list[dict[str, Any]], sampled: int) -> dict[str, Any]:
    wall = statistics.median(r["wall_s"] for r in runs)
    requests = runs[0]["requests"]
    magento, stokly = requests.get("magento:ok", 0), requests.get("stokly:ok", 0)
    floor = (magento + stokly) * LATENCY_S / CONCURRENCY
    per_sku = statistics.median(b["wall_s"] for b in baselines) / sampled
    expected = {f"{e.check} {e.subject}" for e in merchant.expected}
    found = set(runs[0]["findings"])
    return {
        "skus": skus, "orders": orders, "magento_requests": magento, "stokly_requests": stokly, "floor_s": floor,
        "wall_s": wall, "snapshot_s": statistics.median(r["snapshot_s"] for r in runs),
        "checks_s": statistics.median(r["checks_s"] for r in runs), "floor_ratio": wall / floor,
        "baseline_s": per_sku * skus, "speedup": per_sku * skus / wall,
        "rss_mb": statistics.median(r["rss_mb"] for r in runs), "recording_s": recorded["wall_s"],
        "retries": sum(v for k, v in requests.items() if not k.endswith(":ok")),
        "errors": len(runs[0]["errors"]), "snapshot_cpu_s": statistics.median(r["snapshot_cpu_s"] for r in runs),
        "truth": f"{len(expected & found)}/{len(expected)}", "extra": sorted(found - expected),
    }


def run(quick: bool) -> dict[str, float]:
    """``P1_floor_ratio``, ``P1_speedup`` and ``P1_rss_mb`` of the largest size, printing the table."""
    results = [measure(skus, orders) for skus, orders in (QUICK if quick else FULL)]
    print(render(results))
    last = results[-1]
    return {"P1_floor_ratio": last["floor_ratio"], "P1_speedup": last["speedup"], "P1_rss_mb": last["rss_mb"]}


def render(results: list[dict[str, Any]]) -> str:
    headers = ("SKUs", "orders", "requests M+S", "floor s", "wall s", "snapshot s", "its CPU s", "checks s",
               "floor ratio", "per-SKU s", "speedup", "RSS MB", "ground truth", "recording s")
    rows = [(r["skus"], r["orders"], f"{r['magento_requests']}+{r['stokly_requests']}", r["floor_s"], r["wall_s"],
             r["snapshot_s"], r["snapshot_cpu_s"], r["checks_s"], r["floor_ratio"], r["baseline_s"], r["speedup"],
             r["rss_mb"], r["truth"], r["recording_s"]) for r in results]
    title = (f"P1 reconcile: {LATENCY_S * 1000:.0f} ms per request, {CONCURRENCY} concurrent per system, "
             f"median of {REPEATS} (goals: floor ratio <= 1.5, speedup >= 30, RSS <= 250 MB)")
    notes = [f"  {r['skus']:,} SKUs: also reported " + ", ".join(x + WHY.get(x, "") for x in r["extra"])
             for r in results if r["extra"]]
    return "\n".join([table(title, headers, rows), *notes])


def main(argv: list[str]) -> int:
    run("--quick" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
