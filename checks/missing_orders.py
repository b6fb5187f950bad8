"""missing_orders: Magento orders Stokly never received, and Stokly orders with no Magento order.

Forward: a Magento order in an importable state (``import_states``, default the sync's),
created before the settle window (``settle``, default 15m), with no Stokly sale order
whose ``source_reference_id`` is its ``increment_id``. Warning; critical once older
than ``critical_after`` (default 2h). Measures: ``grand_total``, ``tax``.

Reverse: a Stokly sale order of the Magento channel whose Magento order does not exist.
Only orders created inside the window the Magento snapshot covers are judged (from
the oldest Magento order read, and no more than ``reverse_window``, default 2d, back),
so an order older than the read window is never reported missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import ClassVar

from checks._common import (
    channel_sale_orders,
    known,
    magento_link,
    money,
    orders_by_increment,
    settled_before,
    stokly_link,
)
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import LedgerEntry, Order, SaleOrder

__all__ = ["MissingOrders"]

DEFAULT_SETTLE = timedelta(minutes=15)


class MissingOrders:
    id: ClassVar[str] = "missing_orders"
    owner: ClassVar[Team] = Team.OPERATIONS
    runbook: ClassVar[str] = "docs/runbooks/missing_orders.md"
    needs: ClassVar[frozenset[str]] = frozenset({"magento.orders", "stokly.sale_orders"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        orders = need(ctx.magento.orders, "magento.orders")
        sale_orders = list(channel_sale_orders(ctx, need(ctx.stokly.sale_orders, "stokly.sale_orders")))
        imported = {so.source_reference_id for so in sale_orders}
        yield from self._not_imported(ctx, orders, imported)
        yield from self._without_magento_order(ctx, orders, sale_orders)

    def _not_imported(self, ctx: CheckContext, orders: Iterable[Order], imported: set[str | None]) -> Iterable[Finding]:
        states = set(ctx.setting("import_states", ["processing"]))
        settled = settled_before(ctx, DEFAULT_SETTLE)
        critical_from = ctx.now - ctx.duration("critical_after", timedelta(hours=2))
        errors = _ledger_errors(ctx.ledger.entries)
        for order in orders_by_increment(orders).values():
            if order.state not in states or order.created_at > settled or order.increment_id in imported:
                continue
            severity = Severity.CRITICAL if order.created_at <= critical_from else Severity.WARNING
            yield self._missing_in_stokly(ctx, order, severity, errors)

    def _missing_in_stokly(self, ctx: CheckContext, order: Order, severity: Severity,
                           errors: Mapping[str, str]) -> Finding:
        why = errors.get(str(order.entity_id)) or errors.get(order.increment_id)
        reason = f"; the sync last said: {why}" if why else ""
        placed = order.created_at.strftime("%Y-%m-%d %H:%M UTC")
        return Finding(
            check=self.id, subject=f"order:{order.increment_id}", severity=severity, owner=self.owner,
            summary=(f"Magento order {order.increment_id} ({money(ctx, order.grand_total)}, placed {placed}, "
                     f"{order.state}) has no Stokly sale order: it will not be picked or shipped{reason}"),
            measures={"grand_total": order.grand_total, "tax": order.tax_amount},
            links=magento_link(ctx, f"sales/order/view/order_id/{order.entity_id}/"),
        )

    def _without_magento_order(self, ctx: CheckContext, orders: list[Order] | tuple[Order, ...],
                               sale_orders: Iterable[SaleOrder]) -> Iterable[Finding]:
        if not orders:
            return  # nothing read from Magento: no window to judge Stokly orders against
        known = {o.increment_id for o in orders}
        oldest = min(o.created_at for o in orders)
        since = max(oldest, ctx.now - ctx.duration("reverse_window", timedelta(days=2)))
        settled = settled_before(ctx, DEFAULT_SETTLE)
        for so in sale_orders:
            ref = so.source_reference_id
            if ref and ref not in known and since <= so.created_at <= settled:
                yield self._missing_in_magento(ctx, so, ref)

    def _missing_in_magento(self, ctx: CheckContext, so: SaleOrder, ref: str) -> Finding:
        return Finding(
            check=self.id, subject=f"order:{ref}", severity=Severity.WARNING, owner=self.owner,
            summary=(f"Stokly sale order #{so.nice_id} ({money(ctx, so.total)}) refers to Magento order {ref}, "
                     "which does not exist in Magento: check for a typo, a deleted or a test order before picking"),
            measures=known(grand_total=so.total, tax=so.tax),
            links=stokly_link(ctx, f"sale-orders/{so.sale_order_id}"),
        )


def _ledger_errors(entries: Iterable[LedgerEntry]) -> dict[str, str]:
    """Last error of each order the sync worker gave up on or failed, by source id."""
    return {e.source_id: e.last_error for e in entries if e.flow == "orders" and e.last_error}


_: type[Check] = MissingOrders
