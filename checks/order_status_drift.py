"""order_status_drift: dispatched in Stokly, not shipped in Magento after the settle window.

Per Magento-channel order: the units Stokly dispatched before the settle window
(``settle``, default 2h; lines as sold, kit components not counted twice) exceed the
units Magento shipped (lines without a parent), while the Magento order is still open
(not complete, closed or canceled). Orders with a tracked dispatch missing from Magento
are ``rejected_tracking``'s (one finding per cause, not two). Measures: ``units``
(dispatched but not shipped), ``stokly_dispatched``, ``magento_shipped``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from checks._common import (
    CLOSED_STATES,
    ZERO,
    channel_sale_orders,
    fmt,
    magento_link,
    orders_by_increment,
    settled_before,
    stokly_link,
    top_level_quantity,
)
from checks.rejected_tracking import tracks_by_order, untracked
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import Dispatch, Order, SaleOrder

__all__ = ["OrderStatusDrift", "dispatched_units"]

DEFAULT_SETTLE = timedelta(hours=2)


def dispatched_units(sale_order: SaleOrder, dispatches: Iterable[Dispatch]) -> Decimal:
    """Units of ``dispatches`` on the order's lines as sold (lines with a parent are components)."""
    components = {line.line_id for line in sale_order.lines if line.parent_id is not None}
    return sum((dl.quantity for d in dispatches for dl in d.lines if dl.line_id not in components), ZERO)


class OrderStatusDrift:
    id: ClassVar[str] = "order_status_drift"
    owner: ClassVar[Team] = Team.OPERATIONS
    runbook: ClassVar[str] = "docs/runbooks/order_status_drift.md"
    needs: ClassVar[frozenset[str]] = frozenset({
        "magento.orders", "magento.shipments", "stokly.sale_orders", "stokly.dispatches",
    })

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        settled = settled_before(ctx, DEFAULT_SETTLE)
        dispatches: dict[str, list[Dispatch]] = defaultdict(list)
        for d in need(ctx.stokly.dispatches, "stokly.dispatches"):
            dispatches[d.sale_order_id].append(d)
        orders = orders_by_increment(need(ctx.magento.orders, "magento.orders"))
        tracks = tracks_by_order(need(ctx.magento.shipments, "magento.shipments"))
        for so in channel_sale_orders(ctx, need(ctx.stokly.sale_orders, "stokly.sale_orders")):
            order = orders.get(so.source_reference_id or "")
            group = dispatches.get(so.sale_order_id)
            if order is None or order.state in CLOSED_STATES or not group:
                continue
            done = [d for d in group if d.dispatched_at <= settled]
            finding = self._drift(ctx, so, order, done) if done else None
            magento_tracks = tracks.get(order.entity_id, set())
            if finding is not None and not any(untracked(d, magento_tracks) for d in group):  # else: same cause
                yield finding

    def _drift(self, ctx: CheckContext, so: SaleOrder, order: Order, group: list[Dispatch]) -> Finding | None:
        stokly = dispatched_units(so, group)
        magento = top_level_quantity(order.lines, "qty_shipped")
        if stokly <= magento:
            return None
        units = stokly - magento
        last: datetime = max(d.dispatched_at for d in group)
        return Finding(
            check=self.id, subject=f"order:{order.increment_id}", severity=Severity.WARNING, owner=self.owner,
            summary=(f"Magento order {order.increment_id} still shows {order.state}: Stokly dispatched "
                     f"{fmt(units)} unit(s) Magento has not shipped (last dispatch {last:%Y-%m-%d %H:%M} UTC); "
                     "create the shipment in Magento so the customer is told"),
            measures={"units": units, "stokly_dispatched": stokly, "magento_shipped": magento},
            links={**magento_link(ctx, f"sales/order/view/order_id/{order.entity_id}/"),
                   **stokly_link(ctx, f"sale-orders/{so.sale_order_id}")},
        )


_: type[Check] = OrderStatusDrift
