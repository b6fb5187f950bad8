"""Stock arithmetic shared by the stock push (sync) and the stock_divergence check.

What the integration pushes to the mapped MSI source, per SKU (integration-patterns.md 5.6)::

    expected = Stokly available at the designated location
             + quantity of Magento orders Stokly has imported whose Magento shipment is not created yet

Orders Stokly has not imported are protected by Magento's own reservation, so they are
not added back. Pure functions over ``watchdog.model`` records; no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from watchdog.model import Order, SaleOrder, StockLevel

__all__ = [
    "available_at",
    "expected_source_quantities",
    "open_imported_quantities",
    "stock_carrying_lines",
    "unknown_at",
]

STOCK_TYPES = frozenset({"simple", "virtual"})
CLOSED_STATES = frozenset({"canceled", "closed", "complete"})
ZERO = Decimal(0)


def stock_carrying_lines(order: Order) -> Iterable[tuple[str, Decimal]]:
    """(sku, quantity still to ship) of the lines that hold stock: simple/virtual lines only.

    A configurable parent and its child carry the same SKU; only the child (a simple)
    counts. Bundle parents never count; their children do.
    """
    for line in order.lines:
        if line.product_type in STOCK_TYPES and line.qty_to_ship > 0:
            yield line.sku, line.qty_to_ship


def open_imported_quantities(orders: Iterable[Order], sale_orders: Iterable[SaleOrder]) -> dict[str, Decimal]:
    """Per SKU: quantity of Magento orders Stokly has imported that Magento has not shipped yet."""
    imported = {so.source_reference_id for so in sale_orders if so.source_reference_id and so.stage != "removed"}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders:
        if order.state in CLOSED_STATES or order.increment_id not in imported:
            continue
        for sku, qty in stock_carrying_lines(order):
            totals[sku] += qty
    return dict(totals)


def available_at(levels: Iterable[StockLevel], location_id: str) -> dict[str, Decimal]:
    """Per SKU: Stokly's available quantity at ``location_id``, where it is known (see ``unknown_at``)."""
    found: dict[str, Decimal] = {}
    for lv in levels:
        if lv.location_id == location_id:
            available = lv.available
            if available is not None:
                found[lv.sku] = available
    return found


def unknown_at(levels: Iterable[StockLevel], location_id: str) -> frozenset[str]:
    """SKUs at ``location_id`` whose available quantity could not be read (their allocation is unknown).

    Neither the push nor the divergence check may treat them as zero: they are left alone.
    """
    return frozenset(lv.sku for lv in levels if lv.location_id == location_id and lv.allocated is None)


def expected_source_quantities(
    skus: Iterable[str], available: Mapping[str, Decimal], reserved: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Per SKU: the absolute quantity the mapped MSI source should hold."""
    return {sku: available.get(sku, ZERO) + reserved.get(sku, ZERO) for sku in skus}
