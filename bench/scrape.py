"""P4: one /metrics scrape with 100,000 open findings in SQLite.

``python -m bench.scrape [--quick]`` prints a small table; ``run(quick)`` returns
``{"P4_scrape_ms": median}``: the median time to render a scrape in steady state, when
the store summary is cached (the service re-reads the store only at the first scrape
after a change it made, e.g. a check run every 5 minutes, or once the cache is older
than ``cache_seconds``). The table also shows that cold read, the exposition's size,
and that the size does not grow with the number of findings.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import insert

from watchdog.findings import fingerprint
from watchdog.metrics import Metrics
from watchdog.store.db import Store, open_store, upgrade
from watchdog.store.models import CheckRunRow, FindingRow
from watchdog.store.models_sync import FlowRunRow, SyncRecordRow

FINDINGS = 100_000
INTEGRATIONS = {"acme-uk": "GBP", "bravo-de": "EUR", "corvo-fr": "EUR", "delta-ie": "EUR"}
CHECKS = (("stock_divergence", "operations"), ("missing_orders", "operations"), ("missing_credit_notes", "finance"),
          ("sku_mismatch", "ecommerce"), ("rejected_tracking", "operations"), ("unlocated_stock", "operations"))
SEVERITIES = ("info", "warning", "critical")


def _measures(check: str, n: int) -> dict[str, Any]:
    if check == "stock_divergence":
        difference = (n % 41) - 20 or 1
        return {"units": str(abs(difference)), "difference": str(difference), "magento_qty": 10,
                "stokly_available": 10 - difference}
    if check == "missing_credit_notes":
        return {"vat": "3.33", "amount": "19.99"}
    if check == "missing_orders":
        return {"grand_total": "42.50"}
    return {}


def _finding(n: int, now: datetime) -> dict[str, Any]:
    integration = list(INTEGRATIONS)[n % len(INTEGRATIONS)]
    check, owner = CHECKS[n % len(CHECKS)]
    subject = f"sku:SKU-{n:06d}"
    return {"fingerprint": fingerprint(integration, check, subject), "integration": integration, "check": check,
            "subject": subject, "severity": SEVERITIES[(n // 7) % 3], "owner": owner, "status": "open",
            "summary": f"SKU-{n:06d}: Magento shows 10, Stokly expects {n % 9}: oversell risk",
            "measures": _measures(check, n), "runbook": f"docs/runbooks/{check}.md",
            "links": {"magento": f"https://shop.example.com/admin/catalog/product/edit/id/{n}/"},
            "first_seen": now, "last_seen": now, "resolved_at": None, "absent_runs": 0}


def seed(store: Store, findings: int, now: datetime) -> None:
    """``findings`` open findings plus a day of check runs, flow runs and a ledger."""
    with store.session() as session:
        for start in range(0, findings, 10_000):
            session.execute(insert(FindingRow), [_finding(n, now) for n in range(start, min(findings, start + 10_000))])
        runs = [{"integration": i, "check": c, "started_at": now - timedelta(minutes=5 * k),
                 "finished_at": now - timedelta(minutes=5 * k), "outcome": "ok" if k % 10 else "failed",
                 "findings": 0} for i in INTEGRATIONS for c, _ in CHECKS for k in range(288)]
        session.execute(insert(CheckRunRow), runs)
        session.execute(insert(FlowRunRow), [
            {"integration": i, "flow": f, "started_at": now - timedelta(minutes=k), "finished_at":
             now - timedelta(minutes=k), "outcome": "ok"} for i in INTEGRATIONS for f in ("orders", "stock")
            for k in range(0, 1440, 10)])
        session.execute(insert(SyncRecordRow), [
            {"integration": i, "flow": "orders", "source_id": str(k), "state": ("confirmed", "claimed", "dead")[k % 3],
             "created_at": now, "updated_at": now} for i in INTEGRATIONS for k in range(5000)])


def _timed(action: Callable[[], bytes], repeat: int) -> tuple[float, int]:
    """Median milliseconds of ``action`` over ``repeat`` runs, and the size of its last output."""
    samples, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = len(action())
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), size


def measure(store: Store, repeat: int) -> dict[str, float]:
    metrics = Metrics(CollectorRegistry(), store=store, integrations=INTEGRATIONS)
    now = datetime.now(UTC)
    for i in INTEGRATIONS:  # what a running service has reported through its hooks
        for c, _ in CHECKS:
            metrics.check_ran(i, c, "ok", now)
            metrics.finding_opened(i, c, "warning")
        metrics.sync_record(i, "orders", "confirmed", 42.0)
        metrics.observer(i)("magento", "/V1/orders", "ok", 0.1)
    metrics.notification("slack:#ops-alerts", "sent")
    generate_latest(metrics.registry)
    warm, size = _timed(lambda: generate_latest(metrics.registry), repeat)

    def cold() -> bytes:
        metrics.store_changed()
        return generate_latest(metrics.registry)

    cold_ms, _ = _timed(cold, max(3, repeat // 10))
    return {"warm_ms": warm, "cold_ms": cold_ms, "bytes": float(size)}


def run(quick: bool) -> dict[str, float]:
    """Seed 100,000 open findings in a temporary SQLite file; return {"P4_scrape_ms": median}."""
    return {"P4_scrape_ms": _run(quick)[FINDINGS]["warm_ms"]}


def _run(quick: bool) -> dict[int, dict[str, float]]:
    results: dict[int, dict[str, float]] = {}
    now = datetime.now(UTC)
    for findings in ((FINDINGS,) if quick else (1_000, FINDINGS)):
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{Path(tmp) / 'watchdog.db'}")
            upgrade(store.engine)
            seed(store, findings, now)
            results[findings] = measure(store, 20 if quick else 200)
            store.dispose()
    return results


def main(argv: list[str]) -> int:
    results = _run("--quick" in argv)
    print(f"{'open findings':>14} {'scrape ms (median, cached)':>27} {'first scrape after a change ms':>31} "
          f"{'exposition bytes':>17}")
    for findings, r in results.items():
        print(f"{findings:>14,} {r['warm_ms']:>27.2f} {r['cold_ms']:>31.1f} {int(r['bytes']):>17,}")
    print(f"P4_scrape_ms = {results[FINDINGS]['warm_ms']:.2f} (goal < 20)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
