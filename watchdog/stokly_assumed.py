"""Every ASSUMED Stokly API shape, in one place.

Stokly publishes no API reference (see ``reference/stokly-api.md``). Confirmed facts
(paths, field names seen in working client code) are spelled where they are used; every
shape that is *assumed* or only *inferred* lives here, so a person holding the real API
can correct it in one file. The Stokly simulator (``watchdog.simulators.stokly``) and
the connector (``watchdog.connectors.stokly``) both import these names: correcting a
value here changes both sides at once.

Markers on each entry: ``A`` assumed (nothing public), ``I`` inferred from confirmed
code, ``C`` confirmed but kept here because an assumed shape depends on it.
Verify every ``A`` with Stokly before go-live (reference section 9 lists the questions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "ACCOUNT_SHIPMENTS_PATH",
    "CANCEL_ITEMS",
    "CANCEL_ITEMS_PATH",
    "CHANNEL_ALLOCATE_SOLD_LOCATION",
    "CREDIT_NOTE",
    "CREDIT_NOTES_PATH",
    "CREDIT_NOTE_ITEM",
    "CREDIT_NOTE_PATH",
    "CREDIT_NOTE_REFERENCE_PREFIX",
    "CUSTOMER_EMAIL",
    "CUSTOMER_FULL_NAME",
    "DEFAULT_PAGE_SIZE",
    "FILTER_AND_BINDS_TIGHTER",
    "FILTER_CASE_SENSITIVE",
    "INVENTORY_ALLOCATED",
    "INVENTORY_AVAILABLE",
    "INVOICE_TAX",
    "INVOICE_TOTAL",
    "ITEM_COMPONENTS",
    "LINE_QUANTITY_CANCELLED",
    "LINE_QUANTITY_COLLECTED",
    "LINE_QUANTITY_DISPATCHED",
    "MAX_PAGE_SIZE",
    "MSG_GRANT_REJECTED",
    "MSG_JWT_EXPIRED",
    "MSG_JWT_INVALID",
    "MSG_JWT_MISSING",
    "MSG_NOT_FOUND",
    "MSG_RATE_LIMITED",
    "PAYMENT_METHOD_EXTERNAL",
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_WINDOW_S",
    "READ_SHAPES",
    "REFERENCE_TYPE_SALE_INVOICE",
    "REFERENCE_TYPE_VOUCHER",
    "RETRY_AFTER_HEADER",
    "SALE_ORDER",
    "SHIPMENT",
    "SHIPMENTS_PATH",
    "STATUS_INVALID",
    "STATUS_NOT_FOUND",
    "STATUS_RATE_LIMITED",
    "STATUS_UNAUTHORISED",
    "TOKEN_LIFETIME_S",
    "TOKEN_TYPE",
    "CancelItemsFields",
    "CreditNoteFields",
    "CreditNoteItemFields",
    "CreditNoteLineArgs",
    "Evidence",
    "JsonType",
    "LineStatus",
    "OrderStage",
    "ReadField",
    "SaleOrderFields",
    "ShipmentFields",
    "assumed_fields",
    "cancel_items_body",
    "credit_note_body",
    "credit_note_reference",
    "json_number",
    "msg_invalid",
    "msg_required",
    "read_shape",
    "shipment_body",
]

# --------------------------------------------------------------------------- auth

TOKEN_LIFETIME_S = 3600  # A: the grant's token lifetime (Cognito's default); clients must honour `expiry`
TOKEN_TYPE = "Bearer"  # noqa: S105 - A: `tokenType` in the grant answer, not a secret
MSG_JWT_EXPIRED = "jwt expired"  # C text (KS/MI common.js); that it comes with HTTP 401 is A
MSG_JWT_MISSING = "jwt must be provided"  # A: no Authorization header (jsonwebtoken's wording)
MSG_JWT_INVALID = "invalid token"  # A: a token the server did not issue
MSG_GRANT_REJECTED = "Invalid credentials"  # A: bad account key, client id or signature on /v1/grant

# --------------------------------------------------------------------------- errors (reference section 5)

STATUS_UNAUTHORISED = 401  # A: missing, bad or expired token; rejected grant
STATUS_NOT_FOUND = 404  # A
STATUS_INVALID = 400  # A: validation failure
STATUS_RATE_LIMITED = 429  # A
MSG_NOT_FOUND = "Not found"  # A


def msg_required(name: str) -> str:
    """A: the validation text for a missing field, e.g. ``"items is required"``."""
    return f"{name} is required"


def msg_invalid(name: str, why: str) -> str:
    """A: the validation text for a field that is present but wrong."""
    return f"{name} {why}"


# --------------------------------------------------------------------------- rate limit (reference section 6)

RATE_LIMIT_REQUESTS = 600  # A: requests per window (the real limit is unknown)
RATE_LIMIT_WINDOW_S = 60  # I: a fixed 60 s window (KS pauses until 60 s have passed)
MSG_RATE_LIMITED = "Too many requests"  # A: the 429 body is {"message": MSG_RATE_LIMITED}
RETRY_AFTER_HEADER = "retry-after"  # A: seconds until the window rolls, sent with every 429
# C: `x-ratelimit-remaining` on every response (error responses included) is confirmed.

# --------------------------------------------------------------------------- paging and filters (section 4)

DEFAULT_PAGE_SIZE = 100  # I: N4 loops while a page has 100 rows
MAX_PAGE_SIZE = 1000  # A: nobody is seen asking for more; larger sizes are clamped
FILTER_AND_BINDS_TIGHTER = True  # A: `a||b&&c` means `a||(b&&c)`; clients always parenthesise
FILTER_CASE_SENSITIVE = True  # A: `==` compares strings exactly (clients lower-case locally)

# --------------------------------------------------------------------------- items, stock, channels, customers

ITEM_COMPONENTS = "composingItems"  # A: create body of a composite item: [{"itemId", "quantity"}]
# A: POST /v1/adjustments answers 202 {"data": {"id": <adjustment id>}} (the connector returns that id).
# A: write validation that names an unknown id (item, channel, location...) answers 404 "Not found".
# A: a duplicate sourceReferenceId is accepted (Stokly is not known to refuse one): check before create.
# A: read-only extras the simulator returns and nothing relies on: inventory-movement rows
#    (movementId, niceId, itemSku, locationId, binId, reason, referenceId beside the confirmed date, quantity),
#    listing/children/composing-item extras (itemFormat, format, itemSku) and order line "type".
INVENTORY_ALLOCATED = "allocated"  # A on inventory records (C on items)
INVENTORY_AVAILABLE = "available"  # A on inventory records; available = onHand - allocated - quarantined (A)
CHANNEL_ALLOCATE_SOLD_LOCATION = "allocateSoldLocationId"  # A: HELP's "Allocate Sold" location on a channel
CUSTOMER_EMAIL = "email"  # A on the read shape (C in the create body)
CUSTOMER_FULL_NAME = "fullName"  # A on the read shape (C in the create body)
PAYMENT_METHOD_EXTERNAL = 4  # A: the only method value seen; meaning "paid elsewhere (Magento)"

# --------------------------------------------------------------------------- sale orders


class OrderStage(StrEnum):
    ORDER = "order"  # C
    REMOVED = "removed"  # I: deleted / cancelled (filters exclude it)


class LineStatus(StrEnum):
    """Sale order line ``status``. Only ``unprocessed`` is confirmed."""

    UNPROCESSED = "unprocessed"  # C: nothing collected yet
    PART_COLLECTED = "part_collected"  # A: some of the open quantity collected
    COLLECTED = "collected"  # A: all open quantity collected, not all dispatched
    DISPATCHED = "dispatched"  # A: all open quantity dispatched
    CANCELLED = "cancelled"  # A: the whole line cancelled (early refund)


@dataclass(frozen=True)
class SaleOrderFields:
    """Field names on the sale order read shape (and its lines) that are assumed."""

    allocated_location_id: str = "allocatedLocationId"  # A: where the order's stock is allocated
    customer_id: str = "customerId"  # A on the read shape (C nested in the create body)
    total: str = "total"  # A: gross order total (lines + shipping)
    tax: str = "tax"  # A: order tax
    paid: str = "paid"  # A
    payments: str = "payments"  # A: echoed [{method, amount}]
    shipping_option: str = "shippingOption"  # A: flat read-side copies of the create body's shipping
    shipping_cost: str = "shippingCost"  # A: net shipping
    shipping_tax: str = "shippingTax"  # A
    shipping_line1: str = "shippingAddressLine1"  # A (Line2, City, Region are confirmed)
    shipping_postcode: str = "shippingAddressPostcode"  # A
    shipping_country: str = "shippingAddressCountry"  # A


SALE_ORDER = SaleOrderFields()
LINE_QUANTITY_COLLECTED = "quantityCollected"  # A on order lines
LINE_QUANTITY_DISPATCHED = "quantityDispatched"  # A on order lines
LINE_QUANTITY_CANCELLED = "quantityCancelled"  # A on order lines

# A: how a refund before fulfilment amends a sale order. Mirrors the confirmed collect-items
# call: POST {"items": [{"lineId", "quantity"}], "reason"} cancels that quantity of each line,
# releasing its allocation; a line whose whole quantity is cancelled gets status "cancelled".
CANCEL_ITEMS_PATH = "/v2/saleorders/{sale_order_id}/cancel-items"


@dataclass(frozen=True)
class CancelItemsFields:
    items: str = "items"
    line_id: str = "lineId"
    quantity: str = "quantity"
    reason: str = "reason"


CANCEL_ITEMS = CancelItemsFields()


def cancel_items_body(lines: Sequence[tuple[str, Decimal]], reason: str) -> dict[str, Any]:
    """The (assumed) body that cancels ``quantity`` of each ``(lineId, quantity)``."""
    f = CANCEL_ITEMS
    items = [{f.line_id: line_id, f.quantity: json_number(qty)} for line_id, qty in lines]
    return {f.items: items, f.reason: reason}


# --------------------------------------------------------------------------- invoices

INVOICE_TOTAL = "total"  # A: gross invoice total on GET /v0/invoices rows
INVOICE_TAX = "tax"  # A: invoice tax on GET /v0/invoices rows
# A: POST /v2/saleorders/{id}/invoices answers 202 {"data": {"id": <saleInvoiceId of the first invoice>}}.

# --------------------------------------------------------------------------- shipments (reference 8.5, all A)

SHIPMENTS_PATH = "/v2/saleorders/{sale_order_id}/shipments"  # A: POST creates, GET lists one order's
ACCOUNT_SHIPMENTS_PATH = "/v2/shipments"  # A: account-wide list, filterable on dispatchedAt


@dataclass(frozen=True)
class ShipmentFields:
    id: str = "shipmentId"
    nice_id: str = "niceId"
    sale_order_id: str = "saleOrderId"
    location_id: str = "locationId"
    carrier: str = "carrier"
    service: str = "service"
    tracking_number: str = "trackingNumber"
    tracking_url: str = "trackingUrl"
    dispatched_at: str = "dispatchedAt"
    status: str = "status"
    items: str = "items"
    item_line_id: str = "lineId"
    item_quantity: str = "quantity"
    status_dispatched: str = "dispatched"


SHIPMENT = ShipmentFields()


def shipment_body(
    *,
    location_id: str,
    carrier: str,
    service: str,
    tracking_number: str,
    tracking_url: str,
    dispatched_at: str,
    lines: Sequence[tuple[str, Decimal]],
) -> dict[str, Any]:
    """The (assumed) body of POST SHIPMENTS_PATH. ``dispatched_at`` is an ISO-8601 string."""
    f = SHIPMENT
    return {
        f.location_id: location_id,
        f.carrier: carrier,
        f.service: service,
        f.tracking_number: tracking_number,
        f.tracking_url: tracking_url,
        f.dispatched_at: dispatched_at,
        f.items: [{f.item_line_id: line_id, f.item_quantity: json_number(q)} for line_id, q in lines],
    }


# --------------------------------------------------------------------------- VAT credit notes (reference 8.6, all A)

CREDIT_NOTES_PATH = "/v0/credit-notes"  # C path (used for vouchers); as a VAT credit note: A
CREDIT_NOTE_PATH = "/v0/credit-notes/{credit_note_id}"  # A
REFERENCE_TYPE_VOUCHER = 0  # C: store credit / gift voucher
REFERENCE_TYPE_SALE_INVOICE = 1  # A: a credit note against a sale invoice
CREDIT_NOTE_REFERENCE_PREFIX = "MAG-CM-"  # A: our dedupe key is MAG-CM-<Magento credit memo increment_id>


def credit_note_reference(memo_increment_id: str) -> str:
    """The ``sourceReferenceId`` we put on the credit note for a Magento credit memo."""
    return f"{CREDIT_NOTE_REFERENCE_PREFIX}{memo_increment_id}"


@dataclass(frozen=True)
class CreditNoteFields:
    id: str = "creditNoteId"
    nice_id: str = "niceId"
    barcode: str = "barcode"  # C (vouchers)
    value: str = "value"  # C (vouchers): {amount, currency}
    reference_type: str = "referenceType"  # C name; value 1 is A
    reference_id: str = "referenceId"  # the saleInvoiceId credited
    source_reference_id: str = "sourceReferenceId"
    currency: str = "currency"
    reason: str = "reason"
    items: str = "items"
    shipping: str = "shipping"
    shipping_cost: str = "cost"
    shipping_tax: str = "tax"
    refund: str = "refund"
    refund_method: str = "method"
    refund_amount: str = "amount"
    status: str = "status"
    issue_date: str = "issueDate"
    status_open: str = "open"


@dataclass(frozen=True)
class CreditNoteItemFields:
    reference_type: str = "referenceType"
    reference_type_item: str = "item"
    reference_id: str = "referenceId"  # itemId
    quantity: str = "quantity"
    unit_price: str = "displayPrice"  # net per unit
    unit_tax: str = "displayTax"  # tax per unit
    restock: str = "restock"  # when true Stokly adds the quantity back at locationId (A)
    location_id: str = "locationId"


CREDIT_NOTE = CreditNoteFields()
CREDIT_NOTE_ITEM = CreditNoteItemFields()


@dataclass(frozen=True)
class CreditNoteLineArgs:
    """One credited line, as primitives for ``credit_note_body``."""

    item_id: str
    quantity: Decimal
    unit_price: Decimal
    unit_tax: Decimal
    restock: bool = False
    location_id: str | None = None


def _credit_item(line: CreditNoteLineArgs) -> dict[str, Any]:
    f = CREDIT_NOTE_ITEM
    item: dict[str, Any] = {
        f.reference_type: f.reference_type_item,
        f.reference_id: line.item_id,
        f.quantity: json_number(line.quantity),
        f.unit_price: json_number(line.unit_price),
        f.unit_tax: json_number(line.unit_tax),
        f.restock: line.restock,
    }
    if line.location_id is not None:
        item[f.location_id] = line.location_id
    return item


def credit_note_body(
    *,
    source_reference_id: str,
    invoice_id: str | None,
    currency: str,
    reason: str,
    lines: Sequence[CreditNoteLineArgs],
    shipping_cost: Decimal,
    shipping_tax: Decimal,
    refund_amount: Decimal,
    refund_method: int = PAYMENT_METHOD_EXTERNAL,
) -> dict[str, Any]:
    """The (assumed) body of POST CREDIT_NOTES_PATH for a VAT credit note."""
    f = CREDIT_NOTE
    return {
        f.reference_type: REFERENCE_TYPE_SALE_INVOICE,
        f.reference_id: invoice_id,
        f.source_reference_id: source_reference_id,
        f.currency: currency,
        f.reason: reason,
        f.items: [_credit_item(line) for line in lines],
        f.shipping: {f.shipping_cost: json_number(shipping_cost), f.shipping_tax: json_number(shipping_tax)},
        f.refund: {f.refund_method: refund_method, f.refund_amount: json_number(refund_amount)},
    }


# --------------------------------------------------------------------------- numbers


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when integral, else the float whose repr is the same digits."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


# --------------------------------------------------------------------------- read shapes: every field we read


class Evidence(StrEnum):
    """How we know a field exists: seen in working client code, inferred from it, or assumed."""

    CONFIRMED = "confirmed"
    INFERRED = "inferred"
    ASSUMED = "assumed"


class JsonType(StrEnum):
    """The JSON type a reader expects (``number`` takes an int, a float or a numeric string)."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ARRAY = "array"
    OBJECT = "object"
    TIMESTAMP = "timestamp"  # an ISO-8601 string


@dataclass(frozen=True)
class ReadField:
    """One field the connector reads from a Stokly record.

    ``path`` is the key, ``a.b`` for a member of an object and ``items[].x`` for a member of
    each element of a list. ``required`` fields identify the record or define what it is:
    a record without one is set aside (counted and reported, the rest of the read goes on).
    Any other field that is missing or of another type costs that field only: the record
    is read with that part unknown, and the checks that need it say so.
    """

    path: str
    type: JsonType
    evidence: Evidence
    required: bool = False
    used_for: str = ""


def _f(path: str, kind: JsonType, evidence: Evidence, required: bool = False, used_for: str = "") -> ReadField:
    return ReadField(path, kind, evidence, required, used_for)


_C, _I, _A = Evidence.CONFIRMED, Evidence.INFERRED, Evidence.ASSUMED
_S, _N, _INT, _T = JsonType.STRING, JsonType.NUMBER, JsonType.INTEGER, JsonType.TIMESTAMP
_ARR, _OBJ = JsonType.ARRAY, JsonType.OBJECT

#: Route template -> the fields the connector reads there. The list routes and their
#: single-record twins share one entry (``/v2/saleorders`` covers ``/v2/saleorders/{id}``).
READ_SHAPES: dict[str, tuple[ReadField, ...]] = {
    "/v0/items": (
        _f("itemId", _S, _C, True), _f("sku", _S, _C, True), _f("name", _S, _C),
        _f("format", _INT, _C, True), _f("status", _INT, _C, True), _f("barcodes", _ARR, _C),
    ),
    "/v0/composing-items": (
        _f("itemId", _S, _I, True), _f("composingItemId", _S, _I, True), _f("quantity", _N, _I, True),
    ),
    "/v0/items/{id}/children": (_f("itemId", _S, _A, True, "variants of a variable item"),),
    "/v0/locations": (_f("locationId", _S, _C, True), _f("name", _S, _C), _f("status", _INT, _C)),
    "/v0/locations/{id}/bins": (
        _f("binId", _S, _C, True), _f("locationId", _S, _C, True), _f("name", _S, _C),
        _f("default", _INT, _C), _f("status", _S, _C),  # 1 / 0 (reference 8.2)
    ),
    "/v1/inventory-records": (
        _f("itemId", _S, _C, True), _f("itemSku", _S, _C, True), _f("locationId", _S, _C, True),
        _f("onHand", _N, _C, True), _f("quarantined", _N, _C),
        _f(INVENTORY_ALLOCATED, _N, _A, used_for="available stock (stock_divergence, stock push)"),
    ),
    "/v0/channels": (
        _f("channelId", _S, _C, True), _f("name", _S, _C), _f("type", _INT, _C), _f("status", _INT, _C),
        _f("inventoryLocationIds", _ARR, _C),
        _f(CHANNEL_ALLOCATE_SOLD_LOCATION, _S, _A, used_for="the designated location when none is configured"),
    ),
    "/v0/channels/{id}/listings": (
        _f("listingId", _S, _C, True), _f("channelId", _S, _C), _f("itemId", _S, _C, True),
        _f("sku", _S, _C, True), _f("referenceId", _S, _C), _f("status", _INT, _C),
    ),
    "/v0/customers": (
        _f("customerId", _S, _C, True), _f("barcode", _S, _C),
        _f(CUSTOMER_EMAIL, _S, _A, used_for="matching guest customers"), _f(CUSTOMER_FULL_NAME, _S, _A),
    ),
    "/v2/saleorders": (
        _f("saleOrderId", _S, _C, True), _f("niceId", _INT, _C, True), _f("stage", _S, _C, True),
        _f("sourceReferenceId", _S, _C, used_for="matching the Magento order"), _f("currency", _S, _C),
        _f("createdAt", _T, _C, True), _f("sourceId", _S, _C), _f("itemStatuses", _ARR, _C),
        _f(SALE_ORDER.customer_id, _S, _A),
        _f(SALE_ORDER.total, _N, _A, used_for="order totals, posting sequence, missing-order value"),
        _f(SALE_ORDER.tax, _N, _A, used_for="order tax (order_totals_mismatch)"),
        _f(SALE_ORDER.allocated_location_id, _S, _A, used_for="orders without an allocated location"),
        _f(SALE_ORDER.payments, _ARR, _A),
    ),
    "/v2/saleorders/{id}/items": (
        _f("lineId", _S, _C, True), _f("referenceId", _S, _C, True), _f("itemSku", _S, _C),
        _f("quantity", _N, _C, True), _f("displayPrice", _N, _C), _f("displayTax", _N, _C),
        _f("status", _S, _C), _f("parentId", _S, _C),
        _f(LINE_QUANTITY_CANCELLED, _N, _A, used_for="quantities cancelled by an early refund"),
    ),
    "/v0/invoices": (
        _f("saleInvoiceId", _S, _C, True), _f("niceId", _INT, _C), _f("saleOrderId", _S, _C, True),
        _f("issueDate", _T, _C, True), _f("currency", _S, _C), _f("status", _S, _C),
        _f(INVOICE_TOTAL, _N, _A, used_for="the invoiced amount (posting_sequence)"),
        _f(INVOICE_TAX, _N, _A, used_for="the invoiced VAT (posting_sequence)"),
    ),
    ACCOUNT_SHIPMENTS_PATH: (
        _f(SHIPMENT.id, _S, _A, True), _f(SHIPMENT.sale_order_id, _S, _A, True),
        _f(SHIPMENT.dispatched_at, _T, _A, True), _f(SHIPMENT.nice_id, _INT, _A),
        _f(SHIPMENT.location_id, _S, _A), _f(SHIPMENT.carrier, _S, _A), _f(SHIPMENT.service, _S, _A),
        _f(SHIPMENT.tracking_number, _S, _A, used_for="tracking (rejected_tracking, fulfilment sync)"),
        _f(SHIPMENT.tracking_url, _S, _A), _f(SHIPMENT.status, _S, _A),
        _f(SHIPMENT.items, _ARR, _A, used_for="dispatched quantities per line"),
        _f(f"{SHIPMENT.items}[].{SHIPMENT.item_line_id}", _S, _A),
        _f(f"{SHIPMENT.items}[].{SHIPMENT.item_quantity}", _N, _A),
    ),
    CREDIT_NOTES_PATH: (
        _f(CREDIT_NOTE.id, _S, _A, True), _f(CREDIT_NOTE.nice_id, _INT, _A),
        _f(CREDIT_NOTE.source_reference_id, _S, _A, used_for="matching the Magento credit memo"),
        _f(CREDIT_NOTE.currency, _S, _A), _f(CREDIT_NOTE.issue_date, _T, _A),
        _f(CREDIT_NOTE.reference_id, _S, _A), _f(CREDIT_NOTE.status, _S, _A),
        _f(f"{CREDIT_NOTE.refund}.{CREDIT_NOTE.refund_amount}", _N, _A,
           used_for="the refunded amount (missing_credit_notes)"),
        _f(f"{CREDIT_NOTE.shipping}.{CREDIT_NOTE.shipping_cost}", _N, _A),
        _f(f"{CREDIT_NOTE.shipping}.{CREDIT_NOTE.shipping_tax}", _N, _A),
        _f(CREDIT_NOTE.items, _ARR, _A, used_for="credited lines and their VAT (missing_credit_notes)"),
        _f(f"{CREDIT_NOTE.items}[].{CREDIT_NOTE_ITEM.reference_id}", _S, _A),
        _f(f"{CREDIT_NOTE.items}[].{CREDIT_NOTE_ITEM.quantity}", _N, _A),
        _f(f"{CREDIT_NOTE.items}[].{CREDIT_NOTE_ITEM.unit_price}", _N, _A),
        _f(f"{CREDIT_NOTE.items}[].{CREDIT_NOTE_ITEM.unit_tax}", _N, _A),
    ),
}


def read_shape(route: str) -> tuple[ReadField, ...]:
    """The fields read on ``route`` (a list route or its single-record twin); () if none listed."""
    if route in READ_SHAPES:
        return READ_SHAPES[route]
    if route == SHIPMENTS_PATH:  # one order's shipments: the same records as the account-wide list
        return READ_SHAPES[ACCOUNT_SHIPMENTS_PATH]
    base = route.removesuffix("/{id}").removesuffix("/{credit_note_id}")
    return READ_SHAPES.get(base, ())


def assumed_fields() -> list[tuple[str, ReadField]]:
    """Every (route, field) whose evidence is not ``confirmed``: what doctor calibrates."""
    return [(route, f) for route, fields in READ_SHAPES.items() for f in fields if f.evidence is not _C]
