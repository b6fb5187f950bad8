"""``StoklyState``: one simulated Stokly account, with a typed in-process domain API.

Scenarios, the demo's trading simulation and tests drive the account directly::

    state = StoklyState(seed=1)
    wh = state.add_location("Warehouse")
    sku = state.add_item("ABC-1", "Widget")
    state.set_stock(sku, wh, 10)
    ch = state.add_channel("Magento UK", allocate_sold_location_id=wh)
    so = state.create_sale_order(ch, "000000123", [LineSpec(sku, Decimal(2), Decimal("8.33"), Decimal("1.67"))])
    state.available(sku, wh)   # Decimal(8)

The same account is served over HTTP by ``create_app(state)``. Every method is thread-safe.
"""

from __future__ import annotations

from threading import RLock
from typing import Any

from watchdog.simulators.stokly.base import Clock
from watchdog.simulators.stokly.catalog import CatalogMixin
from watchdog.simulators.stokly.fulfilment import FulfilmentMixin

__all__ = ["StoklyState"]


class StoklyState(FulfilmentMixin, CatalogMixin):
    """One simulated Stokly account (see the module docstring and each mixin)."""

    def __init__(self, *, account_key: str = "acme", seed: int = 0, clock: Clock | None = None) -> None:
        super().__init__(account_key=account_key, seed=seed, clock=clock)

    @property
    def lock(self) -> RLock:
        """The account's lock: hold it to read several tables consistently."""
        return self._lock

    def summary(self) -> dict[str, Any]:
        """Counts of every table plus pending and rejected writes (for ``/_sim/state``)."""
        with self._lock:
            return {
                "accountkey": self.account_key,
                "items": len(self._items),
                "locations": len(self._locations),
                "bins": len(self._bins),
                "movements": len(self._movements),
                "channels": len(self._channels),
                "listings": len(self._listings),
                "customers": len(self._customers),
                "saleorders": len(self._orders),
                "invoices": len(self._invoices),
                "shipments": len(self._dispatches),
                "creditNotes": len(self._credit_notes),
                "pendingWrites": len(self._pending),
                "rejectedWrites": list(self.rejected_writes),
            }
