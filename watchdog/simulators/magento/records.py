"""The simulator's internal, mutable rows (one per Magento table row).

Only the state classes touch these, always under the state's lock; handlers read them under the
same lock and render JSON from them (``views_*``). They never leave the simulator: callers get
rendered JSON or the frozen records of ``specs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ZERO = Decimal(0)
CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Rounded to cents, half up (PHP ``round``)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(eq=False)
class BundleLinkRec:
    id: int
    sku: str
    option_id: int
    qty: Decimal
    price: Decimal
    position: int


@dataclass(eq=False)
class BundleOptionRec:
    option_id: int
    title: str
    position: int
    links: list[BundleLinkRec] = field(default_factory=list)


@dataclass(eq=False)
class ProductRec:
    id: int
    sku: str
    name: str
    type_id: str
    price: Decimal
    weight: Decimal
    created_at: datetime
    updated_at: datetime
    status: int = 1
    visibility: int = 4
    attribute_set_id: int = 4
    tax_class_id: str = "2"
    min_qty: Decimal = ZERO
    dynamic_sku: bool = False
    ship_together: bool = True
    bundle_options: list[BundleOptionRec] = field(default_factory=list)
    child_ids: list[int] = field(default_factory=list)

    @property
    def has_source_items(self) -> bool:
        return self.type_id in ("simple", "virtual", "downloadable")


@dataclass(eq=False)
class SourceRec:
    code: str
    name: str
    enabled: bool = True
    country_id: str = "GB"
    postcode: str = ""


@dataclass(eq=False)
class StockRec:
    stock_id: int
    name: str
    channels: list[tuple[str, str]] = field(default_factory=list)


@dataclass(eq=False)
class SourceItemRec:
    sku: str
    source_code: str
    quantity: Decimal
    status: int


@dataclass(eq=False)
class AddressRec:
    address_type: str
    firstname: str
    lastname: str
    street: list[str]
    city: str
    postcode: str
    country_id: str
    telephone: str
    email: str
    entity_id: int = 0
    parent_id: int = 0
    region: str | None = None
    company: str | None = None


@dataclass(eq=False)
class OrderItemRec:
    item_id: int
    order_id: int
    product_id: int
    product_type: str
    sku: str
    name: str
    qty_ordered: Decimal
    price: Decimal
    tax_percent: Decimal
    tax_amount: Decimal
    row_total: Decimal
    weight: Decimal
    created_at: datetime
    updated_at: datetime
    parent_item_id: int | None = None
    stock_sku: str | None = None  # the SKU whose stock moves; None for bundle/configurable parents
    ship_separately: bool = False
    ratio: Decimal = Decimal(1)  # child qty per parent unit
    product_option: dict[str, Any] | None = None
    discount_amount: Decimal = ZERO
    qty_shipped: Decimal = ZERO
    qty_invoiced: Decimal = ZERO
    qty_refunded: Decimal = ZERO
    qty_canceled: Decimal = ZERO
    released: Decimal = ZERO  # reservation given back for refunded-before-shipping qty
    is_virtual: bool = False
    locked_do_ship: bool = False

    @property
    def price_incl_tax(self) -> Decimal:
        return money(self.price * (1 + self.tax_percent / 100))

    @property
    def row_total_incl_tax(self) -> Decimal:
        return self.row_total + self.tax_amount

    @property
    def simple_qty_to_ship(self) -> Decimal:
        return max(ZERO, self.qty_ordered - self.qty_shipped - self.qty_refunded - self.qty_canceled)

    @property
    def qty_to_invoice(self) -> Decimal:
        return max(ZERO, self.qty_ordered - self.qty_invoiced - self.qty_canceled)

    @property
    def qty_to_refund(self) -> Decimal:
        return max(ZERO, self.qty_invoiced - self.qty_refunded)


@dataclass(eq=False)
class HistoryRec:
    entity_id: int
    parent_id: int
    comment: str
    status: str | None
    created_at: datetime
    is_customer_notified: int = 0
    is_visible_on_front: int = 0
    entity_name: str = "order"


@dataclass(eq=False)
class OrderRec:
    entity_id: int
    increment_id: str
    state: str
    status: str
    created_at: datetime
    updated_at: datetime
    currency: str
    customer_email: str
    customer_firstname: str
    customer_lastname: str
    customer_id: int | None
    items: list[OrderItemRec]
    billing: AddressRec
    shipping: AddressRec | None
    shipping_method: str
    shipping_description: str
    shipping_amount: Decimal
    shipping_tax_percent: Decimal
    shipping_tax_amount: Decimal
    payment_method: str
    stock_id: int = 1
    store_id: int = 1
    hold_before_state: str | None = None
    hold_before_status: str | None = None
    total_invoiced: Decimal = ZERO
    total_paid: Decimal = ZERO
    total_refunded: Decimal = ZERO
    subtotal_refunded: Decimal = ZERO
    tax_refunded: Decimal = ZERO
    shipping_refunded: Decimal = ZERO
    shipping_tax_refunded: Decimal = ZERO
    total_canceled: Decimal = ZERO
    histories: list[HistoryRec] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((i.row_total for i in self.items), ZERO)

    @property
    def items_tax(self) -> Decimal:
        return sum((i.tax_amount for i in self.items), ZERO)

    @property
    def tax_amount(self) -> Decimal:
        return self.items_tax + self.shipping_tax_amount

    @property
    def grand_total(self) -> Decimal:
        return self.subtotal + self.tax_amount + self.shipping_amount

    def item(self, item_id: int) -> OrderItemRec | None:
        return next((i for i in self.items if i.item_id == item_id), None)

    def children(self, item: OrderItemRec) -> list[OrderItemRec]:
        return [i for i in self.items if i.parent_item_id == item.item_id]


@dataclass(eq=False)
class CommentRec:
    entity_id: int
    parent_id: int
    comment: str
    created_at: datetime
    is_customer_notified: int = 0
    is_visible_on_front: int = 0


@dataclass(eq=False)
class TrackRec:
    entity_id: int
    parent_id: int
    order_id: int
    track_number: str
    title: str
    carrier_code: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    weight: Decimal | None = None
    qty: Decimal | None = None


@dataclass(eq=False)
class DocItemRec:
    """A shipment, invoice or credit memo line."""

    entity_id: int
    parent_id: int
    order_item_id: int
    product_id: int
    sku: str
    name: str
    qty: Decimal
    price: Decimal
    row_total: Decimal = ZERO
    tax_amount: Decimal = ZERO
    tax_percent: Decimal = ZERO
    weight: Decimal | None = None


@dataclass(eq=False)
class ShipmentRec:
    entity_id: int
    increment_id: str
    order_id: int
    created_at: datetime
    updated_at: datetime
    items: list[DocItemRec]
    source_code: str | None
    tracks: list[TrackRec] = field(default_factory=list)
    comments: list[CommentRec] = field(default_factory=list)
    email_sent: int | None = None

    @property
    def total_qty(self) -> Decimal:
        return sum((i.qty for i in self.items), ZERO)


@dataclass(eq=False)
class InvoiceRec:
    entity_id: int
    increment_id: str
    order_id: int
    created_at: datetime
    updated_at: datetime
    items: list[DocItemRec]
    shipping_amount: Decimal
    shipping_tax_amount: Decimal
    state: int = 2
    comments: list[CommentRec] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((i.row_total for i in self.items), ZERO)

    @property
    def tax_amount(self) -> Decimal:
        return sum((i.tax_amount for i in self.items), ZERO) + self.shipping_tax_amount

    @property
    def grand_total(self) -> Decimal:
        return self.subtotal + self.tax_amount + self.shipping_amount


@dataclass(eq=False)
class CreditMemoRec:
    entity_id: int
    increment_id: str
    order_id: int
    invoice_id: int | None
    created_at: datetime
    updated_at: datetime
    items: list[DocItemRec]
    shipping_amount: Decimal
    shipping_tax_amount: Decimal
    adjustment_positive: Decimal = ZERO
    adjustment_negative: Decimal = ZERO
    state: int = 2
    comments: list[CommentRec] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((i.row_total for i in self.items), ZERO)

    @property
    def tax_amount(self) -> Decimal:
        return sum((i.tax_amount for i in self.items), ZERO) + self.shipping_tax_amount

    @property
    def adjustment(self) -> Decimal:
        return self.adjustment_positive - self.adjustment_negative

    @property
    def grand_total(self) -> Decimal:
        return self.subtotal + self.tax_amount + self.shipping_amount + self.adjustment


@dataclass(eq=False)
class BulkOperationRec:
    id: int
    status: int
    result_message: str
    error_code: int | None = None


@dataclass(eq=False)
class BulkRec:
    uuid: str
    description: str
    start_time: datetime
    user_type: int
    user_id: int
    operations: list[BulkOperationRec] = field(default_factory=list)


@dataclass(eq=False)
class IntegrationRec:
    id: int
    name: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    resources: frozenset[str] | None = None  # None = all resources


@dataclass(eq=False)
class AdminUserRec:
    id: int
    username: str
    password: str
    resources: frozenset[str] | None = None


@dataclass(eq=False)
class AdminTokenRec:
    token: str
    user_id: int
    expires_at: datetime
