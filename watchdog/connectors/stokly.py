"""The Stokly connector: typed async reads and writes over Stokly's REST API.

``StoklyClient`` returns ``watchdog.model`` records and takes frozen drafts. Auth, paging,
the rate-limit header and write safety live in ``stokly_base``/``stokly_auth``; JSON parsing
in ``stokly_parse``; request types in ``stokly_drafts``. Assumed routes and fields
(dispatches, VAT credit notes, line cancellation) come from ``watchdog.stokly_assumed``.

Errors: ``UpstreamError`` (kind transient / permanent / ambiguous) and its subclass
``MalformedResponse`` (naming route and field). No secret, signature or token is ever in one.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from watchdog.connectors import stokly_parse as p
from watchdog.connectors.stokly_auth import GRANT_ROUTE, StoklyAuth, StoklyCredentials, grant_signature
from watchdog.connectors.stokly_base import StoklyBase, all_of, any_of, batches, eq, literal, time_filter
from watchdog.connectors.stokly_drafts import (
    CreditNoteDraft,
    CreditNoteLineDraft,
    CustomerDraft,
    DispatchDraft,
    InvoiceDraft,
    InvoiceLineDraft,
    SaleOrderDraft,
    SaleOrderLineDraft,
    ShippingDraft,
    StoklyAddress,
)
from watchdog.connectors.stokly_parse import Bin
from watchdog.model import (
    Channel,
    CreditNote,
    Customer,
    Dispatch,
    Invoice,
    Item,
    ItemFormat,
    Listing,
    Location,
    SaleOrder,
    StockLevel,
)
from watchdog.stokly_assumed import (
    ACCOUNT_SHIPMENTS_PATH,
    CANCEL_ITEMS_PATH,
    CREDIT_NOTE,
    CREDIT_NOTES_PATH,
    REFERENCE_TYPE_SALE_INVOICE,
    SHIPMENT,
    SHIPMENTS_PATH,
    cancel_items_body,
    json_number,
)

__all__ = [
    "GRANT_ROUTE",
    "Bin",
    "CreditNoteDraft",
    "CreditNoteLineDraft",
    "CustomerDraft",
    "DispatchDraft",
    "InvoiceDraft",
    "InvoiceLineDraft",
    "SaleOrderDraft",
    "SaleOrderLineDraft",
    "ShippingDraft",
    "StoklyAddress",
    "StoklyAuth",
    "StoklyClient",
    "StoklyCredentials",
    "grant_signature",
]

ADJUSTMENT_BATCH = 500  # items per adjustment (confirmed practice)
ORDER = "/v2/saleorders/{id}"


class StoklyClient(StoklyBase):
    """Async Stokly client. Use as ``async with StoklyClient(url, credentials) as stokly: ...``."""

    async def __aenter__(self) -> StoklyClient:
        return self

    # ------------------------------------------------------------------ items

    async def items(self, *, skus: Iterable[str] | None = None, updated_since: datetime | None = None) -> list[Item]:
        """Items (deleted ones included) with kit components and variants filled in.

        ``skus`` are matched exactly, 200 per filter; a SKU the filter language cannot carry
        (one containing ``}``) makes this read every item and select locally.
        """
        route = "/v0/items"
        changed = time_filter("timeUpdated", updated_since, ">>") if updated_since else None
        wanted = None if skus is None else list(dict.fromkeys(skus))
        parse = functools.partial(p.parse_item, route=route)
        if wanted is None or any("}" in s for s in wanted):
            items = await self.get_parsed(route, route, parse, filter=all_of(changed))
        else:
            items = [i for batch in batches(wanted)
                     for i in await self.get_parsed(route, route, parse, filter=all_of(any_of("sku", batch), changed))]
        if wanted is not None:
            items = [i for i in items if i.sku in set(wanted)]
        return await self._with_structure(items)

    async def item(self, item_id: str) -> Item:
        """One item by id, with components or variants. Raises UpstreamError (404: permanent)."""
        route = "/v0/items/{id}"
        return (await self._with_structure([p.parse_item(await self.get_one(f"/v0/items/{item_id}", route),
                                                         route)]))[0]

    async def _with_structure(self, items: list[Item]) -> list[Item]:
        kits = [i.item_id for i in items if i.format is ItemFormat.COMPOSITE]
        parents = [i.item_id for i in items if i.format is ItemFormat.VARIABLE]
        components = await self._components(kits) if kits else {}
        variants = dict(zip(parents, await asyncio.gather(*(self._variants(v) for v in parents)), strict=True))
        return [replace(i, components=components.get(i.item_id, ()), variants=variants.get(i.item_id, ()))
                if i.item_id in components or i.item_id in variants else i for i in items]

    async def _components(self, kit_ids: list[str]) -> dict[str, tuple[tuple[str, Decimal], ...]]:
        route, result = "/v0/composing-items", dict[str, tuple[tuple[str, Decimal], ...]]()
        for batch in batches(kit_ids):
            for row in await self.get_all(route, route, filter=f"[itemId]=*{{{','.join(map(literal, batch))}}}"):
                kit, part, qty = p.parse_component(row, route)
                result[kit] = (*result.get(kit, ()), (part, qty))
        return result

    async def _variants(self, item_id: str) -> tuple[str, ...]:
        route = "/v0/items/{id}/children"
        return tuple(p.parse_child_id(r, route) for r in await self.get_all(f"/v0/items/{item_id}/children", route))

    # ------------------------------------------------------------------ locations and stock

    async def locations(self) -> list[Location]:
        route = "/v0/locations"
        return await self.get_parsed(route, route, functools.partial(p.parse_location, route=route))

    async def bins(self, location_id: str) -> list[Bin]:
        route = "/v0/locations/{id}/bins"
        return [p.parse_bin(r, route) for r in await self.get_all(f"/v0/locations/{location_id}/bins", route)]

    async def stock_levels(self, *, location_id: str | None = None) -> list[StockLevel]:
        """Location-level inventory records (``binId`` UNASSIGNED), for one location or all."""
        route = "/v1/inventory-records"
        where = all_of("[binId]=={UNASSIGNED}", "[locationId]!={UNASSIGNED}",
                       f"[locationId]=={{{literal(location_id)}}}" if location_id else None)
        return await self.get_parsed(route, route, functools.partial(p.parse_stock_level, route=route), filter=where)

    async def adjust(self, location_id: str, bin_id: str, reason: str, deltas: Mapping[str, Decimal]) -> str:
        """Apply signed deltas (itemId -> quantity) to a bin; returns the adjustment id.

        Not idempotent (a timeout is AMBIGUOUS). Raises ValueError for 0 or more than 500 items.
        """
        if not deltas or len(deltas) > ADJUSTMENT_BATCH:
            raise ValueError(f"an adjustment takes 1 to {ADJUSTMENT_BATCH} items, got {len(deltas)}")
        body = {"locationId": location_id, "binId": bin_id, "reason": reason,
                "items": [{"itemId": k, "quantity": json_number(v)} for k, v in deltas.items()]}
        return await self.create("/v1/adjustments", "/v1/adjustments", body)

    # ------------------------------------------------------------------ channels, listings, customers

    async def channels(self) -> list[Channel]:
        route = "/v0/channels"
        return await self.get_parsed(route, route, functools.partial(p.parse_channel, route=route))

    async def channel(self, channel_id: str) -> Channel:
        route = "/v0/channels/{id}"
        return p.parse_channel(await self.get_one(f"/v0/channels/{channel_id}", route), route)

    async def listings(self, channel_id: str) -> list[Listing]:
        """The channel's listings that are not removed (status 2)."""
        route = "/v0/channels/{id}/listings"
        return await self.get_parsed(f"/v0/channels/{channel_id}/listings", route,
                                     functools.partial(p.parse_listing, route=route), filter="[status]!={2}")

    async def customer_by_barcode(self, barcode: str) -> Customer | None:
        """The first customer whose ``barcode`` (our external reference) matches exactly, or None."""
        route = "/v0/customers"
        rows = await self.get_all(route, route, filter=eq("barcode", barcode))
        return p.parse_customer(rows[0], route) if rows else None

    async def create_customer(self, draft: CustomerDraft) -> str:
        """Create a customer; returns its id (Stokly may take seconds to show it). Not idempotent."""
        return await self.create("/v0/customers", "/v0/customers", draft.body())

    # ------------------------------------------------------------------ sale orders

    async def sale_orders(
        self, *, created_from: datetime | None = None, created_to: datetime | None = None,
        source_reference_ids: Iterable[str] | None = None, channel_id: str | None = None,
    ) -> list[SaleOrder]:
        """Sale orders (without lines) created in ``[created_from, created_to)``, by reference or channel."""
        route = "/v2/saleorders"
        base = all_of(time_filter("createdAt", created_from) if created_from else None,
                      time_filter("createdAt", created_to, "<<") if created_to else None,
                      eq("sourceId", channel_id) if channel_id else None)
        groups = [None] if source_reference_ids is None else [any_of("sourceReferenceId", b)
                                                              for b in batches(source_reference_ids)]
        parse = functools.partial(p.parse_sale_order, route=route)
        return [o for g in groups
                for o in await self.get_parsed(route, route, parse, filter=all_of(g, base), sort="niceId")]

    async def sale_order(self, sale_order_id: str, *, with_lines: bool = True) -> SaleOrder:
        """One sale order; with every line (kit components included) unless ``with_lines`` is False."""
        order = p.parse_sale_order(await self.get_one(f"/v2/saleorders/{sale_order_id}", ORDER), ORDER)
        if not with_lines:
            return order
        route = ORDER + "/items"
        rows = await self.get_all(f"/v2/saleorders/{sale_order_id}/items", route)
        return replace(order, lines=tuple(p.parse_line(r, route) for r in rows))

    async def sale_order_by_reference(self, source_reference_id: str) -> SaleOrder | None:
        """Check-before-create: the oldest order with this ``sourceReferenceId`` (any stage), with lines."""
        found = await self.sale_orders(source_reference_ids=[source_reference_id])
        if not found:
            return None
        return await self.sale_order(min(found, key=lambda o: o.nice_id).sale_order_id)

    async def create_sale_order(self, draft: SaleOrderDraft) -> str:
        """Create a sale order; returns its id. NOT idempotent: a timeout raises AMBIGUOUS (read back first)."""
        return await self.create("/v2/saleorders", "/v2/saleorders", draft.body())

    async def cancel_sale_order_lines(self, sale_order_id: str, lines: Mapping[str, Decimal],
                                      reason: str = "Refunded in Magento") -> None:
        """(Assumed) cancel quantities of uncollected lines (lineId -> quantity): a refund before fulfilment."""
        path = CANCEL_ITEMS_PATH.format(sale_order_id=sale_order_id)
        await self.write("POST", path, CANCEL_ITEMS_PATH, cancel_items_body(list(lines.items()), reason))

    async def collect_items(self, sale_order_id: str, location_id: str, lines: Mapping[str, Decimal]) -> None:
        """Collect (pick) quantities (lineId -> quantity) at a location: stock there falls. Not idempotent."""
        body = {"locationId": location_id,
                "items": [{"lineId": k, "quantity": json_number(v)} for k, v in lines.items()]}
        await self.write("POST", f"/v2/saleorders/{sale_order_id}/collect-items", ORDER + "/collect-items", body)

    # ------------------------------------------------------------------ invoices

    async def create_invoice(self, sale_order_id: str, draft: InvoiceDraft) -> str:
        """Invoice (post) part or all of an order; returns the invoice id (assumed answer). Not idempotent."""
        return await self.create(f"/v2/saleorders/{sale_order_id}/invoices", ORDER + "/invoices", draft.body())

    async def invoices(self, *, issued_from: datetime | None = None,
                       sale_order_id: str | None = None) -> list[Invoice]:
        route = "/v0/invoices"
        where = all_of(time_filter("issueDate", issued_from) if issued_from else None,
                       eq("saleOrderId", sale_order_id) if sale_order_id else None)
        return await self.get_parsed(route, route, functools.partial(p.parse_invoice, route=route), filter=where,
                                     sort="niceId")

    # ------------------------------------------------------------------ dispatches (assumed)

    async def dispatches(self, *, since: datetime | None = None, sale_order_id: str | None = None) -> list[Dispatch]:
        """Dispatches with tracking dispatched at or after ``since``, of one order or account-wide."""
        path = SHIPMENTS_PATH.format(sale_order_id=sale_order_id) if sale_order_id else ACCOUNT_SHIPMENTS_PATH
        route = SHIPMENTS_PATH if sale_order_id else ACCOUNT_SHIPMENTS_PATH
        where = time_filter(SHIPMENT.dispatched_at, since) if since else None
        return await self.get_parsed(path, route, functools.partial(p.parse_dispatch, route=route), filter=where,
                                     sort=SHIPMENT.dispatched_at)

    async def create_dispatch(self, sale_order_id: str, draft: DispatchDraft) -> str:
        """Dispatch with tracking; returns the shipment id. Not idempotent."""
        path = SHIPMENTS_PATH.format(sale_order_id=sale_order_id)
        return await self.create(path, SHIPMENTS_PATH, draft.body(self.clock()))

    # ------------------------------------------------------------------ VAT credit notes (assumed)

    async def credit_notes(self, *, source_reference_ids: Iterable[str] | None = None,
                           since: datetime | None = None) -> list[CreditNote]:
        """VAT credit notes (not vouchers), by reference and/or issued at or after ``since``."""
        f, route = CREDIT_NOTE, CREDIT_NOTES_PATH
        base = all_of(f"[{f.reference_type}]=={{{REFERENCE_TYPE_SALE_INVOICE}}}",
                      time_filter(f.issue_date, since) if since else None)
        groups = [None] if source_reference_ids is None else [any_of(f.source_reference_id, b)
                                                              for b in batches(source_reference_ids)]
        parse = functools.partial(p.parse_credit_note, route=route)
        return [n for g in groups
                for n in await self.get_parsed(route, route, parse, filter=all_of(g, base), sort=f.nice_id)]

    async def credit_note_by_reference(self, source_reference_id: str) -> CreditNote | None:
        """Check-before-create: the oldest credit note with this ``sourceReferenceId``, or None."""
        found = await self.credit_notes(source_reference_ids=[source_reference_id])
        return min(found, key=_nice_order) if found else None

    async def create_credit_note(self, draft: CreditNoteDraft) -> str:
        """Create a VAT credit note; returns its id. Not idempotent: check by reference first."""
        return await self.create(CREDIT_NOTES_PATH, CREDIT_NOTES_PATH, draft.body())


def _nice_order(note: CreditNote) -> tuple[bool, int, str]:
    """Oldest first by ``niceId``; notes without one (unreadable) after, by id."""
    return note.nice_id is None, note.nice_id or 0, note.credit_note_id
