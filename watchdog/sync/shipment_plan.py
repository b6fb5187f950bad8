"""Stokly dispatch -> Magento ship request: which order items, how many, which track. Pure functions.

A dispatch names Stokly sale order lines; each line's SKU is matched to the Magento order's
*top-level* items with that SKU: the configurable parent (which carries the child's SKU and
is what ``/order/{id}/ship`` wants), the bundle parent (shipped together), or the simple
item. Quantities are capped at what Magento still allows to ship on each item
(``qty_ordered - qty_shipped - qty_refunded - qty_canceled``): never more than is left.
Tracking numbers are compared without spaces and case, as the ``rejected_tracking`` check does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from watchdog.connectors.magento import ItemQty, ShipRequest
from watchdog.model import Dispatch, Order, SaleOrder, Shipment, Track

__all__ = [
    "ShipPlan",
    "carrier_code",
    "carries_any",
    "dispatched_skus",
    "normalise_tracking",
    "plan_shipment",
    "ship_request",
    "shipment_with_tracking",
    "track_for",
]

ZERO = Decimal(0)
MAGENTO_CARRIERS = ("ups", "usps", "fedex", "dhl")


@dataclass(frozen=True)
class ShipPlan:
    """The items to ship now; ``short``: per SKU, dispatched units Magento has no room left for."""

    items: tuple[ItemQty, ...]
    short: Mapping[str, Decimal]
    missing: tuple[str, ...]  # dispatched SKUs that are not on the Magento order at all


def normalise_tracking(number: str) -> str:
    """A tracking number without spaces, upper case."""
    return "".join(number.split()).upper()


def carrier_code(carrier: str) -> str:
    """Magento's carrier code for a carrier name (``custom`` unless it is one Magento knows)."""
    squashed = "".join(carrier.lower().split())
    return next((code for code in MAGENTO_CARRIERS if code in squashed), "custom")


def track_for(dispatch: Dispatch) -> Track:
    """The Magento track for a dispatch (title: carrier and service)."""
    title = " ".join(part for part in (dispatch.carrier, dispatch.service) if part) or "Carrier"
    return Track(track_number=dispatch.tracking_number.strip(), title=title,
                 carrier_code=carrier_code(dispatch.carrier))


def dispatched_skus(dispatch: Dispatch, sale_order: SaleOrder) -> dict[str, Decimal]:
    """Units per SKU of the dispatch. Raises KeyError naming a line the sale order does not have."""
    lines = {line.line_id: line for line in sale_order.lines}
    units: dict[str, Decimal] = {}
    for part in dispatch.lines:
        line = lines[part.line_id]
        if line.parent_id is not None:
            continue  # a kit component: the kit line itself is what was sold and is what Magento ships
        units[line.sku] = units.get(line.sku, ZERO) + part.quantity
    return units


def plan_shipment(order: Order, units: Mapping[str, Decimal]) -> ShipPlan:
    """Magento items for ``units`` (SKU -> quantity), capped at what is left to ship."""
    items: list[ItemQty] = []
    short: dict[str, Decimal] = {}
    missing: list[str] = []
    for sku, wanted in units.items():
        candidates = [ln for ln in order.lines if ln.parent_item_id is None and ln.sku == sku]
        if not candidates:
            missing.append(sku)
            continue
        for line in candidates:
            take = min(wanted, line.qty_to_ship)
            if take > 0:
                items.append(ItemQty(line.item_id, take))
                wanted -= take
        if wanted > 0:
            short[sku] = wanted
    return ShipPlan(tuple(items), short, tuple(missing))


def ship_request(plan: ShipPlan, dispatch: Dispatch, source_code: str) -> ShipRequest:
    """``POST /V1/order/{id}/ship``: the planned items, our track (if the dispatch has tracking), the mapped
    source and a comment naming the dispatch; the customer is notified."""
    tracks = (track_for(dispatch),) if dispatch.tracking_number.strip() else ()
    return ShipRequest(items=plan.items, tracks=tracks, source_code=source_code, notify=True,
                       comment=dispatch_marker(dispatch))


def dispatch_marker(dispatch: Dispatch) -> str:
    """The shipment comment that names the Stokly dispatch: the identity of an untracked dispatch's shipment."""
    return f"Stokly dispatch {dispatch.dispatch_id}"


def shipment_of(shipments: Iterable[Shipment], dispatch: Dispatch) -> Shipment | None:
    """Check-before-create: the shipment made for ``dispatch`` (by its tracking number, or by our comment
    when it has no tracking), or None."""
    if dispatch.tracking_number.strip():
        return shipment_with_tracking(shipments, dispatch.tracking_number)
    marker = dispatch_marker(dispatch)
    return next((s for s in shipments if any(marker in c for c in s.comments)), None)


def shipment_with_tracking(shipments: Iterable[Shipment], number: str) -> Shipment | None:
    """The first shipment carrying a track with this tracking number, or None."""
    wanted = normalise_tracking(number)
    return next((s for s in shipments if any(normalise_tracking(t.track_number) == wanted for t in s.tracks)), None)


def carries_any(shipment: Shipment, numbers: Iterable[str]) -> bool:
    """True if the shipment has a track with any of these tracking numbers."""
    wanted = {normalise_tracking(n) for n in numbers if n.strip()}
    return any(normalise_tracking(t.track_number) in wanted for t in shipment.tracks)
