"""Small helpers the built-in checks share: number formatting, links, indexes, settle windows.

Nothing here is a check; the registry only loads the classes named in ``checks.BUILTIN``
and the ``watchdog.checks`` entry-point group. Like every check module this imports
only ``watchdog.model`` and ``watchdog.findings``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from watchdog.findings import CheckContext
from watchdog.model import Order, OrderLine, SaleOrder

__all__ = [
    "CENT",
    "CLOSED_STATES",
    "STOCK_TYPES",
    "ZERO",
    "channel_sale_orders",
    "first_by",
    "fmt",
    "known",
    "magento_link",
    "money",
    "orders_by_increment",
    "sale_orders_by_reference",
    "settled_before",
    "stokly_link",
    "top_level_quantity",
]

ZERO = Decimal(0)
CENT = Decimal("0.01")
STOCK_TYPES = frozenset({"simple", "virtual"})
CLOSED_STATES = frozenset({"canceled", "closed", "complete"})
REMOVED_STAGE = "removed"


def fmt(value: Decimal | int) -> str:
    """``value`` as plain text without exponent or trailing zeros after an integral value ("4", "2.5")."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value, "f")


def money(ctx: CheckContext, value: Decimal | None) -> str:
    """``value`` with the integration's currency and two decimals, e.g. ``"GBP 12.50"``; None: "amount unknown"."""
    return "amount unknown" if value is None else f"{ctx.currency} {value.quantize(CENT)}"


def known(**measures: Decimal | int | None) -> dict[str, Decimal | int]:
    """The measures whose value is known (an unreadable upstream field is left out, never shown as 0)."""
    return {name: value for name, value in measures.items() if value is not None}


def settled_before(ctx: CheckContext, default: timedelta) -> datetime:
    """The moment before which records count as settled: ``now`` minus the check's ``settle`` setting."""
    return ctx.now - ctx.duration("settle", default)


def magento_link(ctx: CheckContext, path: str) -> dict[str, str]:
    """``{"magento": <admin url + path>}`` when the admin URL is known, else ``{}``."""
    if not ctx.magento_admin_url:
        return {}
    return {"magento": f"{ctx.magento_admin_url.rstrip('/')}/{path.lstrip('/')}"}


def stokly_link(ctx: CheckContext, path: str) -> dict[str, str]:
    """``{"stokly": <app url + path>}`` (Stokly's app paths are assumed, see docs/runbooks)."""
    return {"stokly": f"{ctx.stokly_app_url.rstrip('/')}/{path.lstrip('/')}"}


def orders_by_increment(orders: Iterable[Order]) -> dict[str, Order]:
    """Magento orders keyed by ``increment_id``; on a collision the newest ``entity_id`` wins."""
    index: dict[str, Order] = {}
    for order in orders:
        seen = index.get(order.increment_id)
        if seen is None or order.entity_id > seen.entity_id:
            index[order.increment_id] = order
    return index


def channel_sale_orders(ctx: CheckContext, sale_orders: Iterable[SaleOrder]) -> Iterable[SaleOrder]:
    """Stokly sale orders of the Magento channel that are not removed.

    An order counts when its ``source_id`` is the channel, or when it has no ``source_id``
    (the field is optional) but carries a Magento order number.
    """
    channel = ctx.stokly.channel_id
    for so in sale_orders:
        if so.stage == REMOVED_STAGE:
            continue
        if so.source_id == channel or (so.source_id is None and so.source_reference_id):
            yield so


def sale_orders_by_reference(sale_orders: Iterable[SaleOrder]) -> dict[str, SaleOrder]:
    """Sale orders keyed by ``source_reference_id`` (the Magento ``increment_id``); first one wins."""
    index: dict[str, SaleOrder] = {}
    for so in sale_orders:
        if so.source_reference_id and so.source_reference_id not in index:
            index[so.source_reference_id] = so
    return index


def top_level_quantity(lines: Iterable[OrderLine], field: str) -> Decimal:
    """Sum of ``field`` (e.g. ``"qty_shipped"``) over lines without a parent (the lines as sold)."""
    total = ZERO
    for line in lines:
        if line.parent_item_id is None:
            total += getattr(line, field)
    return total


def first_by(values: Iterable[tuple[str, datetime]]) -> Mapping[str, datetime]:
    """Per key, the earliest datetime."""
    earliest: dict[str, datetime] = {}
    for key, at in values:
        if key not in earliest or at < earliest[key]:
            earliest[key] = at
    return earliest
