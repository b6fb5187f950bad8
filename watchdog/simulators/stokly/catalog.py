"""Catalogue side of the simulated account: items (simple, kit, variable), channels, listings, customers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from watchdog.model import ItemFormat
from watchdog.simulators.stokly.base import StateBase, locked
from watchdog.simulators.stokly.records import (
    Invalid,
    NotFound,
    SimChannel,
    SimCustomer,
    SimItem,
    SimListing,
)
from watchdog.stokly_assumed import MSG_NOT_FOUND, msg_invalid

__all__ = ["MAGENTO_CHANNEL_TYPE", "CatalogMixin"]

MAGENTO_CHANNEL_TYPE = 5  # confirmed: KS createMappings/run.js


class CatalogMixin(StateBase):
    """Items, channels, listings and customers."""

    # ------------------------------------------------------------------ items

    @locked
    def add_item(
        self,
        sku: str,
        name: str,
        *,
        barcodes: Iterable[str] = (),
        sale_price: Decimal | None = None,
        tags: Iterable[str] = (),
        item_id: str | None = None,
    ) -> str:
        """Add a simple item; returns its itemId. Raises Invalid if an active item has this SKU."""
        return self._insert_item(sku, name, ItemFormat.SIMPLE, tuple(barcodes), item_id,
                                 sale_price=sale_price, tags=tuple(tags))

    @locked
    def add_kit(
        self,
        sku: str,
        name: str,
        components: Sequence[tuple[str, Decimal | int]],
        *,
        barcodes: Iterable[str] = (),
        item_id: str | None = None,
    ) -> str:
        """Add a composite item (kit) of ``(component itemId, quantity per kit)``; returns its itemId."""
        parts = self._check_components(components)
        return self._insert_item(sku, name, ItemFormat.COMPOSITE, tuple(barcodes), item_id, components=parts)

    @locked
    def add_variable_item(self, sku: str, name: str, variants: Sequence[str], *, item_id: str | None = None) -> str:
        """Add a variable item (the parent of ``variants``, which are simple items); returns its itemId."""
        for variant in variants:
            self._get(self._items, variant)
        return self._insert_item(sku, name, ItemFormat.VARIABLE, (), item_id, variants=tuple(variants))

    def _insert_item(
        self, sku: str, name: str, fmt: ItemFormat, barcodes: tuple[str, ...], item_id: str | None, *,
        components: tuple[tuple[str, Decimal], ...] = (), variants: tuple[str, ...] = (),
        sale_price: Decimal | None = None, tags: tuple[str, ...] = (),
    ) -> str:
        if not sku:
            raise Invalid(msg_invalid("sku", "must not be empty"))
        if self.item_by_sku(sku) is not None:
            raise Invalid(msg_invalid("sku", f"{sku} already exists"))
        item_id = item_id or self.new_id()
        now = self.now()
        self._items[item_id] = SimItem(item_id, sku, name, fmt, 0, barcodes, now, now, components, variants,
                                       sale_price, tags)
        return item_id

    def _check_components(self, components: Sequence[tuple[str, Decimal | int]]) -> tuple[tuple[str, Decimal], ...]:
        parts = tuple((cid, Decimal(qty)) for cid, qty in components)
        for cid, qty in parts:
            if self._get(self._items, cid).format is not ItemFormat.SIMPLE:
                raise Invalid(msg_invalid("composingItems", "must be simple items"))
            if qty <= 0:
                raise Invalid(msg_invalid("quantity", "must be positive"))
        return parts

    @locked
    def update_item(
        self, item_id: str, *, sku: str | None = None, name: str | None = None,
        barcodes: Iterable[str] | None = None, variants: Sequence[str] | None = None,
        components: Sequence[tuple[str, Decimal | int]] | None = None,
    ) -> None:
        """Change an item's SKU, name, barcodes, variants or components. Raises NotFound/Invalid."""
        item = self._get(self._items, item_id)
        if sku is not None and sku != item.sku and self.item_by_sku(sku) is not None:
            raise Invalid(msg_invalid("sku", f"{sku} already exists"))
        item = replace(item, sku=sku or item.sku, name=name if name is not None else item.name,
                       time_updated=self.now())
        if barcodes is not None:
            item = replace(item, barcodes=tuple(barcodes))
        if variants is not None:
            item = replace(item, variants=tuple(self._get(self._items, v).item_id for v in variants))
        if components is not None:
            item = replace(item, components=self._check_components(components))
        self._items[item_id] = item

    @locked
    def delete_item(self, item_id: str) -> None:
        """Soft-delete: ``status`` becomes 1 (the SKU may then be reused)."""
        item = self._get(self._items, item_id)
        self._items[item_id] = replace(item, status=1, time_updated=self.now())

    @locked
    def item(self, item_id: str) -> SimItem:
        """The item; raises NotFound."""
        return self._get(self._items, item_id)

    @locked
    def items(self) -> list[SimItem]:
        """Every item, deleted ones included, in creation order."""
        return list(self._items.values())

    @locked
    def item_by_sku(self, sku: str) -> SimItem | None:
        """The active item with exactly this SKU, or None."""
        return next((i for i in self._items.values() if i.sku == sku and i.status == 0), None)

    @locked
    def item_id_for(self, sku: str) -> str:
        """The itemId of the active item with this SKU; raises NotFound."""
        item = self.item_by_sku(sku)
        if item is None:
            raise NotFound(MSG_NOT_FOUND)
        return item.item_id

    # ------------------------------------------------------------------ channels and listings

    @locked
    def add_channel(
        self, name: str, *, type: int = MAGENTO_CHANNEL_TYPE, allocate_sold_location_id: str | None = None,
        inventory_location_ids: Sequence[str] = (), manage_inventory: bool = False, sync_data: bool = False,
        uri: str = "", channel_id: str | None = None,
    ) -> str:
        """Add a sales channel (type 5 = Magento) with its designated location (or none); returns its id."""
        if allocate_sold_location_id is not None:
            self._get(self._locations, allocate_sold_location_id)
        channel_id = channel_id or self.new_id()
        self._channels[channel_id] = SimChannel(
            channel_id, name, type, 0, manage_inventory, sync_data, tuple(inventory_location_ids),
            allocate_sold_location_id, uri,
        )
        return channel_id

    @locked
    def update_channel(
        self, channel_id: str, *, name: str | None = None, manage_inventory: bool | None = None,
        sync_data: bool | None = None, inventory_location_ids: Sequence[str] | None = None,
        status: int | None = None,
    ) -> None:
        """Change the given channel fields; raises NotFound."""
        ch = self._get(self._channels, channel_id)
        self._channels[channel_id] = replace(
            ch,
            name=ch.name if name is None else name,
            manage_inventory=ch.manage_inventory if manage_inventory is None else manage_inventory,
            sync_data=ch.sync_data if sync_data is None else sync_data,
            inventory_location_ids=ch.inventory_location_ids if inventory_location_ids is None
            else tuple(inventory_location_ids),
            status=ch.status if status is None else status,
        )

    @locked
    def set_allocate_sold_location(self, channel_id: str, location_id: str | None) -> None:
        """Designate (or, with None, remove) the channel's "Allocate Sold" location."""
        if location_id is not None:
            self._get(self._locations, location_id)
        ch = self._get(self._channels, channel_id)
        self._channels[channel_id] = replace(ch, allocate_sold_location_id=location_id)

    @locked
    def channel(self, channel_id: str) -> SimChannel:
        return self._get(self._channels, channel_id)

    @locked
    def channels(self) -> list[SimChannel]:
        return list(self._channels.values())

    @locked
    def add_listing(
        self, channel_id: str, item_id: str, *, reference_id: str | None = None, listing_id: str | None = None,
    ) -> str:
        """List an item on a channel (``reference_id``: the Magento product id); returns the listing id."""
        self._get(self._channels, channel_id)
        self._get(self._items, item_id)
        listing_id = listing_id or self.new_id()
        self._listings[listing_id] = SimListing(listing_id, channel_id, item_id, reference_id)
        return listing_id

    @locked
    def remove_listing(self, listing_id: str) -> None:
        """Mark a listing removed (status 2)."""
        self._listings[listing_id] = replace(self._get(self._listings, listing_id), status=2)

    @locked
    def listing(self, listing_id: str) -> SimListing:
        return self._get(self._listings, listing_id)

    @locked
    def listings(self, channel_id: str | None = None) -> list[SimListing]:
        return [ls for ls in self._listings.values() if channel_id in (None, ls.channel_id)]

    # ------------------------------------------------------------------ customers

    @locked
    def add_customer(
        self, *, forename: str = "", surname: str = "", email: str | None = None, barcode: str | None = None,
        customer_id: str | None = None,
    ) -> str:
        """Add a customer (``barcode`` is the external reference); returns its id."""
        customer_id = customer_id or self.new_id()
        self._customers[customer_id] = SimCustomer(customer_id, forename, surname, email, barcode)
        return customer_id

    @locked
    def customer(self, customer_id: str) -> SimCustomer:
        return self._get(self._customers, customer_id)

    @locked
    def customers(self) -> list[SimCustomer]:
        return list(self._customers.values())
