"""P2: a backlog of Magento orders synced into a Stokly that allows only R requests per second.

The merchant has ``ORDERS`` paid Magento orders (10,000; quick: 600) placed over the last
hours and none imported yet, from ``CUSTOMERS`` buyers. The simulated Stokly enforces a fixed
window limit of ``R x WINDOW_S`` requests per ``WINDOW_S`` seconds (answering 429 with
Retry-After beyond it): the full run uses Stokly's assumed limit, 600 per 60 s (R = 10); the
quick one 250 per 10 s (R = 25). (The simulators scan whole tables for each request, so what
they can serve falls as they fill up: about 16 requests/s on average over a 10,000-order
backlog on two cores, which is why the full run does not ask for more.) The integration's
client is configured with ``rate_per_s = 0.95 R`` (see ``CLIENT_SHARE``), as an operator would.
The real sync worker (``Worker(...).run(["orders"])``, in a child process so the simulators do
not share its interpreter) runs until a run has nothing left to do.

- ``P2_rate_share`` = Stokly answers per second over the sync's wall time / R (goal >= 0.9);
- ``429s``: answers Stokly refused for the rate limit (goal 0; the client retries them);
  ``dead``: records the sync gave up on (goal 0); ``failed``: records a run could not write and a
  later run did (``P2_retried``; each one's error is printed under the table);
- ``duplicates``: Magento orders with more than one Stokly sale order (goal 0), and
  ``missing``: backlog orders with none.

``run(quick)`` returns the figures; ``python -m bench.sync_throughput [--quick]`` prints the table.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.common import Served, in_child, integration_for, table
from watchdog.clients import open_clients
from watchdog.config import SyncConfig
from watchdog.simulators.magento.specs import CustomerSpec, OrderItemSpec, ShippingSpec
from watchdog.simulators.merchant import Merchant, build_merchant
from watchdog.simulators.scenario import ScenarioSpec
from watchdog.simulators.stokly import StoklySimSettings
from watchdog.stokly_assumed import RATE_LIMIT_REQUESTS, RATE_LIMIT_WINDOW_S
from watchdog.store.db import Store, open_store, upgrade
from watchdog.store.models_sync import SyncRecordRow
from watchdog.sync import LedgerPolicy, Worker, WorkerOptions

__all__ = ["child", "main", "measure", "run"]

ORDERS = {True: 600, False: 10_000}
#: R: the full run uses Stokly's assumed limit (600 requests per 60 s window, ``watchdog.stokly_assumed``);
#: the quick one a faster limit and window, so that it takes half a minute.
RATE = {True: 25, False: RATE_LIMIT_REQUESTS // int(RATE_LIMIT_WINDOW_S)}
WINDOW_S = {True: 10.0, False: RATE_LIMIT_WINDOW_S}
#: The client's ``rate_per_s`` as a share of R: its token bucket may burst 10 requests, so pacing at
#: exactly R overruns a fixed window by up to 10; at 0.95 R it never does (0.95 R x window + 10 < R x window).
CLIENT_SHARE = 0.95
CUSTOMERS = 40
MAX_RUNS = 20
#: The worker's defaults, except that a record a 429 or timeout failed is retried at the next run.
OPTIONS = WorkerOptions(ledger=LedgerPolicy(retry_base=timedelta(0), ambiguous_delay=timedelta(seconds=1)))


def backlog_merchant(orders: int, now: datetime, *, seed: int = 5) -> Merchant:
    """A small catalogue and ``orders`` paid Magento orders placed over the last hours, none imported."""
    spec = ScenarioSpec(seed=seed, simple_skus=60, configurables=0, bundles=0, orders=0, in_flight_orders=0)
    m = build_merchant(spec, now)
    start, step = now - timedelta(hours=3), timedelta(hours=2) / max(1, orders)
    for n in range(orders):
        m.clock.set(start + step * n)
        buyer = n % CUSTOMERS
        lines = [OrderItemSpec(m.simple_skus[(n * 7 + k) % len(m.simple_skus)], 1 + (n + k) % 2, tax_percent=20)
                 for k in range(1 + n % 2)]
        m.magento.place_order(lines, customer=CustomerSpec(email=f"buyer{buyer}@example.com", firstname="Buyer",
                                                           lastname=str(buyer), customer_id=5000 + buyer),
                              shipping=ShippingSpec(Decimal("4.99")))
    m.clock.set(now)
    m.clock.follow_real_time()
    return m


# --------------------------------------------------------------------------- the child: the worker


def child(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the orders flow until it has nothing left to do; its counts and wall time."""
    return asyncio.run(_sync(payload))


async def _sync(payload: dict[str, Any]) -> dict[str, Any]:
    integration = integration_for(*payload["urls"], stokly_rate=payload["rate"] * CLIENT_SHARE,
                                  sync=SyncConfig(settle=timedelta(0), overlap=timedelta(minutes=5)))
    totals: Counter[str] = Counter()
    errors: dict[str, str] = {}  # record key -> the last error it met (a record written later keeps it)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'worker.db'}")
        upgrade(store.engine)
        async with open_clients(integration) as clients:
            worker = Worker(integration, store, clients.magento, clients.stokly, options=OPTIONS)
            started = time.perf_counter()
            runs = 0
            while runs < MAX_RUNS:
                runs += 1
                counts = (await worker.run(["orders"])).counts().get("orders", {})
                totals.update(counts)
                errors.update(_record_errors(store))
                if not counts.get("written") and not counts.get("failed"):
                    break
            wall = time.perf_counter() - started
        store.dispose()
    return {"wall_s": wall, "runs": runs, "errors": dict(Counter(errors.values())),
            **{k: int(v) for k, v in totals.items()}}


def _record_errors(store: Store) -> dict[str, str]:
    """Each ledger record that met an error, with its class and the error's first 160 characters."""
    with store.session() as s:
        rows = s.execute(select(SyncRecordRow.source_id, SyncRecordRow.error_class, SyncRecordRow.last_error)
                         .where(SyncRecordRow.last_error.is_not(None))).all()
    return {key: f"{kind}: {str(error)[:160]}" for key, kind, error in rows}


# --------------------------------------------------------------------------- the parent


def measure(orders: int, rate: int, window_s: float) -> dict[str, Any]:
    """Every figure of one backlog (see the module docstring)."""
    now = datetime.now(UTC)
    merchant = backlog_merchant(orders, now)
    settings = StoklySimSettings(rate_limit=int(rate * window_s), rate_window_s=window_s)
    with Served(merchant, stokly_settings=settings) as served:
        answers = served.statuses[1].counts
        done = in_child("bench.sync_throughput", {"urls": list(served.urls), "rate": rate})
        statuses = dict(answers)
    refs = Counter(so.source_reference_id for so in merchant.stokly.sale_orders())
    numbers = {o.increment_id for o in merchant.magento.orders.values()}
    served_ok = sum(n for status, n in statuses.items() if status != 429)
    achieved = served_ok / done["wall_s"]
    return {"orders": orders, "rate": rate, "window": window_s, "wall_s": done["wall_s"], "requests": served_ok,
            "achieved": achieved, "share": achieved / rate, "429s": statuses.get(429, 0),
            "duplicates": sum(1 for n in refs.values() if n > 1), "missing": len(numbers - set(refs)),
            "written": done.get("written", 0), "failed": done.get("failed", 0), "dead": done.get("dead", 0),
            "runs": done["runs"], "errors": done.get("errors", {})}


def run(quick: bool) -> dict[str, float]:
    """``P2_rate_share`` (plus the 429 and duplicate counts), printing the table."""
    result = measure(ORDERS[quick], RATE[quick], WINDOW_S[quick])
    print(render(result))
    return {"P2_rate_share": result["share"], "P2_429s": float(result["429s"]),
            "P2_duplicates": float(result["duplicates"] + result["missing"]),
            "P2_dead": float(result["dead"]), "P2_retried": float(result["failed"])}


def render(r: dict[str, Any]) -> str:
    headers = ("orders", "R req/s", "wall s", "Stokly answers", "achieved req/s", "rate share", "429s",
               "duplicates", "missing", "written", "failed", "dead", "runs")
    row = (r["orders"], r["rate"], r["wall_s"], r["requests"], r["achieved"], r["share"], r["429s"],
           r["duplicates"], r["missing"], r["written"], r["failed"], r["dead"], r["runs"])
    title = (f"P2 sync throughput: orders backlog into Stokly limited to R requests/s "
             f"({r['window']:.0f} s fixed window); goal: rate share >= 0.9, zero 429s, zero duplicates")
    notes = [f"  records that met an error and were retried ({n}x): {error}" for error, n in r["errors"].items()]
    return "\n".join([table(title, headers, [row]), *notes])


def main(argv: list[str]) -> int:
    run("--quick" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
