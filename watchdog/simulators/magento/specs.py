"""Frozen inputs and outputs of the simulator's in-process domain API, and a settable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from watchdog.simulators.clock import SimClock

__all__ = [
    "AddressSpec",
    "BundleOptionSpec",
    "CustomerSpec",
    "IntegrationCredentials",
    "OrderItemSpec",
    "Reservation",
    "ShippingSpec",
    "SimClock",
    "TrackSpec",
]


@dataclass(frozen=True, slots=True)
class OrderItemSpec:
    """One ordered product. ``price`` is the unit price excluding tax (default: the catalogue's).

    ``sku`` is a simple SKU, a configurable's SKU (then ``child_sku`` picks the variant) or a
    bundle's SKU (then ``selections`` picks one selection SKU per option, in option order).
    """

    sku: str
    qty: Decimal | int = 1
    price: Decimal | None = None
    tax_percent: Decimal | int = 20
    child_sku: str | None = None
    selections: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AddressSpec:
    firstname: str = "Jane"
    lastname: str = "Doe"
    street: tuple[str, ...] = ("1 High Street",)
    city: str = "London"
    postcode: str = "SW1A 1AA"
    country_id: str = "GB"
    telephone: str = "+442071234567"
    company: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    """The buyer. ``customer_id=None`` places a guest order."""

    email: str = "jane.doe@example.com"
    firstname: str = "Jane"
    lastname: str = "Doe"
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ShippingSpec:
    """Shipping charged on the order; ``amount`` excludes tax."""

    amount: Decimal | int = Decimal("5.00")
    tax_percent: Decimal | int = 20
    method: str = "flatrate_flatrate"
    description: str = "Flat Rate - Fixed"


@dataclass(frozen=True, slots=True)
class TrackSpec:
    track_number: str
    title: str = "Royal Mail"
    carrier_code: str = "custom"


@dataclass(frozen=True, slots=True)
class BundleOptionSpec:
    """One bundle option: its selection SKUs and the quantity of the chosen selection."""

    title: str
    skus: tuple[str, ...]
    qty: Decimal | int = 1


@dataclass(frozen=True, slots=True)
class Reservation:
    """One row of ``inventory_reservation`` (negative = reserved for an order)."""

    reservation_id: int
    stock_id: int
    sku: str
    quantity: Decimal
    event_type: str
    object_id: str
    object_increment_id: str


@dataclass(frozen=True, slots=True)
class IntegrationCredentials:
    """The four values an admin copies from an activated Magento integration."""

    name: str
    consumer_key: str
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
