"""Domain records that both systems are mapped into.

Connectors turn Magento and Stokly JSON into these frozen records; the sync
flows, the snapshots and the checks only ever see these. Money and quantities
are ``Decimal`` (never float); timestamps are timezone-aware UTC ``datetime``.

Magento records carry Magento's identities (``entity_id``, ``increment_id``,
``sku``); Stokly records carry Stokly's (UUID strings, ``niceId``). A record
never holds a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum

__all__ = [
    "Address",
    "Channel",
    "CreditMemo",
    "CreditMemoItem",
    "CreditNote",
    "CreditNoteLine",
    "Customer",
    "Dispatch",
    "DispatchLine",
    "Invoice",
    "Item",
    "ItemFormat",
    "LedgerEntry",
    "LedgerView",
    "Listing",
    "Location",
    "MagentoInvoice",
    "MagentoSnapshot",
    "Order",
    "OrderLine",
    "OrderState",
    "Payment",
    "Product",
    "SaleOrder",
    "SaleOrderLine",
    "ShapeProblem",
    "Shipment",
    "ShipmentItem",
    "Source",
    "SourceItem",
    "StockLevel",
    "StoklySnapshot",
    "Track",
]

ZERO = Decimal(0)


# --------------------------------------------------------------------------- Magento


class OrderState(StrEnum):
    """Magento's closed set of order states (``status`` is open-ended)."""

    NEW = "new"
    PENDING_PAYMENT = "pending_payment"
    PROCESSING = "processing"
    COMPLETE = "complete"
    CLOSED = "closed"
    CANCELED = "canceled"
    HOLDED = "holded"
    PAYMENT_REVIEW = "payment_review"


@dataclass(frozen=True, slots=True)
class Product:
    """A Magento catalogue product."""

    entity_id: int
    sku: str
    name: str
    type_id: str  # simple, virtual, configurable, bundle, grouped, downloadable
    status: int = 1  # 1 enabled, 2 disabled
    dynamic_sku: bool = False  # bundle with sku_type "0": order lines carry a composed SKU
    bundle_children: tuple[str, ...] = ()  # selection SKUs of a bundle
    configurable_children: tuple[str, ...] = ()  # child simple SKUs of a configurable


@dataclass(frozen=True, slots=True)
class Source:
    """An MSI source (a warehouse as Magento sees it)."""

    source_code: str
    name: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class SourceItem:
    """Physical quantity of one SKU at one MSI source. Status 1 = in stock."""

    sku: str
    source_code: str
    quantity: Decimal
    status: int = 1


@dataclass(frozen=True, slots=True)
class Address:
    firstname: str = ""
    lastname: str = ""
    street: tuple[str, ...] = ()
    city: str = ""
    region: str = ""
    postcode: str = ""
    country_id: str = ""
    telephone: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One Magento order item. Children of bundles/configurables have ``parent_item_id``."""

    item_id: int
    sku: str
    name: str
    product_type: str
    qty_ordered: Decimal
    price: Decimal  # unit net
    tax_amount: Decimal  # line tax
    row_total: Decimal  # line net
    qty_shipped: Decimal = ZERO
    qty_invoiced: Decimal = ZERO
    qty_refunded: Decimal = ZERO
    qty_canceled: Decimal = ZERO
    price_incl_tax: Decimal = ZERO
    row_total_incl_tax: Decimal = ZERO
    tax_percent: Decimal = ZERO
    discount_amount: Decimal = ZERO
    parent_item_id: int | None = None

    @property
    def qty_to_ship(self) -> Decimal:
        """What Magento still allows to ship on this line (never negative)."""
        left = self.qty_ordered - self.qty_shipped - self.qty_refunded - self.qty_canceled
        return max(ZERO, left)


@dataclass(frozen=True, slots=True)
class Order:
    """A Magento sales order (``entity_id`` is the API id, ``increment_id`` the order number)."""

    entity_id: int
    increment_id: str
    state: str
    status: str
    created_at: datetime
    updated_at: datetime
    currency: str
    grand_total: Decimal
    subtotal: Decimal
    tax_amount: Decimal
    shipping_amount: Decimal
    customer_email: str
    lines: tuple[OrderLine, ...]
    shipping_tax_amount: Decimal = ZERO
    shipping_incl_tax: Decimal = ZERO
    discount_amount: Decimal = ZERO
    total_paid: Decimal = ZERO
    total_refunded: Decimal = ZERO
    customer_id: int | None = None
    customer_is_guest: bool = True
    customer_firstname: str = ""
    customer_lastname: str = ""
    shipping_method: str = ""
    shipping_description: str = ""
    shipping_address: Address | None = None
    billing_address: Address | None = None

    def line(self, item_id: int) -> OrderLine | None:
        """The line with this ``item_id``, or None."""
        return next((ln for ln in self.lines if ln.item_id == item_id), None)


@dataclass(frozen=True, slots=True)
class Track:
    track_number: str
    title: str
    carrier_code: str
    entity_id: int | None = None
    parent_id: int | None = None  # shipment id
    order_id: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ShipmentItem:
    order_item_id: int
    sku: str
    qty: Decimal


@dataclass(frozen=True, slots=True)
class Shipment:
    """A Magento shipment with its items and tracks."""

    entity_id: int
    increment_id: str
    order_id: int
    created_at: datetime
    items: tuple[ShipmentItem, ...]
    tracks: tuple[Track, ...] = ()
    source_code: str | None = None
    comments: tuple[str, ...] = ()
    updated_at: datetime | None = None  # the keyset cursor of the changed-since reader


@dataclass(frozen=True, slots=True)
class CreditMemoItem:
    order_item_id: int
    sku: str
    qty: Decimal
    price: Decimal  # unit net
    tax_amount: Decimal  # line tax
    row_total: Decimal  # line net


@dataclass(frozen=True, slots=True)
class CreditMemo:
    """A Magento credit memo (a refund). ``tax_amount`` is the VAT refunded."""

    entity_id: int
    increment_id: str
    order_id: int
    created_at: datetime
    updated_at: datetime
    state: int  # 1 open, 2 refunded, 3 canceled
    currency: str
    grand_total: Decimal
    subtotal: Decimal
    tax_amount: Decimal
    items: tuple[CreditMemoItem, ...]
    shipping_amount: Decimal = ZERO
    shipping_tax_amount: Decimal = ZERO
    adjustment: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class MagentoInvoice:
    entity_id: int
    increment_id: str
    order_id: int
    created_at: datetime
    state: int  # 1 open, 2 paid, 3 canceled
    grand_total: Decimal
    tax_amount: Decimal
    updated_at: datetime | None = None  # the keyset cursor of the changed-since reader


# --------------------------------------------------------------------------- Stokly


class ItemFormat(IntEnum):
    SIMPLE = 0
    COMPOSITE = 1  # kit / bundle
    VARIABLE = 2  # parent of variants
    BILL_OF_MATERIALS = 3


@dataclass(frozen=True, slots=True)
class Item:
    """A Stokly item (the master record for a SKU)."""

    item_id: str
    sku: str
    name: str
    format: ItemFormat = ItemFormat.SIMPLE
    status: int = 0  # 0 active, 1 deleted
    barcodes: tuple[str, ...] = ()
    components: tuple[tuple[str, Decimal], ...] = ()  # (itemId, quantity) of a composite
    variants: tuple[str, ...] = ()  # itemIds of a variable item

    @property
    def active(self) -> bool:
        return self.status == 0


@dataclass(frozen=True, slots=True)
class Location:
    location_id: str
    name: str
    status: int = 0  # 0 active


@dataclass(frozen=True, slots=True)
class StockLevel:
    """Stock of one item at one Stokly location (the location-level inventory record)."""

    item_id: str
    sku: str
    location_id: str
    on_hand: Decimal
    quarantined: Decimal = ZERO
    allocated: Decimal | None = ZERO  # None: not readable (an assumed field on inventory records)

    @property
    def available(self) -> Decimal | None:
        """``onHand - allocated - quarantined`` (the assumed Stokly meaning), never negative; None if unknown."""
        if self.allocated is None:
            return None
        return max(ZERO, self.on_hand - self.allocated - self.quarantined)


@dataclass(frozen=True, slots=True)
class Channel:
    """A Stokly sales channel; type 5 is Magento."""

    channel_id: str
    name: str
    type: int
    status: int = 0
    inventory_location_ids: tuple[str, ...] = ()
    allocate_sold_location_id: str | None = None  # the designated location (field name assumed)
    unknown: frozenset[str] = frozenset()  # attributes Stokly's answer did not let us read


@dataclass(frozen=True, slots=True)
class Listing:
    listing_id: str
    channel_id: str
    item_id: str
    sku: str
    reference_id: str | None = None  # Magento product entity_id (assumed)
    status: int = 0


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    barcode: str | None
    email: str | None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Payment:
    method: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SaleOrderLine:
    line_id: str
    item_id: str
    sku: str
    quantity: Decimal
    unit_price: Decimal  # net
    unit_tax: Decimal
    status: str = "unprocessed"
    parent_id: str | None = None
    quantity_cancelled: Decimal = ZERO  # cancelled by an early refund (the amend is assumed)
    unknown: frozenset[str] = frozenset()  # attributes Stokly's answer did not let us read


@dataclass(frozen=True, slots=True)
class SaleOrder:
    """A Stokly sale order. ``source_reference_id`` holds the Magento ``increment_id``."""

    sale_order_id: str
    nice_id: int
    stage: str
    source_reference_id: str | None
    currency: str
    created_at: datetime
    lines: tuple[SaleOrderLine, ...] = ()
    source_id: str | None = None  # channel id
    customer_id: str | None = None
    total: Decimal | None = ZERO  # None: not readable (assumed field)
    tax: Decimal | None = ZERO  # None: not readable (assumed field; absent from the documented read shape)
    allocated_location_id: str | None = None  # field name assumed; see ``unknown``
    item_statuses: tuple[str, ...] = ()
    payments: tuple[Payment, ...] = ()
    unknown: frozenset[str] = frozenset()  # attributes Stokly's answer did not let us read


@dataclass(frozen=True, slots=True)
class DispatchLine:
    line_id: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A Stokly dispatch (shipment) with tracking. The whole resource is assumed."""

    dispatch_id: str
    nice_id: int | None
    sale_order_id: str
    location_id: str | None
    carrier: str
    tracking_number: str  # "" when the dispatch has no tracking (a collection, a letter): a normal dispatch
    dispatched_at: datetime
    lines: tuple[DispatchLine, ...] = ()
    service: str = ""
    tracking_url: str = ""
    status: str = "dispatched"
    unknown: frozenset[str] = frozenset()  # attributes Stokly's answer did not let us read


@dataclass(frozen=True, slots=True)
class Invoice:
    """A Stokly sale invoice (a financial posting)."""

    sale_invoice_id: str
    nice_id: int
    sale_order_id: str
    issue_date: datetime
    currency: str
    status: str
    total: Decimal | None = ZERO  # None: not readable (assumed field)
    tax: Decimal | None = ZERO  # None: not readable (assumed field)


@dataclass(frozen=True, slots=True)
class CreditNoteLine:
    item_id: str
    quantity: Decimal
    unit_price: Decimal  # net
    unit_tax: Decimal
    restock: bool = False


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A Stokly VAT credit note for a Magento refund. The whole resource is assumed.

    ``amount`` is the gross refund; ``vat`` the tax it reverses (lines plus shipping).
    """

    credit_note_id: str
    nice_id: int | None
    source_reference_id: str | None
    currency: str
    amount: Decimal | None  # None: not readable (assumed shape)
    vat: Decimal | None  # None: the lines' or shipping tax not readable (assumed shape)
    issue_date: datetime | None
    reference_id: str | None = None  # the sale invoice it credits
    lines: tuple[CreditNoteLine, ...] = ()
    shipping_cost: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    status: str = "open"
    unknown: frozenset[str] = frozenset()  # attributes Stokly's answer did not let us read


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True, slots=True)
class ShapeProblem:
    """One (system, route, field) whose answer was not what the connector reads, within one read.

    ``set_aside`` records could not be read at all and were left out (a required field missing or
    garbage); otherwise the records were read with that field unknown. ``records`` counts the
    records affected out of ``read`` records; ``sample_id`` names one of them.
    """

    system: str
    route: str
    field: str
    expected: str
    got: str
    records: int
    read: int
    sample_id: str
    set_aside: bool


@dataclass(frozen=True, slots=True)
class MagentoSnapshot:
    """What the watchdog read from Magento in one run. A part that could not be read is None."""

    taken_at: datetime
    source_code: str
    stock_id: int
    products: tuple[Product, ...] | None = None
    sources: tuple[Source, ...] | None = None
    source_items: tuple[SourceItem, ...] | None = None
    salable: Mapping[str, Decimal] | None = None  # sku -> salable qty, read only for suspects
    orders: tuple[Order, ...] | None = None
    shipments: tuple[Shipment, ...] | None = None
    credit_memos: tuple[CreditMemo, ...] | None = None
    invoices: tuple[MagentoInvoice, ...] | None = None
    errors: Mapping[str, str] = field(default_factory=dict)  # part -> why it is missing
    shape: tuple[ShapeProblem, ...] = ()  # records set aside and fields not readable, per route and field


@dataclass(frozen=True, slots=True)
class StoklySnapshot:
    """What the watchdog read from Stokly in one run. A part that could not be read is None."""

    taken_at: datetime
    channel_id: str
    location_id: str | None  # the designated location as configured (None: take the channel's)
    channel: Channel | None = None
    items: tuple[Item, ...] | None = None
    locations: tuple[Location, ...] | None = None
    stock_levels: tuple[StockLevel, ...] | None = None
    listings: tuple[Listing, ...] | None = None
    sale_orders: tuple[SaleOrder, ...] | None = None
    dispatches: tuple[Dispatch, ...] | None = None
    invoices: tuple[Invoice, ...] | None = None
    credit_notes: tuple[CreditNote, ...] | None = None
    errors: Mapping[str, str] = field(default_factory=dict)
    shape: tuple[ShapeProblem, ...] = ()

    @property
    def designated_location_id(self) -> str | None:
        """The configured location, else the channel's "Allocate Sold" location, else None."""
        if self.location_id:
            return self.location_id
        return self.channel.allocate_sold_location_id if self.channel is not None else None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One sync-ledger row as the watchdog sees it (read-only)."""

    flow: str
    source_id: str
    state: str
    target_id: str | None
    attempts: int
    last_error: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerView:
    """The sync worker's own record, for checks about the worker (stale pushes, dead letters)."""

    last_success: Mapping[str, datetime] = field(default_factory=dict)  # flow -> last successful run
    entries: tuple[LedgerEntry, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)  # flow -> why it pushed nothing, if so
