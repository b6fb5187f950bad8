"""What every flow is given: clients, ledger, clock, options, observer; plus caches of one run.

Nothing here reads the environment or opens a connection: the worker injects it all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from watchdog.config import IntegrationConfig
from watchdog.connectors.magento import MagentoClient
from watchdog.connectors.stokly import StoklyClient
from watchdog.model import Item, ItemFormat, SaleOrder
from watchdog.sync.ledger import Ledger, LedgerPolicy
from watchdog.sync.redact import Redactor

__all__ = ["FlowContext", "ItemMaster", "Progress", "SaleOrders", "SyncObserver", "WorkerOptions", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SyncObserver(Protocol):
    """What the worker reports as it goes; ``watchdog.metrics.Metrics`` satisfies it."""

    def flow_ran(self, integration: str, flow: str, outcome: str, at: datetime) -> None: ...

    def sync_record(self, integration: str, flow: str, outcome: str, lag_seconds: float | None = None) -> None: ...


class Progress(Protocol):
    """Told how far a flow has got (for a progress bar on long backfills)."""

    def update(self, flow: str, done: int) -> None: ...

    def finish(self, flow: str) -> None: ...


@dataclass(frozen=True)
class WorkerOptions:
    """Knobs of the worker that are not part of the integration's configuration.

    - ``ledger``: leases and retry timing (``max_attempts`` is taken from the integration's
      ``[sync]`` settings); ``worker_id``: who holds claims (default ``host:pid``);
    - ``concurrency``: records processed at once per flow (records of one order run in turn);
    - ``chunk``: records per cursor step (the cursor advances after each chunk is settled);
    - ``claim_batch``: records claimed (and looked up in the target) together: the most a dead
      worker leaves locked until its lease runs out;
    - ``initial_lookback``: how far back the first run of a cursor flow reads;
    - ``stock_bulk_threshold``: pushing more source items than this uses Magento's async bulk
      API with status polling (0 disables it); ``full_stock_every``: the full push interval;
    - ``bulk_poll`` / ``bulk_timeout``: status polling of a bulk push.
    """

    ledger: LedgerPolicy = field(default_factory=LedgerPolicy)
    worker_id: str | None = None
    concurrency: int = 8
    chunk: int = 50
    claim_batch: int = 25
    initial_lookback: timedelta = timedelta(days=7)
    stock_bulk_threshold: int = 1000
    full_stock_every: timedelta = timedelta(hours=24)
    bulk_poll: timedelta = timedelta(seconds=2)
    bulk_timeout: timedelta = timedelta(minutes=5)


class ItemMaster:
    """Stokly items by SKU, read in batches and kept for one run (``None``: Stokly does not know it)."""

    def __init__(self, stokly: StoklyClient) -> None:
        self._stokly = stokly
        self._known: dict[str, Item | None] = {}

    async def load(self, skus: Iterable[str]) -> None:
        """Read the SKUs not read yet (one filtered request per 200). Raises UpstreamError."""
        missing = sorted({s for s in skus if s and s not in self._known})
        if not missing:
            return
        found: dict[str, Item] = {}
        for item in await self._stokly.items(skus=missing):
            if item.active and (item.sku not in found or item.format is not ItemFormat.VARIABLE):
                found[item.sku] = item
        for sku in missing:
            self._known[sku] = found.get(sku)

    def get(self, sku: str) -> Item | None:
        """The active item with exactly this SKU, if loaded and known."""
        return self._known.get(sku)


class SaleOrders:
    """Stokly sale orders with their lines, read once per run (for flows that need no fresher copy)."""

    def __init__(self, stokly: StoklyClient) -> None:
        self._stokly = stokly
        self._read: dict[str, SaleOrder] = {}

    async def get(self, sale_order_id: str) -> SaleOrder:
        """The sale order as first read this run. Raises UpstreamError (404: it does not exist)."""
        if sale_order_id not in self._read:
            self._read[sale_order_id] = await self._stokly.sale_order(sale_order_id)
        return self._read[sale_order_id]


@dataclass
class FlowContext:
    """One integration's view for one run of the worker."""

    integration: IntegrationConfig
    magento: MagentoClient
    stokly: StoklyClient
    ledger: Ledger
    clock: Callable[[], datetime]
    options: WorkerOptions
    redactor: Redactor
    observer: SyncObserver | None = None
    progress: Progress | None = None
    items: ItemMaster = field(init=False)
    sale_orders: SaleOrders = field(init=False)

    def __post_init__(self) -> None:
        self.items = ItemMaster(self.stokly)
        self.sale_orders = SaleOrders(self.stokly)

    @property
    def name(self) -> str:
        return self.integration.name

    def now(self) -> datetime:
        return self.clock()

    def record(self, flow: str, outcome: str, lag_seconds: float | None = None) -> None:
        """Tell the observer about one settled record."""
        if self.observer is not None:
            self.observer.sync_record(self.name, flow, outcome, lag_seconds)
