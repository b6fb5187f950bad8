"""What the benchmarks changed or rely on, held by tests (no timings: the benchmarks measure those).

- Long lists are read with several pages in flight (both connectors), never more than the
  client's ``concurrency``, and the records come back complete and in order.
- The Magento simulator sorts search results by key where it can: exactly the order its pairwise
  comparison gives, for any mix of numbers, strings and NULLs, ascending and descending.
- The benchmark's ``ReplayCache`` answers exactly what the simulators answer: snapshots read
  through it equal snapshots read from the simulators themselves.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import cmp_to_key
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bench import sync_throughput
from bench.common import Served, bulk_merchant, integration_for
from watchdog.clients import open_clients
from watchdog.simulators.magento import search
from watchdog.simulators.magento.search import SortOrder
from watchdog.snapshot import take_snapshots
from watchdog.store.db import Store
from watchdog.store.models_sync import SyncRecordRow


def test_long_lists_are_read_with_pages_in_flight_up_to_the_concurrency() -> None:
    now = datetime.now(UTC)
    merchant = bulk_merchant(2_100, 20, now)  # 3 pages of Stokly items, more of Magento products
    merchant.clock.follow_real_time()
    with Served(merchant, latency_s=0.02) as served:
        integration = integration_for(*served.urls, concurrency=2)

        async def read() -> tuple[list[Any], list[Any]]:
            async with open_clients(integration) as clients:
                return await clients.magento.products(), await clients.stokly.items()

        products, items = asyncio.run(read())
    assert [p.sku for p in products] == [p.sku for p in sorted(merchant.magento.products.values(), key=lambda p: p.id)]
    assert sorted(i.sku for i in items) == sorted(i.sku for i in merchant.stokly.items())
    assert [s.most_in_flight for s in served.statuses] == [2, 2], "pages in flight at once, up to the concurrency"


NUMBERS = (st.integers(-50, 50) | st.floats(-50, 50, allow_nan=False) | st.booleans()
           | st.decimals(-50, 50, places=2, allow_nan=False))
TEXTS = st.text(alphabet="aAbB 0129.-", max_size=4)
COLUMNS = (st.lists(st.none() | NUMBERS, max_size=25) | st.lists(st.none() | TEXTS, max_size=25)
           | st.lists(st.none() | NUMBERS | TEXTS, max_size=25))  # one kind (the key path) or mixed


@settings(max_examples=300, deadline=None)
@given(COLUMNS, st.sampled_from(["ASC", "DESC", "asc", None]))
def test_the_simulator_sorts_exactly_as_its_comparison(values: list[Any], direction: str | None) -> None:
    rows = [{"col": v} for v in values]
    order = SortOrder("col", direction)
    expected = list(range(len(rows)))
    expected.sort(key=cmp_to_key(search._sorter(rows, order)))
    got = list(range(len(rows)))
    search._sort(got, rows, order)
    assert got == expected  # the same order, ties kept in place as a stable sort keeps them


def test_replayed_answers_are_the_simulators_own() -> None:
    now = datetime.now(UTC)
    merchant = bulk_merchant(700, 60, now)
    merchant.clock.follow_real_time()

    def read(served: Served) -> Any:
        integration = integration_for(*served.urls)

        async def snapshots() -> Any:
            async with open_clients(integration) as clients:
                return await take_snapshots(integration, clients.magento, clients.stokly, now)

        return asyncio.run(snapshots())

    with Served(merchant) as served:
        direct = read(served)
    with Served(merchant, replay=True) as served:
        recorded, replayed = read(served), read(served)
        answered = sum(sum(s.counts.values()) for s in served.statuses)
    assert len(direct[0].products) == 702  # 700 SKUs and two near-miss SKUs the scenario injected
    assert recorded == direct
    assert replayed == direct
    assert sum(len(c.pages) for c in served.caches) < answered, "the second read was replayed"


def test_p2_names_the_error_each_retried_record_met(sqlite_store: Store) -> None:
    now = datetime.now(UTC)
    with sqlite_store.session() as s:
        s.add_all([SyncRecordRow(integration="bench", flow="orders", source_id="7", state="written", attempts=2,
                                 last_error="timed out after 30 s", error_class="ambiguous", created_at=now,
                                 updated_at=now),
                   SyncRecordRow(integration="bench", flow="orders", source_id="8", state="written", attempts=1,
                                 created_at=now, updated_at=now)])
    errors = sync_throughput._record_errors(sqlite_store)
    assert errors == {"7": "ambiguous: timed out after 30 s"}
    row = {"orders": 2, "rate": 10, "window": 60.0, "wall_s": 1.0, "requests": 9, "achieved": 9.0, "share": 0.9,
           "429s": 0, "duplicates": 0, "missing": 0, "written": 2, "failed": 1, "dead": 0, "runs": 2,
           "errors": {"ambiguous: timed out after 30 s": 1}}
    assert sync_throughput.render(row).endswith(
        "records that met an error and were retried (1x): ambiguous: timed out after 30 s")
