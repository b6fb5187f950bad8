"""Helpers the benchmarks share: a merchant of any size, served simulators, child processes, tables.

- ``bulk_merchant(skus, orders, now)``: a merchant in both simulators. Orders, shipments,
  refunds and the injected failures come from ``build_merchant`` (a scenario over a small core
  catalogue, ``CORE_SKUS``); the rest of the catalogue is loaded in bulk straight into the
  simulators' tables (their ``add_*`` operations look SKUs up by scanning, which is quadratic
  at 100,000 SKUs), every bulk SKU in sync in both systems.
- ``Served``: both simulator apps on loopback with a base latency per request, optionally behind
  ``ReplayCache`` (see there), and the ``IntegrationConfig`` pointing the real connectors at them.
- ``in_child(module, payload)``: run ``<module>.child(payload)`` in a fresh interpreter and return
  its JSON answer, so a figure such as peak RSS is that work's own.
- ``table`` and ``figure_line``: what the benchmarks print.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode

from watchdog.config import IntegrationConfig, MagentoConfig, StoklyConfig, SyncConfig
from watchdog.model import ItemFormat
from watchdog.secret import Secret
from watchdog.simulators.embedded import DEFAULT_CREDENTIALS
from watchdog.simulators.faults import FaultInjector
from watchdog.simulators.magento import create_app as magento_app
from watchdog.simulators.magento.records import ProductRec
from watchdog.simulators.magento.specs import IntegrationCredentials
from watchdog.simulators.merchant import CHANNEL_ID, SOURCE_CODE, Merchant, build_merchant
from watchdog.simulators.scenario import Injection, ScenarioSpec
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly import StoklySimSettings
from watchdog.simulators.stokly import create_app as stokly_app
from watchdog.simulators.stokly.records import SimItem

__all__ = [
    "CORE_SKUS",
    "ORDER",
    "ReplayCache",
    "Served",
    "Statuses",
    "bulk_merchant",
    "figure_line",
    "in_child",
    "integration_for",
    "peak_rss_mb",
    "table",
]

REPO = Path(__file__).resolve().parents[1]
CORE_SKUS = 200
BULK_STOCK = 50
#: The order of the figures on the final line of ``python -m bench``.
ORDER = ("P1_floor_ratio", "P1_speedup", "P1_rss_mb", "P2_rate_share", "P3_p95_s", "P4_scrape_ms", "P5_check_s")
INJECTIONS = (Injection("stock_divergence", 4), Injection("missing_orders", 2), Injection("rejected_tracking", 2),
              Injection("missing_credit_notes", 2), Injection("sku_mismatch", 2), Injection("unlocated_stock", 1))

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


# --------------------------------------------------------------------------- the merchant


def bulk_merchant(skus: int, orders: int, now: datetime, *, seed: int = 7) -> Merchant:
    """A merchant with ``skus`` simple SKUs and ``orders`` orders over the last 48 h, as of ``now``.

    ``merchant.expected`` is the ground truth (the scenario's injections); bulk SKUs hold
    ``BULK_STOCK`` units in both systems and appear in no order.
    """
    core = min(skus, max(CORE_SKUS, orders // 5))  # ~5 orders per SKU: Stokly stock is never oversold
    spec = ScenarioSpec(seed=seed, simple_skus=core, configurables=0, bundles=0, orders=orders,
                        in_flight_orders=0, history=timedelta(hours=48), injections=INJECTIONS)
    merchant = build_merchant(spec, now)
    _bulk_catalogue(merchant, range(core + 1, skus + 1), now)
    return merchant


def _bulk_catalogue(m: Merchant, numbers: Iterable[int], now: datetime) -> None:
    deltas: dict[str, Decimal] = {}
    with m.magento.lock:
        for n in numbers:
            sku = f"BULK-{n:06d}"
            product_id = m.magento.next_id("product")
            m.magento.products[sku] = ProductRec(id=product_id, sku=sku, name=f"Product {n}", type_id="simple",
                                                 price=Decimal("9.99"), weight=Decimal(1), created_at=now,
                                                 updated_at=now)
            m.magento.set_source_item(sku, SOURCE_CODE, BULK_STOCK)
            item_id = m.stokly.new_id()
            m.stokly._items[item_id] = SimItem(item_id, sku, f"Product {n}", ItemFormat.SIMPLE, 0, (), now, now)
            m.stokly.add_listing(m.channel_id, item_id, reference_id=str(product_id))
            m.item_ids[sku] = item_id
            deltas[item_id] = Decimal(BULK_STOCK)
    pending = list(deltas.items())
    for start in range(0, len(pending), 5000):
        m.stokly.adjust(m.location_id, dict(pending[start:start + 5000]), reason="Stock take")


# --------------------------------------------------------------------------- serving


class ReplayCache:
    """ASGI middleware in front of a simulator: each GET answered once by the simulator, then replayed.

    The simulators keep plain tables and render, filter and sort the whole table for every page
    (fine for tests, quadratic at 100,000 SKUs). A read-only benchmark records every answer in an
    untimed first pass and times later passes whose answers are replayed byte for byte after the
    injector's ``base_latency_s``: the figure is the watchdog's, not the simulator's. A list page
    is cut from one unpaged answer of the simulator to the same query (Magento ``pageSize=0``,
    Stokly one page as large as ``max_page_size``), wrapped in the envelope the simulator gives a
    page. Writes, ``/_sim/`` and failures always reach the simulator.
    """

    def __init__(self, app: Any, injector: FaultInjector, system: str) -> None:
        self.app = app
        self.injector = injector
        self.system = system
        self.pages: dict[tuple[str, bytes], Answer] = {}
        self._lists: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Answer, Any]] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith("/_sim/"):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
        answer = self.pages.get(key)
        if answer is None:
            answer = await self._answer(scope, receive)
            if answer.status == 200:
                self.pages[key] = answer
        else:
            await asyncio.sleep(self.injector.base_latency_s)
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def _answer(self, scope: Scope, receive: Any) -> Answer:
        params = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
        size_name, page_name = PAGING[self.system]
        if not any(name in (size_name, page_name) for name, _ in params):
            return await _call(self.app, scope, receive, scope.get("query_string", b""))
        query = tuple((n, v) for n, v in params if n not in (size_name, page_name))
        listed = self._lists.get((scope["path"], query))
        if listed is None:
            unpaged = urlencode([*query, *UNPAGED[self.system]]).encode()
            full = await _call(self.app, scope, receive, unpaged)
            if full.status != 200:
                return full
            listed = self._lists[(scope["path"], query)] = (full, json.loads(full.body))
        paging = dict(params)
        return _page(self.system, listed, paging.get(size_name), paging.get(page_name))


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


PAGING = {"magento": ("searchCriteria[pageSize]", "searchCriteria[currentPage]"), "stokly": ("size", "page")}
UNPAGED = {"magento": (("searchCriteria[pageSize]", "0"), ("searchCriteria[currentPage]", "1")),
           "stokly": (("size", str(10**9)), ("page", "0"))}


async def _call(app: Any, scope: Scope, receive: Any, query: bytes) -> Answer:
    """The app's whole answer to ``scope`` with ``query`` as its query string."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app({**scope, "query_string": query}, receive, keep)
    return Answer(int(start.get("status", 500)), list(start.get("headers", [])), b"".join(chunks))


def _page(system: str, listed: tuple[Answer, Any], size_text: str | None, page_text: str | None) -> Answer:
    """One page of an unpaged answer, in the envelope the simulator gives that page."""
    full, doc = listed
    if system == "magento":
        size, page = int(size_text or 0), max(1, int(page_text or 1))
        everything = doc.get("items", [])
        items = everything if size <= 0 else everything[(page - 1) * size: page * size]
        echo = {**doc.get("search_criteria", {}), "page_size": size, "current_page": page}
        whole: dict[str, Any] = {"items": items, "search_criteria": echo, "total_count": doc.get("total_count")}
        data: Any = {key: value for key, value in whole.items() if key in doc}  # as ?fields= trimmed it
    else:
        size, page = int(size_text or 100), int(page_text or 0)
        data = {"data": doc["data"][page * size: page * size + size], "metadata": doc["metadata"]}
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [(k, str(len(body)).encode() if k.lower() == b"content-length" else v) for k, v in full.headers]
    return Answer(200, headers, body)


class Statuses:
    """ASGI middleware counting the API answers (``/_sim/`` aside) by status, and the most at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[int] = Counter()
        self.in_flight = self.most_in_flight = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counts[int(message["status"])] += 1
            await send(message)

        self.in_flight += 1  # one event loop per server: no lock needed
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.app(scope, receive, counted)
        finally:
            self.in_flight -= 1


@dataclass
class Served:
    """Both simulators of ``merchant`` on loopback; ``replay`` puts a ``ReplayCache`` in front."""

    merchant: Merchant
    latency_s: float = 0.0
    replay: bool = False
    stokly_settings: StoklySimSettings | None = None

    def __post_init__(self) -> None:
        c = DEFAULT_CREDENTIALS
        self.merchant.magento.add_integration("bench", credentials=IntegrationCredentials(
            "bench", c.magento_consumer_key, c.magento_consumer_secret, c.magento_access_token,
            c.magento_token_secret))
        self.magento_faults, self.stokly_faults = FaultInjector(seed=1), FaultInjector(seed=2)
        for faults in (self.magento_faults, self.stokly_faults):
            faults.base_latency_s = self.latency_s
        settings = self.stokly_settings or StoklySimSettings(rate_limit=0, max_page_size=10**9)
        self.stokly = stokly_app(self.merchant.stokly, settings=settings, faults=self.stokly_faults)
        apps: list[Any] = [magento_app(self.merchant.magento, injector=self.magento_faults), self.stokly]
        if self.replay:
            apps = [ReplayCache(apps[0], self.magento_faults, "magento"),
                    ReplayCache(apps[1], self.stokly_faults, "stokly")]
        self.caches = [a for a in apps if isinstance(a, ReplayCache)]
        self.statuses = (Statuses(apps[0]), Statuses(apps[1]))
        self.servers = [ServedApp(self.statuses[0], name="magento"), ServedApp(self.statuses[1], name="stokly")]

    def __enter__(self) -> Served:
        for server in self.servers:
            server.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for server in self.servers:
            server.stop()

    @property
    def urls(self) -> tuple[str, str]:
        return self.servers[0].url, self.servers[1].url

    def set_latency(self, seconds: float) -> None:
        for faults in (self.magento_faults, self.stokly_faults):
            faults.base_latency_s = seconds


def integration_for(magento_url: str, stokly_url: str, *, concurrency: int = 8, stokly_rate: float = 0.0,
                    timeout_s: float = 30.0, checks: Mapping[str, Mapping[str, Any]] | None = None,
                    sync: SyncConfig | None = None, routes: Mapping[str, str] | None = None,
                    name: str = "bench") -> IntegrationConfig:
    """An integration pointing the real connectors at the served simulators (Bearer auth)."""
    c = DEFAULT_CREDENTIALS
    magento = MagentoConfig(base_url=magento_url, auth="bearer", source_code=SOURCE_CODE,
                            bearer_token=Secret(c.magento_access_token), timeout_s=timeout_s,
                            concurrency=concurrency, rate_per_s=0.0)
    stokly = StoklyConfig(base_url=stokly_url, account_key=Secret(c.stokly_account),
                          client_id=Secret(c.stokly_client_id), client_secret=Secret(c.stokly_client_secret),
                          channel_id=CHANNEL_ID, timeout_s=timeout_s, concurrency=concurrency,
                          rate_per_s=stokly_rate)
    frozen = MappingProxyType({k: MappingProxyType(dict(v)) for k, v in (checks or {}).items()})
    return IntegrationConfig(name=name, currency="GBP", timezone="Europe/London", magento=magento, stokly=stokly,
                             sync=sync or SyncConfig(), checks=frozen, routes=MappingProxyType(dict(routes or {})))


# --------------------------------------------------------------------------- processes and output


def in_child(module: str, payload: Mapping[str, Any], *, timeout_s: float = 3600.0) -> dict[str, Any]:
    """``<module>.child(payload)`` run in a fresh interpreter; its JSON answer. Raises RuntimeError."""
    code = f"import json, sys, {module} as m; print(json.dumps(m.child(json.loads(sys.stdin.read()))))"
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(payload), capture_output=True,
                          text=True, cwd=REPO, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{module}.child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB.

    Linux's ``VmHWM`` (the high-water mark of this process's own memory): ``ru_maxrss`` would
    also count the parent's memory at the moment it forked this process.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table: right-aligned columns, floats with three significant decimals."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = [title, "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def figure_line(figures: Mapping[str, float]) -> str:
    """``P1_floor_ratio=... P1_speedup=... ...``: the required figures first, then any others."""
    names = [n for n in ORDER if n in figures] + sorted(n for n in figures if n not in ORDER)
    return " ".join(f"{n}={_value(figures[n])}" for n in names)


def _value(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
