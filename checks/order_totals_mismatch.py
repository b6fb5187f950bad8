"""order_totals_mismatch: a Magento order and its Stokly sale order disagree on money.

For every Magento order with a Stokly sale order (``source_reference_id`` = increment_id):
``difference`` = Magento ``grand_total`` - Stokly ``total`` and ``tax_difference`` =
Magento ``tax_amount`` - Stokly ``tax``. Either at or above ``tolerance`` (default 0.01)
is a finding. When the Stokly order had lines cancelled by an early refund, a Stokly
total equal to Magento's grand total less what was refunded is in order too.
Orders inside the settle window (``settle``, default 15m) are skipped. A tax difference
is critical (the VAT return is wrong), a total-only difference a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from checks._common import (
    channel_sale_orders,
    magento_link,
    money,
    orders_by_increment,
    settled_before,
    stokly_link,
)
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import Order, SaleOrder

__all__ = ["OrderTotalsMismatch"]

DEFAULT_SETTLE = timedelta(minutes=15)
ZERO = Decimal(0)


def _amended(so: SaleOrder) -> bool:
    return any(line.quantity_cancelled > 0 for line in so.lines)


class OrderTotalsMismatch:
    id: ClassVar[str] = "order_totals_mismatch"
    owner: ClassVar[Team] = Team.FINANCE
    runbook: ClassVar[str] = "docs/runbooks/order_totals_mismatch.md"
    needs: ClassVar[frozenset[str]] = frozenset({"magento.orders", "stokly.sale_orders"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        tolerance = Decimal(str(ctx.config.get("tolerance", "0.01")))
        settled = settled_before(ctx, DEFAULT_SETTLE)
        orders = orders_by_increment(need(ctx.magento.orders, "magento.orders"))
        for so in channel_sale_orders(ctx, need(ctx.stokly.sale_orders, "stokly.sale_orders")):
            order = orders.get(so.source_reference_id or "")
            if order is None or order.created_at > settled:
                continue
            if so.total is None:
                ctx.limit("Stokly sale orders carry no readable total: their totals are not compared",
                          subjects=[f"order:{order.increment_id}"])
                continue
            if so.tax is None:
                ctx.limit("Stokly sale orders carry no readable tax: order tax is not compared (totals are)")
            difference = order.grand_total - so.total
            tax_difference = ZERO if so.tax is None else order.tax_amount - so.tax
            if (difference or tax_difference) and _amended(so) and \
                    abs(order.grand_total - order.total_refunded - so.total) < tolerance:
                difference = ZERO
            if abs(difference) >= tolerance or abs(tax_difference) >= tolerance:
                yield self._finding(ctx, order, so, difference, tax_difference, tolerance)

    def _finding(self, ctx: CheckContext, order: Order, so: SaleOrder, difference: Decimal,
                 tax_difference: Decimal, tolerance: Decimal) -> Finding:
        taxed = abs(tax_difference) >= tolerance
        stokly_tax = "tax unknown" if so.tax is None else f"tax {money(ctx, so.tax)}"
        measures: dict[str, Decimal | int] = {"difference": difference}
        if so.tax is not None:
            measures["tax_difference"] = tax_difference
        return Finding(
            check=self.id, subject=f"order:{order.increment_id}",
            severity=Severity.CRITICAL if taxed else Severity.WARNING, owner=self.owner,
            summary=(f"Magento order {order.increment_id} totals {money(ctx, order.grand_total)} (tax "
                     f"{money(ctx, order.tax_amount)}) but Stokly sale order #{so.nice_id} says "
                     f"{money(ctx, so.total or ZERO)} ({stokly_tax}): correct the Stokly order before it is "
                     "invoiced"),
            measures=measures,
            links={**magento_link(ctx, f"sales/order/view/order_id/{order.entity_id}/"),
                   **stokly_link(ctx, f"sale-orders/{so.sale_order_id}")},
        )


_: type[Check] = OrderTotalsMismatch
