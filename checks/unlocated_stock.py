"""unlocated_stock: stock and orders that no Magento source stands for.

Three findings, each with its own subject:

- ``channel:<id>``, critical: the Magento channel has no designated Stokly location
  (config ``location_id`` and the channel's "Allocate Sold" both empty), or it names a
  location that does not exist or is inactive. Nothing reaches Magento then; the
  per-location findings below are folded into this one (``units``, ``locations``).
  Warning when the configured location and the channel's "Allocate Sold" differ.
- ``location:<id>``, warning: on-hand stock at a location other than the designated one
  (it feeds no Magento source). ``ignore_locations`` lists locations held on purpose.
  Measures ``units`` (on hand) and ``skus``.
- ``order:<increment_id>``, warning: a Magento-channel sale order, created before the
  settle window (``settle``, default 15m), with open lines and no allocated location.
  Measure ``units`` (open quantity).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from checks._common import ZERO, channel_sale_orders, fmt, settled_before, stokly_link
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import Location, SaleOrder, StockLevel

__all__ = ["UnlocatedStock"]

DEFAULT_SETTLE = timedelta(minutes=15)
CLOSED_LINES = frozenset({"dispatched", "cancelled"})


def _stock_by_location(levels: Iterable[StockLevel]) -> dict[str, tuple[Decimal, int]]:
    units: dict[str, Decimal] = defaultdict(Decimal)
    skus: dict[str, int] = defaultdict(int)
    for level in levels:
        if level.on_hand > 0:
            units[level.location_id] += level.on_hand
            skus[level.location_id] += 1
    return {loc: (units[loc], skus[loc]) for loc in units}


def _open_units(order: SaleOrder) -> Decimal:
    return sum((ln.quantity - ln.quantity_cancelled for ln in order.lines
                if ln.parent_id is None and ln.status not in CLOSED_LINES), ZERO)


class UnlocatedStock:
    id: ClassVar[str] = "unlocated_stock"
    owner: ClassVar[Team] = Team.OPERATIONS
    runbook: ClassVar[str] = "docs/runbooks/unlocated_stock.md"
    needs: ClassVar[frozenset[str]] = frozenset({"stokly.locations", "stokly.stock_levels", "stokly.sale_orders"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        locations = {loc.location_id: loc for loc in need(ctx.stokly.locations, "stokly.locations")}
        stock = _stock_by_location(need(ctx.stokly.stock_levels, "stokly.stock_levels"))
        designated = ctx.stokly.designated_location_id
        if ctx.stokly.location_id is None:
            need(ctx.stokly.channel, "stokly.channel")  # "no location" must not be read from a missing channel
        problem = None if self._designation_unknown(ctx, designated, stock) else \
            self._designation_problem(ctx, designated, locations)
        if problem is not None:
            yield self._channel_finding(ctx, problem, Severity.CRITICAL, stock)
        elif designated:
            yield from self._elsewhere(ctx, designated, stock, locations)
            mismatch = self._allocation_mismatch(ctx)
            if mismatch is not None:
                yield self._channel_finding(ctx, mismatch, Severity.WARNING, {})
        yield from self._unallocated(ctx, need(ctx.stokly.sale_orders, "stokly.sale_orders"))

    def _designation_problem(self, ctx: CheckContext, designated: str | None,
                             locations: Mapping[str, Location]) -> str | None:
        name = ctx.stokly.channel.name if ctx.stokly.channel is not None else ctx.stokly.channel_id
        if not designated:
            return (f"The Magento channel {name} has no designated Stokly location (no location_id configured, "
                    "no \"Allocate Sold\" location): stock is not pushed to Magento and orders are not allocated")
        location = locations.get(designated)
        if location is None:
            return f"The Magento channel {name} points to Stokly location {designated}, which does not exist"
        if location.status != 0:
            return f"The Magento channel {name} points to Stokly location {location.name}, which is inactive"
        return None

    def _designation_unknown(self, ctx: CheckContext, designated: str | None,
                             stock: Mapping[str, tuple[Decimal, int]]) -> bool:
        """True (and said) when no location is configured and the channel's "Allocate Sold" one is unreadable:
        neither the designation nor which locations feed no source can be judged."""
        channel = ctx.stokly.channel
        if designated or channel is None or "allocate_sold_location_id" not in channel.unknown:
            return False
        ctx.limit(f"The Stokly channel's \"Allocate Sold\" location could not be read and no location_id is "
                  f"configured: the designated location of channel {channel.name} and stock held elsewhere are "
                  "not judged", subjects=[f"channel:{ctx.stokly.channel_id}", *(f"location:{loc}" for loc in stock)])
        return True

    def _allocation_mismatch(self, ctx: CheckContext) -> str | None:
        configured, channel = ctx.stokly.location_id, ctx.stokly.channel
        allocate = channel.allocate_sold_location_id if channel is not None else None
        if configured and allocate and configured != allocate:
            return (f"Stokly allocates Magento orders at location {allocate} (channel \"Allocate Sold\") but the "
                    f"integration pushes stock from location {configured}: orders reserve stock Magento never sees")
        return None

    def _channel_finding(self, ctx: CheckContext, summary: str, severity: Severity,
                         stock: Mapping[str, tuple[Decimal, int]]) -> Finding:
        units = sum((u for u, _ in stock.values()), ZERO)
        measures: dict[str, Decimal | int] = {"units": units, "locations": len(stock)} if stock else {}
        return Finding(check=self.id, subject=f"channel:{ctx.stokly.channel_id}", severity=severity,
                       owner=self.owner, summary=summary, measures=measures,
                       links=stokly_link(ctx, f"channels/{ctx.stokly.channel_id}"))

    def _elsewhere(self, ctx: CheckContext, designated: str, stock: Mapping[str, tuple[Decimal, int]],
                   locations: Mapping[str, Location]) -> Iterable[Finding]:
        ignored: set[str] = set(ctx.setting("ignore_locations", []))
        for location_id, (units, skus) in sorted(stock.items()):
            if location_id == designated or location_id in ignored:
                continue
            name = locations[location_id].name if location_id in locations else location_id
            yield Finding(
                check=self.id, subject=f"location:{location_id}", severity=Severity.WARNING, owner=self.owner,
                summary=(f"Stokly location {name} holds {fmt(units)} unit(s) of {skus} SKU(s) that feed no Magento "
                         "source: move the stock to the designated location or list the location as ignored"),
                measures={"units": units, "skus": skus}, links=stokly_link(ctx, f"locations/{location_id}"),
            )

    def _unallocated(self, ctx: CheckContext, sale_orders: Iterable[SaleOrder]) -> Iterable[Finding]:
        settled = settled_before(ctx, DEFAULT_SETTLE)
        for so in channel_sale_orders(ctx, sale_orders):
            if so.allocated_location_id or so.created_at > settled:
                continue
            if "allocated_location_id" in so.unknown:
                ref = so.source_reference_id or f"stokly-{so.nice_id}"
                ctx.limit("Stokly sale orders without a readable allocated location: whether they are allocated "
                          "is not judged", subjects=[f"order:{ref}"])
                continue
            units = _open_units(so)
            if units <= 0:
                continue
            ref = so.source_reference_id or f"stokly-{so.nice_id}"
            yield Finding(
                check=self.id, subject=f"order:{ref}", severity=Severity.WARNING, owner=self.owner,
                summary=(f"Stokly sale order #{so.nice_id} (Magento {ref}) has {fmt(units)} open unit(s) and no "
                         "allocated location: it will not be picked; allocate it to the designated location"),
                measures={"units": units}, links=stokly_link(ctx, f"sale-orders/{so.sale_order_id}"),
            )


_: type[Check] = UnlocatedStock
