"""The simulated Stokly account's records: frozen snapshots, replaced on every change.

Each read-back of ``StoklyState`` hands out these records; they can be kept and compared
safely because the state never mutates one in place. Quantities and money are Decimal.

Errors raised by the state (the HTTP layer maps them to Stokly's error bodies)::

    SimError             a request the simulated Stokly refuses
     ├── NotFound        an id that does not exist (HTTP 404)
     └── Invalid         a validation failure (HTTP 400)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from watchdog.model import ItemFormat
from watchdog.stokly_assumed import LineStatus, OrderStage

__all__ = [
    "ZERO",
    "CreditLineSpec",
    "CreditNoteSpec",
    "Invalid",
    "InvoiceLineSpec",
    "LineSpec",
    "NotFound",
    "Shipping",
    "SimAdjustment",
    "SimBin",
    "SimChannel",
    "SimCreditNote",
    "SimCustomer",
    "SimDispatch",
    "SimError",
    "SimInvoice",
    "SimItem",
    "SimLine",
    "SimListing",
    "SimLocation",
    "SimMovement",
    "SimSaleOrder",
]

ZERO = Decimal(0)


class SimError(Exception):
    """A request the simulated Stokly refuses; ``message`` is the API's own words."""

    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotFound(SimError):
    status = 404


class Invalid(SimError):
    status = 400


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True, slots=True)
class SimItem:
    item_id: str
    sku: str
    name: str
    format: ItemFormat
    status: int  # 0 active, 1 deleted
    barcodes: tuple[str, ...]
    time_created: datetime
    time_updated: datetime
    components: tuple[tuple[str, Decimal], ...] = ()  # composite: (component itemId, quantity per kit)
    variants: tuple[str, ...] = ()  # variable: variant itemIds
    sale_price: Decimal | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SimLocation:
    location_id: str
    name: str
    status: int = 0


@dataclass(frozen=True, slots=True)
class SimBin:
    bin_id: str
    location_id: str
    name: str
    default: bool
    status: str = "active"
    type: str = "pickable"
    barcode: str = ""


@dataclass(frozen=True, slots=True)
class SimMovement:
    """One signed stock change in one bin; the sum per item equals its on hand."""

    movement_id: str
    nice_id: int
    item_id: str
    location_id: str
    bin_id: str
    quantity: Decimal
    date: datetime
    reason: str
    reference_id: str | None = None  # adjustment, sale order, credit note...


@dataclass(frozen=True, slots=True)
class SimAdjustment:
    adjustment_id: str
    nice_id: int
    location_id: str
    bin_id: str
    reason: str
    items: tuple[tuple[str, Decimal], ...]
    date: datetime


@dataclass(frozen=True, slots=True)
class SimChannel:
    channel_id: str
    name: str
    type: int
    status: int = 0
    manage_inventory: bool = False
    sync_data: bool = False
    inventory_location_ids: tuple[str, ...] = ()
    allocate_sold_location_id: str | None = None
    uri: str = ""


@dataclass(frozen=True, slots=True)
class SimListing:
    listing_id: str
    channel_id: str
    item_id: str
    reference_id: str | None
    status: int = 0  # 2 removed


@dataclass(frozen=True, slots=True)
class SimCustomer:
    customer_id: str
    forename: str
    surname: str
    email: str | None
    barcode: str | None
    status: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.forename} {self.surname}".strip()


# --------------------------------------------------------------------------- sales


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A sale order line to create: net and tax per unit; discount per line."""

    item_id: str
    quantity: Decimal
    unit_price: Decimal = ZERO
    unit_tax: Decimal = ZERO
    line_discount: Decimal = ZERO
    fulfilment_type: str = "delivery"


@dataclass(frozen=True, slots=True)
class Shipping:
    forename: str = ""
    surname: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    postcode: str = ""
    option: str = ""
    cost: Decimal = ZERO
    tax: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class SimLine:
    line_id: str
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    unit_tax: Decimal
    parent_id: str | None = None
    line_discount: Decimal = ZERO
    fulfilment_type: str = "delivery"
    collected: Decimal = ZERO
    dispatched: Decimal = ZERO
    cancelled: Decimal = ZERO

    @property
    def open_quantity(self) -> Decimal:
        """Ordered, not cancelled and not yet collected: what is still allocated."""
        return self.quantity - self.cancelled - self.collected

    @property
    def status(self) -> LineStatus:
        active = self.quantity - self.cancelled
        if active <= 0:
            return LineStatus.CANCELLED
        if self.dispatched >= active:
            return LineStatus.DISPATCHED
        if self.collected >= active:
            return LineStatus.COLLECTED
        return LineStatus.PART_COLLECTED if self.collected > 0 else LineStatus.UNPROCESSED

    @property
    def line_price(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def line_tax(self) -> Decimal:
        return self.unit_tax * self.quantity


@dataclass(frozen=True, slots=True)
class SimSaleOrder:
    sale_order_id: str
    nice_id: int
    stage: OrderStage
    source_type: str
    source_id: str | None
    source_reference_id: str | None
    currency: str
    created_at: datetime
    lines: tuple[SimLine, ...]
    allocated_location_id: str | None
    customer_id: str | None = None
    customer_reference: str | None = None
    shipping: Shipping = Shipping()
    payments: tuple[tuple[int, Decimal], ...] = ()
    tags: tuple[str, ...] = ()

    def line(self, line_id: str) -> SimLine | None:
        return next((ln for ln in self.lines if ln.line_id == line_id), None)

    @property
    def top_lines(self) -> tuple[SimLine, ...]:
        return tuple(ln for ln in self.lines if ln.parent_id is None)

    @property
    def tax(self) -> Decimal:
        return sum((ln.line_tax for ln in self.top_lines), ZERO) + self.shipping.tax

    @property
    def total(self) -> Decimal:
        lines = sum((ln.line_price + ln.line_tax - ln.line_discount for ln in self.top_lines), ZERO)
        return lines + self.shipping.cost + self.shipping.tax

    @property
    def paid(self) -> Decimal:
        return sum((amount for _, amount in self.payments), ZERO)


@dataclass(frozen=True, slots=True)
class InvoiceLineSpec:
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    unit_tax: Decimal
    item_name: str = ""


@dataclass(frozen=True, slots=True)
class SimInvoice:
    sale_invoice_id: str
    nice_id: int
    sale_order_id: str
    sale_order_nice_id: int
    issue_date: datetime
    currency: str
    status: str
    lines: tuple[InvoiceLineSpec, ...]
    payments: tuple[tuple[int, Decimal], ...] = ()

    @property
    def tax(self) -> Decimal:
        return sum((ln.unit_tax * ln.quantity for ln in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return sum(((ln.unit_price + ln.unit_tax) * ln.quantity for ln in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class SimDispatch:
    dispatch_id: str
    nice_id: int
    sale_order_id: str
    location_id: str
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    dispatched_at: datetime
    lines: tuple[tuple[str, Decimal], ...]  # (lineId, quantity)
    status: str = "dispatched"


@dataclass(frozen=True, slots=True)
class CreditLineSpec:
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    unit_tax: Decimal
    restock: bool = False
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class CreditNoteSpec:
    """A VAT credit note to create (the whole resource is assumed)."""

    source_reference_id: str | None
    currency: str
    lines: tuple[CreditLineSpec, ...] = ()
    reference_id: str | None = None  # the sale invoice credited
    reason: str = ""
    shipping_cost: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    refund_amount: Decimal | None = None  # None: lines + shipping, gross
    refund_method: int = 4
    reference_type: int = 1
    barcode: str | None = None


@dataclass(frozen=True, slots=True)
class SimCreditNote:
    credit_note_id: str
    nice_id: int
    spec: CreditNoteSpec
    issue_date: datetime
    status: str = "open"

    @property
    def vat(self) -> Decimal:
        lines = sum((ln.unit_tax * ln.quantity for ln in self.spec.lines), ZERO)
        return lines + self.spec.shipping_tax

    @property
    def amount(self) -> Decimal:
        """The refund amount: as given, else lines and shipping gross."""
        if self.spec.refund_amount is not None:
            return self.spec.refund_amount
        lines = sum(((ln.unit_price + ln.unit_tax) * ln.quantity for ln in self.spec.lines), ZERO)
        return lines + self.spec.shipping_cost + self.spec.shipping_tax
