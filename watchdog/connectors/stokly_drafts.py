"""Request types of the Stokly connector: frozen drafts that know their JSON bodies.

Confirmed bodies (customer, sale order, invoice) are spelled here; assumed ones (dispatch,
VAT credit note) are built by ``watchdog.stokly_assumed``. Money is Decimal: net and tax per
unit and per line, as Stokly's ``display*`` fields hold them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from watchdog.model import DispatchLine, Payment
from watchdog.stokly_assumed import (
    PAYMENT_METHOD_EXTERNAL,
    CreditNoteLineArgs,
    credit_note_body,
    credit_note_reference,
    json_number,
    shipment_body,
)

__all__ = [
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
    "iso",
]

ZERO = Decimal(0)


def iso(when: datetime) -> str:
    """Stokly's timestamp form: UTC, milliseconds, ``Z``."""
    utc = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _positive(value: Decimal, what: str) -> None:
    if value <= 0:
        raise ValueError(f"{what} must be positive, got {value}")


def _payments(payments: tuple[Payment, ...]) -> list[dict[str, Any]]:
    return [{"method": p.method, "amount": json_number(p.amount)} for p in payments]


@dataclass(frozen=True, slots=True)
class StoklyAddress:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166 alpha-2
    postcode: str = ""

    def body(self) -> dict[str, str]:
        return {"line1": self.line1, "line2": self.line2, "city": self.city, "region": self.region,
                "country": self.country, "postcode": self.postcode}


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    """A customer to create; ``barcode`` is our external reference (found again by it)."""

    barcode: str
    forename: str
    surname: str
    email: str | None = None
    phone: str = ""
    address: StoklyAddress | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": 1, "barcode": self.barcode, "name": {"forename": self.forename, "surname": self.surname},
            "fullName": f"{self.forename} {self.surname}".strip(), "email": self.email, "phone": self.phone,
        }
        if self.address is not None:
            body["billingAddress"] = self.address.body()
        return body


@dataclass(frozen=True, slots=True)
class SaleOrderLineDraft:
    """One order line: net and tax per unit and per line (lines carry Magento's rounding)."""

    item_id: str
    quantity: Decimal
    unit_price: Decimal
    unit_tax: Decimal
    line_price: Decimal
    line_tax: Decimal
    line_discount: Decimal = ZERO
    unit_discount: Decimal = ZERO
    fulfilment_type: str = "delivery"

    def __post_init__(self) -> None:
        _positive(self.quantity, "line quantity")

    @classmethod
    def per_unit(cls, item_id: str, quantity: Decimal, unit_price: Decimal, unit_tax: Decimal) -> SaleOrderLineDraft:
        """A line whose totals are quantity times the unit amounts."""
        return cls(item_id, quantity, unit_price, unit_tax, unit_price * quantity, unit_tax * quantity)

    @property
    def line_total(self) -> Decimal:
        """Gross line: net + tax - discount."""
        return self.line_price + self.line_tax - self.line_discount

    def body(self) -> dict[str, Any]:
        n = json_number
        return {
            "type": "item", "referenceId": self.item_id, "quantity": n(self.quantity),
            "displayPrice": n(self.unit_price), "displayTax": n(self.unit_tax),
            "displayDiscount": n(self.unit_discount),
            "displayLinePrice": n(self.line_price), "displayLineTax": n(self.line_tax),
            "displayLineDiscount": n(self.line_discount), "displayLineTotal": n(self.line_total),
            "fulfilmentType": self.fulfilment_type,
        }


@dataclass(frozen=True, slots=True)
class ShippingDraft:
    forename: str = ""
    surname: str = ""
    address: StoklyAddress = StoklyAddress()
    option: str = ""
    cost: Decimal = ZERO  # net
    tax: Decimal = ZERO

    def body(self) -> dict[str, Any]:
        return {"name": {"forename": self.forename, "surname": self.surname}, "address": self.address.body(),
                "option": self.option, "cost": json_number(self.cost), "tax": json_number(self.tax)}


@dataclass(frozen=True, slots=True)
class SaleOrderDraft:
    """A sale order to create for a Magento order (``source_reference_id`` = its increment_id)."""

    source_reference_id: str
    channel_id: str
    currency: str
    lines: tuple[SaleOrderLineDraft, ...]
    customer_id: str | None = None
    created_at: datetime | None = None
    shipping: ShippingDraft | None = None
    payments: tuple[Payment, ...] = ()
    source_type: str = "magento_two"
    tags: tuple[str, ...] = ("magento",)
    customer_reference: str | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("a sale order needs at least one line")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "stage": "order", "sourceType": self.source_type, "sourceId": self.channel_id,
            "sourceReferenceId": self.source_reference_id, "currency": self.currency,
            "useSystemExchangeRate": False, "exchangeRate": 1, "tags": list(self.tags),
            "items": [line.body() for line in self.lines], "payments": _payments(self.payments),
        }
        optional: Mapping[str, Any] = {
            "customer": {"customerId": self.customer_id} if self.customer_id else None,
            "createdAt": iso(self.created_at) if self.created_at else None,
            "shipping": self.shipping.body() if self.shipping else None,
            "customerReference": self.customer_reference,
        }
        return {**body, **{k: v for k, v in optional.items() if v is not None}}


@dataclass(frozen=True, slots=True)
class InvoiceLineDraft:
    item_id: str
    item_name: str
    quantity: Decimal
    unit_price: Decimal  # net
    unit_tax: Decimal

    def body(self) -> dict[str, Any]:
        return {"referenceType": "item", "referenceId": self.item_id, "itemName": self.item_name,
                "quantity": json_number(self.quantity), "displayPrice": json_number(self.unit_price),
                "displayTax": json_number(self.unit_tax)}


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """One invoice of a sale order (a financial posting), with its payments."""

    currency: str
    lines: tuple[InvoiceLineDraft, ...]
    payments: tuple[Payment, ...] = ()
    status: str = "paid"

    def body(self) -> dict[str, Any]:
        invoice = {"status": self.status, "currency": self.currency, "exchangeRate": 1,
                   "useSystemExchangeRate": False, "payments": _payments(self.payments),
                   "items": [line.body() for line in self.lines]}
        return {"invoices": [invoice]}


@dataclass(frozen=True, slots=True)
class DispatchDraft:
    """A dispatch with tracking (assumed resource; body built by ``stokly_assumed.shipment_body``)."""

    location_id: str
    carrier: str
    tracking_number: str
    lines: tuple[DispatchLine, ...]
    service: str = ""
    tracking_url: str = ""
    dispatched_at: datetime | None = None

    def body(self, now: datetime) -> dict[str, Any]:
        return shipment_body(
            location_id=self.location_id, carrier=self.carrier, service=self.service,
            tracking_number=self.tracking_number, tracking_url=self.tracking_url,
            dispatched_at=iso(self.dispatched_at or now), lines=[(ln.line_id, ln.quantity) for ln in self.lines],
        )


@dataclass(frozen=True, slots=True)
class CreditNoteLineDraft:
    item_id: str
    quantity: Decimal
    unit_price: Decimal  # net
    unit_tax: Decimal
    restock: bool = False
    location_id: str | None = None

    def __post_init__(self) -> None:
        _positive(self.quantity, "credited quantity")
        if self.restock and self.location_id is None:
            raise ValueError("a restocked credit note line needs a location_id")


@dataclass(frozen=True, slots=True)
class CreditNoteDraft:
    """A VAT credit note for a Magento credit memo (assumed resource; see ``stokly_assumed``)."""

    source_reference_id: str  # credit_note_reference(memo increment_id): MAG-CM-...
    invoice_id: str | None
    currency: str
    lines: tuple[CreditNoteLineDraft, ...]
    refund_amount: Decimal
    reason: str = "Magento credit memo"
    shipping_cost: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    refund_method: int = PAYMENT_METHOD_EXTERNAL

    @classmethod
    def for_credit_memo(cls, memo_increment_id: str, **fields: Any) -> CreditNoteDraft:
        """A draft whose reference is derived from the Magento credit memo number."""
        return cls(source_reference_id=credit_note_reference(memo_increment_id), **fields)

    @property
    def vat(self) -> Decimal:
        return sum((ln.unit_tax * ln.quantity for ln in self.lines), ZERO) + self.shipping_tax

    def body(self) -> dict[str, Any]:
        return credit_note_body(
            source_reference_id=self.source_reference_id, invoice_id=self.invoice_id, currency=self.currency,
            reason=self.reason, shipping_cost=self.shipping_cost, shipping_tax=self.shipping_tax,
            refund_amount=self.refund_amount, refund_method=self.refund_method,
            lines=[CreditNoteLineArgs(ln.item_id, ln.quantity, ln.unit_price, ln.unit_tax, ln.restock, ln.location_id)
                   for ln in self.lines],
        )
