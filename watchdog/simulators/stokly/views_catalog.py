"""Stokly JSON shapes of catalogue and stock records (reference sections 8.1-8.3, 8.7)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from watchdog.model import ItemFormat
from watchdog.simulators.stokly.records import (
    ZERO,
    SimBin,
    SimChannel,
    SimCustomer,
    SimItem,
    SimListing,
    SimLocation,
    SimMovement,
)
from watchdog.simulators.stokly.state import StoklyState
from watchdog.simulators.stokly.web import iso, num
from watchdog.stokly_assumed import (
    CHANNEL_ALLOCATE_SOLD_LOCATION,
    CUSTOMER_EMAIL,
    CUSTOMER_FULL_NAME,
    INVENTORY_ALLOCATED,
    INVENTORY_AVAILABLE,
)

__all__ = [
    "UNASSIGNED",
    "StockIndex",
    "bin_json",
    "channel_json",
    "children_rows",
    "composing_rows",
    "customer_json",
    "inventory_rows",
    "item_json",
    "listing_json",
    "location_json",
    "movement_json",
]

UNASSIGNED = "UNASSIGNED"  # confirmed sentinel for binId / locationId on inventory records


@dataclass(frozen=True)
class StockIndex:
    """On hand per (item, bin) and (item, location), allocations, and per-item totals, read in one go."""

    by_bin: dict[tuple[str, str], Decimal]
    by_location: dict[tuple[str, str], Decimal]
    allocated: dict[tuple[str, str], Decimal]
    item_on_hand: dict[str, Decimal]
    item_allocated: dict[str, Decimal]

    @classmethod
    def read(cls, state: StoklyState) -> StockIndex:
        with state.lock:
            by_bin = state.bin_stock()
            bins = {b.bin_id: b for b in state.bins()}
            allocated = state.allocations()
        by_location: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        item_on_hand: dict[str, Decimal] = defaultdict(lambda: ZERO)
        item_allocated: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for (item_id, bin_id), qty in by_bin.items():
            by_location[(item_id, bins[bin_id].location_id)] += qty
            item_on_hand[item_id] += qty
        for (item_id, _), qty in allocated.items():
            item_allocated[item_id] += qty
        return cls(by_bin, dict(by_location), allocated, dict(item_on_hand), dict(item_allocated))

    def item_totals(self, item_id: str) -> tuple[Decimal, Decimal]:
        """(on hand, allocated) of an item across the account."""
        return self.item_on_hand.get(item_id, ZERO), self.item_allocated.get(item_id, ZERO)


def item_json(state: StoklyState, item: SimItem, stock: StockIndex) -> dict[str, Any]:
    on_hand, allocated = stock.item_totals(item.item_id)
    return {
        "itemId": item.item_id, "accountkey": state.account_key, "sku": item.sku, "name": item.name,
        "format": int(item.format), "status": item.status, "barcodes": list(item.barcodes),
        "tags": list(item.tags), "typeId": None, "typeName": None,
        "salePrice": None if item.sale_price is None else {"amount": num(item.sale_price), "currency": "GBP"},
        "onHand": num(on_hand), "allocated": num(allocated), "available": num(on_hand - allocated),
        "quarantined": 0, "onOrder": 0,
        "composingItemCount": len(item.components), "variantItemCount": len(item.variants),
        "variantItems": list(item.variants) if item.format is ItemFormat.VARIABLE else None,
        "timeCreated": iso(item.time_created), "timeUpdated": iso(item.time_updated),
    }


def children_rows(state: StoklyState, item: SimItem) -> list[dict[str, Any]]:
    """``/v0/items/{id}/children``: variants of a variable item, components of a composite."""
    pairs: list[tuple[str, Decimal | None]] = [(v, None) for v in item.variants]
    pairs += [(c, q) for c, q in item.components]
    rows = []
    for child_id, qty in pairs:
        child = state.item(child_id)
        rows.append({"itemId": child.item_id, "sku": child.sku, "name": child.name, "format": int(child.format),
                     "composingItemQuantity": None if qty is None else num(qty)})
    return rows


def composing_rows(state: StoklyState) -> list[dict[str, Any]]:
    """``/v0/composing-items``: one row per (kit, component)."""
    return [
        {"itemId": item.item_id, "composingItemId": cid, "quantity": num(qty), "itemSku": item.sku}
        for item in state.items() if item.format is ItemFormat.COMPOSITE for cid, qty in item.components
    ]


def location_json(location: SimLocation) -> dict[str, Any]:
    return {"locationId": location.location_id, "name": location.name, "status": location.status,
            "address": {}, "contacts": []}


def bin_json(b: SimBin) -> dict[str, Any]:
    return {"binId": b.bin_id, "locationId": b.location_id, "name": b.name, "status": b.status,
            "default": 1 if b.default else 0, "type": b.type, "barcode": b.barcode}


def inventory_rows(state: StoklyState, stock: StockIndex) -> list[dict[str, Any]]:
    """Bin rows, then location rows (binId UNASSIGNED), then account rows (both UNASSIGNED)."""
    items = {i.item_id: i for i in state.items()}
    locations = {loc.location_id: loc for loc in state.locations()}
    bins = {b.bin_id: b for b in state.bins()}
    rows = []
    for (item_id, bin_id), qty in stock.by_bin.items():
        b = bins[bin_id]
        rows.append(_record(items[item_id], b.location_id, locations[b.location_id].name, bin_id, b.name, qty))
    keys = sorted(set(stock.by_location) | set(stock.allocated), key=lambda k: (k[1], k[0]))
    for item_id, location_id in keys:
        row = _record(items[item_id], location_id, locations[location_id].name, UNASSIGNED, None,
                      stock.by_location.get((item_id, location_id), ZERO))
        rows.append(_with_allocation(row, stock.allocated.get((item_id, location_id), ZERO)))
    for item_id in dict.fromkeys(k[0] for k in keys):
        on_hand, allocated = stock.item_totals(item_id)
        row = _record(items[item_id], UNASSIGNED, None, UNASSIGNED, None, on_hand)
        rows.append(_with_allocation(row, allocated))
    return rows


def _record(item: SimItem, location_id: str, location_name: str | None, bin_id: str, bin_name: str | None,
            on_hand: Decimal) -> dict[str, Any]:
    return {"itemId": item.item_id, "itemSku": item.sku, "itemName": item.name, "locationId": location_id,
            "locationName": location_name, "binId": bin_id, "binName": bin_name, "onHand": num(on_hand),
            "quarantined": 0, "onOrder": 0}


def _with_allocation(row: dict[str, Any], allocated: Decimal) -> dict[str, Any]:
    on_hand = Decimal(str(row["onHand"]))
    return {**row, INVENTORY_ALLOCATED: num(allocated), INVENTORY_AVAILABLE: num(on_hand - allocated)}


def movement_json(state: StoklyState, m: SimMovement) -> dict[str, Any]:
    item = state.item(m.item_id)
    return {"movementId": m.movement_id, "niceId": m.nice_id, "itemId": m.item_id, "itemSku": item.sku,
            "locationId": m.location_id, "binId": m.bin_id, "quantity": num(m.quantity), "date": iso(m.date),
            "reason": m.reason, "referenceId": m.reference_id}


def channel_json(ch: SimChannel) -> dict[str, Any]:
    return {
        "channelId": ch.channel_id, "name": ch.name, "type": ch.type, "status": ch.status,
        "manageInventory": ch.manage_inventory, "syncData": ch.sync_data,
        "inventoryLocationIds": list(ch.inventory_location_ids), "defaultInventory": None,
        CHANNEL_ALLOCATE_SOLD_LOCATION: ch.allocate_sold_location_id,
        "data": {"uri": ch.uri, "username": "stokly", "password": "***"},
    }


def listing_json(state: StoklyState, ls: SimListing) -> dict[str, Any]:
    item = state.item(ls.item_id)
    return {
        "listingId": ls.listing_id, "channelId": ls.channel_id, "itemId": ls.item_id, "type": 1,
        "status": ls.status, "referenceId": ls.reference_id, "sku": item.sku, "name": item.name,
        "barcode": item.barcodes[0] if item.barcodes else None, "itemFormat": int(item.format),
        "dataSynchronised": True, "inventorySynchronised": True, "listToChannel": True, "deniedInventory": 0,
        "data": {"itemId": ls.item_id, "listIndividually": True},
    }


def customer_json(c: SimCustomer) -> dict[str, Any]:
    return {"customerId": c.customer_id, "barcode": c.barcode, "status": c.status,
            "name": {"forename": c.forename, "surname": c.surname},
            CUSTOMER_FULL_NAME: c.full_name, CUSTOMER_EMAIL: c.email,
            "accountBalance": {"amount": 0, "currency": "GBP"}}
