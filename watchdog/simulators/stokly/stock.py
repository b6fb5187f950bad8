"""Stock side of the simulated account: locations, bins, on hand per bin, adjustments, movements.

On hand lives per (item, bin) and changes only through movements (signed deltas), so the sum
of an item's movements always equals its on hand. Allocation is not stored: it is derived from
open sale orders (each line's open quantity at the order's allocated location), so it can never
drift from the orders. ``available = onHand - allocated`` (quarantine is always 0 here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from watchdog.model import ItemFormat
from watchdog.simulators.stokly.base import StateBase, locked
from watchdog.simulators.stokly.records import (
    ZERO,
    Invalid,
    SimAdjustment,
    SimBin,
    SimLocation,
    SimMovement,
)
from watchdog.stokly_assumed import OrderStage, msg_invalid

__all__ = ["StockMixin"]


class StockMixin(StateBase):
    """Locations, bins, stock, adjustments and the movement ledger."""

    # ------------------------------------------------------------------ locations and bins

    @locked
    def add_location(self, name: str, *, location_id: str | None = None, default_bin_name: str = "Default") -> str:
        """Add an active location with its default bin; returns the locationId."""
        location_id = location_id or self.new_id()
        self._locations[location_id] = SimLocation(location_id, name)
        self.add_bin(location_id, default_bin_name, default=True)
        return location_id

    @locked
    def add_bin(
        self, location_id: str, name: str, *, default: bool = False, type: str = "pickable", barcode: str = "",
        bin_id: str | None = None,
    ) -> str:
        """Add a bin to a location (``default=True`` makes it the one default bin); returns the binId."""
        self._get(self._locations, location_id)
        if default:
            for old in self.bins(location_id):
                self._bins[old.bin_id] = replace(old, default=False)
        bin_id = bin_id or self.new_id()
        self._bins[bin_id] = SimBin(bin_id, location_id, name, default, "active", type, barcode)
        return bin_id

    @locked
    def location(self, location_id: str) -> SimLocation:
        return self._get(self._locations, location_id)

    @locked
    def locations(self) -> list[SimLocation]:
        return list(self._locations.values())

    @locked
    def bins(self, location_id: str | None = None) -> list[SimBin]:
        """Bins of one location (or all), in creation order."""
        return [b for b in self._bins.values() if location_id in (None, b.location_id)]

    @locked
    def default_bin(self, location_id: str) -> SimBin:
        """The location's default bin; raises NotFound for an unknown location."""
        self._get(self._locations, location_id)
        return next(b for b in self.bins(location_id) if b.default)

    # ------------------------------------------------------------------ changing stock

    @locked
    def adjust(
        self, location_id: str, deltas: Mapping[str, Decimal | int], *, bin_id: str | None = None,
        reason: str = "", adjustment_id: str | None = None,
    ) -> str:
        """Apply signed deltas (itemId -> quantity) to one bin (default: the location's default bin).

        Returns the adjustment id. Raises NotFound (location, bin, item) or Invalid (a kit or
        variable parent, which hold no stock; a bin of another location).
        """
        target = self._bin_at(location_id, bin_id)
        changes = tuple((item_id, Decimal(qty)) for item_id, qty in deltas.items())
        for item_id, _ in changes:
            self._check_stockable(item_id)
        adjustment_id = adjustment_id or self.new_id()
        for item_id, qty in changes:
            self._move(item_id, target.bin_id, qty, reason or "Adjustment", adjustment_id)
        self._adjustments[adjustment_id] = SimAdjustment(
            adjustment_id, self._next_nice("adjustment"), location_id, target.bin_id, reason, changes, self.now()
        )
        return adjustment_id

    @locked
    def set_stock(
        self, item_id: str, location_id: str, quantity: Decimal | int, *, bin_id: str | None = None,
        reason: str = "Stock take",
    ) -> None:
        """Make the bin's on hand ``quantity`` (by adjusting by the difference, as Stokly clients do)."""
        target = self._bin_at(location_id, bin_id)
        delta = Decimal(quantity) - self._stock.get((item_id, target.bin_id), ZERO)
        if delta:
            self.adjust(location_id, {item_id: delta}, bin_id=target.bin_id, reason=reason)

    def _bin_at(self, location_id: str, bin_id: str | None) -> SimBin:
        self._get(self._locations, location_id)
        if bin_id is None:
            return self.default_bin(location_id)
        found = self._get(self._bins, bin_id)
        if found.location_id != location_id:
            raise Invalid(msg_invalid("binId", "is not a bin of that location"))
        return found

    def _check_stockable(self, item_id: str) -> None:
        if self._get(self._items, item_id).format in (ItemFormat.COMPOSITE, ItemFormat.VARIABLE):
            raise Invalid(msg_invalid("itemId", "is a composite or variable item, which holds no stock"))

    def _move(self, item_id: str, bin_id: str, qty: Decimal, reason: str, reference_id: str | None) -> None:
        """Change on hand in one bin and record the movement."""
        key = (item_id, bin_id)
        self._stock[key] = self._stock.get(key, ZERO) + qty
        location_id = self._bins[bin_id].location_id
        self._movements.append(SimMovement(
            self.new_id(), self._next_nice("movement"), item_id, location_id, bin_id, qty, self.now(), reason,
            reference_id,
        ))

    # ------------------------------------------------------------------ reading stock

    @locked
    def bin_stock(self) -> dict[tuple[str, str], Decimal]:
        """On hand per (itemId, binId), for every pair that ever held stock."""
        return dict(self._stock)

    @locked
    def on_hand(self, item_id: str, location_id: str | None = None) -> Decimal:
        """On hand of an item at one location (or across the account)."""
        return sum(
            (qty for (iid, bid), qty in self._stock.items()
             if iid == item_id and location_id in (None, self._bins[bid].location_id)),
            ZERO,
        )

    @locked
    def allocated(self, item_id: str, location_id: str | None = None) -> Decimal:
        """Quantity held for open sale orders at one location (or across the account)."""
        return sum(
            (qty for (iid, lid), qty in self.allocations().items() if iid == item_id and location_id in (None, lid)),
            ZERO,
        )

    @locked
    def available(self, item_id: str, location_id: str | None = None) -> Decimal:
        """``onHand - allocated`` (assumed meaning); negative when oversold."""
        return self.on_hand(item_id, location_id) - self.allocated(item_id, location_id)

    @locked
    def allocations(self) -> dict[tuple[str, str], Decimal]:
        """Allocated quantity per (itemId, locationId), derived from open orders' open lines."""
        result: dict[tuple[str, str], Decimal] = {}
        for order in self._orders.values():
            if order.stage is not OrderStage.ORDER or order.allocated_location_id is None:
                continue
            for line in order.lines:
                if self._items[line.item_id].format is ItemFormat.COMPOSITE or line.open_quantity <= 0:
                    continue  # a kit's stock is allocated on its component lines
                key = (line.item_id, order.allocated_location_id)
                result[key] = result.get(key, ZERO) + line.open_quantity
        return result

    @locked
    def movements(self, item_id: str | None = None) -> list[SimMovement]:
        """The stock ledger (oldest first), for one item or all."""
        return [m for m in self._movements if item_id in (None, m.item_id)]

    @locked
    def adjustments(self) -> list[SimAdjustment]:
        return list(self._adjustments.values())
