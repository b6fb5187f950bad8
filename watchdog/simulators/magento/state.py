"""``MagentoState``: one simulated Magento 2.4 store with MSI, usable in-process and over HTTP.

In-process domain API (every method takes the state's lock; errors are the ``MagentoError`` the
REST API would return, or ``ValueError``/``KeyError`` for misuse of the simulator itself):

- catalogue: ``add_simple``, ``add_configurable``, ``add_bundle``, ``set_product_status``;
- inventory: ``add_source``, ``set_source_enabled``, ``add_stock``, ``link_source``,
  ``unlink_source``, ``set_source_item``, ``save_source_items``, ``delete_source_items``;
- sales: ``place_order``, ``create_invoice``, ``ship``, ``ship_manually``, ``add_track``,
  ``delete_track``, ``refund``, ``cancel``, ``hold``, ``unhold``, ``add_comment``;
- access: ``add_integration``, ``add_admin_user``, ``issue_admin_token``;
- read-backs: ``source_qty``, ``salable_qty``, ``reservations_for``, ``order_json``,
  ``shipments_json``, ``credit_memos_json``, ``invoices_json``, ``summary``.

Ids come from per-table sequences and tokens from a seeded RNG, so a run repeats exactly given
the same seed, clock and calls.
"""

from __future__ import annotations

from typing import Any

from .access import AccessOps
from .core import Clock, locked, utc_now
from .render import num
from .settings import SimSettings
from .views_sales import creditmemo_json, invoice_json, order_json, shipment_json

__all__ = ["MagentoState"]


class MagentoState(AccessOps):
    """A simulated Magento store: catalogue, MSI, orders and their documents, integrations."""

    def __init__(self, *, seed: int = 0, clock: Clock = utc_now, settings: SimSettings | None = None) -> None:
        super().__init__(seed=seed, clock=clock, settings=settings)
        self.bootstrap_inventory()

    @locked
    def configure(self, **changes: Any) -> SimSettings:
        """Change settings (see ``SimSettings``); returns the new settings. Raises ValueError."""
        self.settings = self.settings.updated(changes)
        return self.settings

    @locked
    def order_json(self, order_id: int) -> dict[str, Any]:
        """The order as ``GET /V1/orders/{id}`` renders it. Raises MagentoError 404."""
        return order_json(self.order_or_error(order_id))

    @locked
    def shipments_json(self, order_id: int | None = None) -> list[dict[str, Any]]:
        """Shipments (of one order, or all) as ``GET /V1/shipment/{id}`` renders them."""
        return [shipment_json(s, self.orders.get(s.order_id)) for s in self.shipments.values()
                if order_id is None or s.order_id == order_id]

    @locked
    def credit_memos_json(self, order_id: int | None = None) -> list[dict[str, Any]]:
        """Credit memos (of one order, or all) as ``GET /V1/creditmemo/{id}`` renders them."""
        return [creditmemo_json(m, self.orders.get(m.order_id)) for m in self.credit_memos.values()
                if order_id is None or m.order_id == order_id]

    @locked
    def invoices_json(self, order_id: int | None = None) -> list[dict[str, Any]]:
        """Invoices (of one order, or all) as ``GET /V1/invoices/{id}`` renders them."""
        return [invoice_json(i, self.orders.get(i.order_id)) for i in self.invoices.values()
                if order_id is None or i.order_id == order_id]

    @locked
    def summary(self) -> dict[str, Any]:
        """A compact picture of the store for ``/_sim/state`` and for people reading a demo."""
        states: dict[str, int] = {}
        for order in self.orders.values():
            states[order.state] = states.get(order.state, 0) + 1
        stock: dict[str, dict[str, Any]] = {}
        for (sku, code), item in self.source_items.items():
            stock.setdefault(sku, {})[code] = num(item.quantity)
        return {
            "products": len(self.products), "sources": sorted(self.sources), "stocks": sorted(self.stocks),
            "source_items": stock, "reservations": {sku: num(self.reserved(sku, 1)) for sku in sorted(stock)},
            "orders": {"total": len(self.orders), "by_state": states}, "shipments": len(self.shipments),
            "tracks": len(self.tracks), "invoices": len(self.invoices), "credit_memos": len(self.credit_memos),
            "bulks": len(self.bulks), "settings": self.settings.to_json(),
        }
