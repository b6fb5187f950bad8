"""stock_divergence: Magento's source quantity differs from what Stokly says it should be.

The expected quantity is the one the stock push sends (``watchdog.stockmath``, from
integration-patterns.md 5.6): Stokly available at the designated location plus the
quantity of imported, not yet shipped Magento orders. Magento higher than expected is oversell risk (critical);
lower is undersell (warning). SKUs with Magento order activity inside the settle
window are in flight and skipped; SKUs Stokly does not know are ``sku_mismatch``'s.
SKUs whose Stokly availability could not be read (allocation unknown) are not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from watchdog.findings import Check, CheckContext, Finding, NotEvaluated, Severity, Team, need
from watchdog.model import Order
from watchdog.stockmath import available_at, open_imported_quantities, unknown_at

__all__ = ["StockDivergence"]

ZERO = Decimal(0)


def _in_flight(orders: Iterable[Order], since: datetime) -> set[str]:
    return {line.sku for o in orders if o.updated_at >= since for line in o.lines}


class StockDivergence:
    id: ClassVar[str] = "stock_divergence"
    owner: ClassVar[Team] = Team.OPERATIONS
    runbook: ClassVar[str] = "docs/runbooks/stock_divergence.md"
    needs: ClassVar[frozenset[str]] = frozenset({
        "magento.source_items", "magento.orders", "stokly.items", "stokly.stock_levels", "stokly.sale_orders",
    })

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        location = ctx.stokly.designated_location_id
        if not location:
            raise NotEvaluated("stokly.designated_location", "no designated Stokly location (see unlocated_stock)")
        items = {i.sku: i for i in need(ctx.stokly.items, "stokly.items") if i.active}
        orders = need(ctx.magento.orders, "magento.orders")
        levels = need(ctx.stokly.stock_levels, "stokly.stock_levels")
        available, unknown = available_at(levels, location), unknown_at(levels, location)
        reserved = open_imported_quantities(orders, need(ctx.stokly.sale_orders, "stokly.sale_orders"))
        settle = ctx.duration("settle", timedelta(minutes=10))
        busy = _in_flight(orders, ctx.now - settle)
        tolerance = Decimal(str(ctx.setting("tolerance_units", 0)))
        salable: Mapping[str, Decimal] = ctx.magento.salable or {}
        for source_item in need(ctx.magento.source_items, "magento.source_items"):
            sku = source_item.sku
            if source_item.source_code != ctx.magento.source_code or sku not in items or sku in busy:
                continue
            if sku in unknown:
                ctx.limit("Stokly's allocated quantity at the designated location could not be read: "
                          "those SKUs' stock is not compared", subjects=[f"sku:{sku}"])
                continue
            expected = available.get(sku, ZERO) + reserved.get(sku, ZERO)
            difference = source_item.quantity - expected
            if abs(difference) <= tolerance:
                continue
            yield self._finding(ctx, sku, items[sku].item_id, source_item.quantity, expected,
                                available.get(sku, ZERO), reserved.get(sku, ZERO), salable.get(sku))

    def _finding(self, ctx: CheckContext, sku: str, item_id: str, magento_qty: Decimal, expected: Decimal,
                 available: Decimal, reserved: Decimal, salable: Decimal | None) -> Finding:
        difference = magento_qty - expected
        oversell = difference > 0
        direction = "higher" if oversell else "lower"
        risk = "oversell risk" if oversell else "undersell: sales lost"
        measures: dict[str, Decimal | int] = {
            "magento_qty": magento_qty, "expected_qty": expected, "stokly_available": available,
            "open_imported_qty": reserved, "difference": difference, "units": abs(difference),
        }
        if salable is not None:
            measures["magento_salable"] = salable
        links = {"stokly": f"{ctx.stokly_app_url}/items/{item_id}"}
        if ctx.magento_admin_url:
            links["magento"] = f"{ctx.magento_admin_url}/catalog/product/?search={sku}"
        return Finding(
            check=self.id, subject=f"sku:{sku}",
            severity=Severity.CRITICAL if oversell else Severity.WARNING, owner=self.owner,
            summary=(f"{sku}: Magento source {ctx.magento.source_code} holds {_fmt(magento_qty)}, "
                     f"{_fmt(abs(difference))} {direction} than Stokly allows ({_fmt(expected)}): {risk}"),
            measures=measures, links=links,
        )


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


_: type[Check] = StockDivergence
