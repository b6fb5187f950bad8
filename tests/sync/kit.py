"""A merchant on both simulators, served over real HTTP on loopback, and the worker pointed at it.

The catalogue covers what the flows must handle: simples at three VAT rates, a configurable
(``TEE`` with ``TEE-S``/``TEE-M``), a fixed-SKU bundle (``DESK`` = ``RAM`` + ``MONITOR``, a kit in
Stokly), a dynamic-SKU bundle (``PC``) and a Magento SKU Stokly does not know (``GHOST``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from watchdog.clients import ClientOptions, open_clients
from watchdog.config import IntegrationConfig, MagentoConfig, StoklyConfig, SyncConfig
from watchdog.connectors.http import RetryPolicy
from watchdog.secret import Secret
from watchdog.simulators.faults import FaultInjector
from watchdog.simulators.magento import (
    BundleOptionSpec,
    CustomerSpec,
    MagentoState,
    OrderItemSpec,
    ShippingSpec,
)
from watchdog.simulators.magento import create_app as magento_app
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly import StoklySimSettings, StoklyState
from watchdog.simulators.stokly import create_app as stokly_app
from watchdog.store.db import Store
from watchdog.sync import LedgerPolicy, SyncSummary, WorkerOptions, run_flows

SOURCE = "wh1"
SIMPLES = {"MUG": 20, "BOOK": 0, "CHAIR": 5, "TEE-S": 20, "TEE-M": 20, "RAM": 20, "MONITOR": 20, "CABLE": 20}
PRICES = {"MUG": 8, "BOOK": 12, "CHAIR": 45, "TEE-S": 20, "TEE-M": 20, "RAM": 30, "MONITOR": 90, "CABLE": 5}
FAST_RETRY = RetryPolicy(attempts=4, base_s=0.001, cap_s=0.01, max_retry_after_s=0.05)
FAST_LEDGER = LedgerPolicy(lease=timedelta(seconds=30), retry_base=timedelta(0), ambiguous_delay=timedelta(0),
                           wait_interval=timedelta(0), max_attempts=8)
ZERO = Decimal(0)


class ShopClock:
    """The Magento simulator's clock: real time, or a fixed moment while history is being made."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


@dataclass
class Shop:
    """Both simulated systems of one merchant, their servers, and the ids the tests need."""

    magento: MagentoState
    stokly: StoklyState
    magento_faults: FaultInjector
    stokly_faults: FaultInjector
    token: str
    warehouse: str
    shop_location: str
    channel: str
    items: dict[str, str] = field(default_factory=dict)  # sku -> Stokly item id
    servers: list[ServedApp] = field(default_factory=list)
    clock: ShopClock = field(default_factory=ShopClock)

    @property
    def magento_url(self) -> str:
        return self.servers[0].url

    @property
    def stokly_url(self) -> str:
        return self.servers[1].url

    def integration(self, **sync: Any) -> IntegrationConfig:
        """The integration pointed at the served simulators (``sync`` overrides SyncConfig fields)."""
        settings = StoklySimSettings()
        magento = MagentoConfig(base_url=self.magento_url, auth="bearer", source_code=SOURCE,
                                bearer_token=Secret(self.token), timeout_s=5.0, concurrency=8, rate_per_s=0.0)
        stokly = StoklyConfig(base_url=self.stokly_url, account_key=Secret(settings.account_key),
                              client_id=Secret(settings.client_id), client_secret=Secret(settings.client_secret),
                              channel_id=self.channel, timeout_s=5.0, concurrency=8, rate_per_s=0.0)
        defaults = {"settle": timedelta(0), "overlap": timedelta(minutes=5)}
        return IntegrationConfig(name="acme", currency="GBP", timezone="Europe/London", magento=magento,
                                 stokly=stokly, sync=replace(SyncConfig(), **{**defaults, **sync}))

    # ------------------------------------------------------------------ the world acting

    def order(self, *lines: OrderItemSpec, guest: bool = False, customer_id: int = 7,
              email: str = "jane@example.com", shipping: int = 5) -> int:
        """Place and pay a Magento order; returns its entity id."""
        customer = CustomerSpec(email=email, customer_id=None if guest else customer_id)
        return self.magento.place_order(list(lines), customer=customer, shipping=ShippingSpec(amount=shipping))

    def increment(self, order_id: int) -> str:
        with self.magento.lock:
            return self.magento.orders[order_id].increment_id

    def sale_order(self, order_id: int) -> Any:
        """The Stokly sale order of a Magento order (the only one; fails if there are several)."""
        number = self.increment(order_id)
        found = [o for o in self.stokly.sale_orders() if o.source_reference_id == number]
        assert len(found) == 1, f"{len(found)} Stokly orders for Magento order {order_id}"
        return found[0]

    def dispatch(self, order_id: int, tracking: str, lines: dict[str, int] | None = None) -> str:
        """Dispatch (part of) the Stokly order of a Magento order; ``lines`` by SKU -> quantity."""
        so = self.sale_order(order_id)
        wanted = None
        if lines is not None:
            by_sku = {self.stokly.item(ln.item_id).sku: ln.line_id for ln in so.top_lines}
            wanted = {by_sku[sku]: Decimal(q) for sku, q in lines.items()}
        return self.stokly.dispatch(so.sale_order_id, carrier="Royal Mail", service="Tracked 48",
                                    tracking_number=tracking, lines=wanted)

    def shipments(self, order_id: int) -> list[dict[str, Any]]:
        return self.magento.shipments_json(order_id)

    def tracks(self, order_id: int) -> list[str]:
        return [t["track_number"] for s in self.shipments(order_id) for t in s.get("tracks", [])]

    def item_id(self, order_id: int, sku: str) -> int:
        """The top-level Magento order item id for ``sku``."""
        return self.top_item(order_id, sku).item_id

    def top_item(self, order_id: int, sku: str) -> Any:
        """The top-level Magento order item (the simulator's record) for ``sku``."""
        with self.magento.lock:
            return next(i for i in self.magento.orders[order_id].items if i.sku == sku and i.parent_item_id is None)

    def memo_reference(self, memo_id: int) -> str:
        """The Stokly credit note reference of a Magento credit memo."""
        with self.magento.lock:
            return f"MAG-CM-{self.magento.credit_memos[memo_id].increment_id}"

    def credit_notes(self, memo_id: int) -> list[Any]:
        reference = self.memo_reference(memo_id)
        return [c for c in self.stokly.credit_notes() if c.spec.source_reference_id == reference]


class CompleteBodies:
    """ASGI guard: a request whose body never fully arrived is not handled, as nginx and PHP-FPM do.

    The Magento simulator's ``BufferedBody`` runs a request even when the client vanished in the
    middle of sending it (the crash test kills workers mid-request): a ``ship`` whose body was cut
    off became "ship everything, no tracking". Real Magento never sees such a request.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away before its request was complete
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Any:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)


def _catalogue(magento: MagentoState, stokly: StoklyState, warehouse: str, stock: int) -> dict[str, str]:
    magento.add_source(SOURCE, "Warehouse 1")
    magento.link_source(1, SOURCE)
    items: dict[str, str] = {}
    for sku, price in PRICES.items():
        magento.add_simple(sku, price=Decimal(price))
        magento.set_source_item(sku, SOURCE, stock)
        items[sku] = stokly.add_item(sku, sku.title())
        stokly.set_stock(items[sku], warehouse, stock)
    magento.add_simple("GHOST", price=Decimal(3))
    magento.set_source_item("GHOST", SOURCE, 4)
    magento.add_configurable("TEE", ["TEE-S", "TEE-M"], "Radiant Tee", price=Decimal(20))
    items["TEE"] = stokly.add_variable_item("TEE", "Tee", [items["TEE-S"], items["TEE-M"]])
    magento.add_bundle("DESK", [BundleOptionSpec("RAM", ("RAM",)), BundleOptionSpec("Screen", ("MONITOR",))],
                       "Desk set", dynamic_sku=False, price=Decimal(110))
    items["DESK"] = stokly.add_kit("DESK", "Desk set", [(items["RAM"], 1), (items["MONITOR"], 1)])
    magento.add_bundle("PC", [BundleOptionSpec("RAM", ("RAM",)), BundleOptionSpec("Screen", ("MONITOR",))],
                       "Custom PC", dynamic_sku=True, price=Decimal(150))
    return items


@contextmanager
def served_shop(*, designated: bool = True, seed: int = 1, stock: int = 100) -> Iterator[Shop]:
    """The merchant on both simulators over real HTTP (stopped on exit); ``stock`` units of each simple SKU."""
    clock = ShopClock()
    magento, stokly = MagentoState(seed=seed, clock=clock), StoklyState(seed=seed)
    warehouse, shop_location = stokly.add_location("Warehouse"), stokly.add_location("Shop")
    items = _catalogue(magento, stokly, warehouse, stock)
    channel = stokly.add_channel("Magento UK", allocate_sold_location_id=warehouse if designated else None,
                                 inventory_location_ids=[warehouse])
    creds = magento.add_integration("stokly")
    m_faults, s_faults = FaultInjector(seed=seed), FaultInjector(seed=seed + 1)
    servers = [ServedApp(CompleteBodies(magento_app(magento, injector=m_faults)), name="magento").start(),
               ServedApp(stokly_app(stokly, settings=StoklySimSettings(rate_limit=0), faults=s_faults),
                         name="stokly").start()]
    try:
        yield Shop(magento, stokly, m_faults, s_faults, creds.access_token, warehouse, shop_location, channel, items,
                   servers, clock)
    finally:
        stopping = [threading.Thread(target=server.stop) for server in servers]  # in parallel: 0.1 s each
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


def config_env(shop: Shop) -> dict[str, str]:
    """The environment the TOML of ``write_config`` names its secrets in."""
    settings = StoklySimSettings()
    return {"SIM_MAGENTO_TOKEN": shop.token, "SIM_STOKLY_ACCOUNT": settings.account_key,
            "SIM_STOKLY_CLIENT": settings.client_id, "SIM_STOKLY_SECRET": settings.client_secret}


def write_config(tmp: Path, shop: Shop, *, sync: dict[str, Any] | None = None) -> Path:
    """A TOML configuration for the served shop (SQLite in ``tmp``); secrets by ``config_env`` names."""
    settings = "\n".join(f"  {k} = {json.dumps(v)}" for k, v in {"settle": "0s", **(sync or {})}.items())
    path = tmp / "watchdog.toml"
    path.write_text(f"""
[database]
url = "sqlite:///{tmp}/worker.db"

[[integrations]]
name = "acme"
currency = "GBP"
timezone = "Europe/London"
  [integrations.magento]
  base_url = "{shop.magento_url}"
  auth = "bearer"
  token_env = "SIM_MAGENTO_TOKEN"
  source_code = "{SOURCE}"
  timeout_s = 10
  rate_per_s = 0
  [integrations.stokly]
  base_url = "{shop.stokly_url}"
  account_key_env = "SIM_STOKLY_ACCOUNT"
  client_id_env = "SIM_STOKLY_CLIENT"
  client_secret_env = "SIM_STOKLY_SECRET"
  channel_id = "{shop.channel}"
  rate_per_s = 0
  [integrations.sync]
{settings}
""")
    return path


def fast_options(**changes: Any) -> WorkerOptions:
    return replace(WorkerOptions(ledger=FAST_LEDGER, concurrency=8, chunk=50), **changes)


async def sync(shop: Shop, store: Store, flows: tuple[str, ...] = ("orders", "fulfilment", "refunds", "stock"), *,
               integration: IntegrationConfig | None = None, options: WorkerOptions | None = None,
               full_stock: bool | None = None) -> SyncSummary:
    """One run of the worker against the served shop."""
    integration = integration or shop.integration()
    async with open_clients(integration, options=ClientOptions(retry=FAST_RETRY)) as clients:
        return await run_flows(integration, store, clients.magento, clients.stokly, flows,
                               options=options or fast_options(), full_stock=full_stock)


def line(sku: str, qty: int = 1, *, tax: int | None = None, **kwargs: Any) -> OrderItemSpec:
    """An order line; the VAT rate defaults to the SKU's."""
    rate = tax if tax is not None else SIMPLES.get(sku, 20)
    return OrderItemSpec(sku, qty, tax_percent=rate, **kwargs)


def backlog(store: Store) -> dict[str, int]:
    """Ledger rows (stock aside) not confirmed, counted by state: empty when every record landed."""
    from sqlalchemy import func, select

    from watchdog.store.models_sync import SyncRecordRow

    with store.session() as s:
        rows = s.execute(select(SyncRecordRow.state, func.count()).where(SyncRecordRow.flow != "stock")
                         .group_by(SyncRecordRow.state))
        return {state: n for state, n in rows if state != "confirmed"}
