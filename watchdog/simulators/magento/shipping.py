"""Shipments: ``POST /V1/order/{id}/ship`` validation and effects, and tracks.

Follows ``ShipOrder``, ``ShipmentDocumentFactory``/``ShipmentFactory`` (quantities are capped at
what is left; dummies follow their parent), the validators ``CanShip``, ``QuantityValidator`` and
``TrackValidator`` (messages joined under ``Shipment Document Validation Error(s):``), and MSI's
source deduction with a compensating reservation. There is no "already exists" check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from . import rules
from .core import locked
from .errors import ENTITY_NOT_FOUND, bad_request, not_found
from .inventory import DeductionFailed
from .records import ZERO, DocItemRec, OrderItemRec, OrderRec, ShipmentRec, TrackRec
from .sales import SalesOps, doc_comment, doc_item
from .specs import TrackSpec

__all__ = ["ShippingOps"]

SHIP_PREFIX = "Shipment Document Validation Error(s):\n"
COULD_NOT_SHIP = "Could not save a shipment, see error log for details"
TRACK_NOT_SAVED = "Could not save the shipment tracking."
TRACK_NOT_DELETED = "Could not delete the shipment tracking."

Lines = list[tuple[OrderItemRec, Decimal]]


class ShippingOps(SalesOps):
    """Creates shipments and tracks."""

    @locked
    def ship(self, order_id: int, items: Mapping[int, Decimal | int] | None = None, *,
             tracks: Sequence[TrackSpec] = (), source_code: str | None = None, comment: str | None = None,
             notify: bool = False) -> int:
        """Create a shipment as ``POST /V1/order/{id}/ship`` does; returns its id.

        ``items`` maps order item ids to quantities (None or empty ships everything left).
        Raises MagentoError: 404/400 for the order id, 400 with the joined validation messages, or
        400 ``Could not save a shipment, see error log for details`` when the source lacks stock.
        """
        order = self.order_or_error(order_id)
        requested = {int(k): Decimal(v) for k, v in items.items()} if items else None
        lines = self._document_lines(order, requested)
        messages = _can_ship(order) + self._ship_quantity_messages(order, lines, requested) + _track_messages(tracks)
        if messages:
            raise bad_request(SHIP_PREFIX + "\n".join(messages))
        needs = _deductions(order, lines)
        source = source_code or self._select_source(order, needs)
        try:
            self.check_deductions(source, needs)
        except DeductionFailed:
            raise bad_request(COULD_NOT_SHIP) from None
        return self._register_shipment(order, lines, source, needs, tracks, comment, notify)

    @locked
    def ship_manually(self, order_id: int, items: Mapping[int, Decimal | int] | None = None, *,
                      tracks: Sequence[TrackSpec] = (), source_code: str | None = None) -> int:
        """A shipment a person creates in the admin (no tracking unless given); returns its id."""
        return self.ship(order_id, items, tracks=tracks, source_code=source_code, comment=None)

    def _document_lines(self, order: OrderRec, requested: dict[int, Decimal] | None) -> Lines:
        wanted = requested if requested is not None else {
            i.item_id: i.qty_ordered for i in order.items
            if not i.is_virtual and (i.parent_item_id is None or i.ship_separately)}
        lines: Lines = []
        for item in order.items:
            if rules.is_dummy_for_shipping(order, item) or item.is_virtual or item.locked_do_ship:
                continue  # dummies follow their parent when it registers
            asked = wanted.get(item.item_id, ZERO)
            left = rules.qty_to_ship(order, item)
            if asked <= 0 or left <= 0:
                continue
            over = requested is not None and self.settings.over_ship == "reject"
            lines.append((item, asked if over else min(asked, left)))
        return lines

    def _ship_quantity_messages(self, order: OrderRec, lines: Lines, requested: dict[int, Decimal] | None) -> list[str]:
        messages = [
            "The quantity to ship must not be greater than the unshipped quantity "
            f'for product SKU "{item.sku}".'
            for item, qty in lines if qty > rules.qty_to_ship(order, item)
        ]
        if sum((qty for _, qty in lines), ZERO) <= 0:
            messages.append("You can't create a shipment without products.")
        return messages

    def _select_source(self, order: OrderRec, needs: dict[str, Decimal]) -> str:
        """MSI's priority algorithm, simplified: the first linked source able to give everything."""
        linked = self.linked_sources(order.stock_id, enabled_only=True) or ["default"]
        for code in linked:
            try:
                self.check_deductions(code, needs)
            except DeductionFailed:
                continue
            return code
        return linked[0]

    def _register_shipment(self, order: OrderRec, lines: Lines, source: str, needs: dict[str, Decimal],
                  tracks: Sequence[TrackSpec], comment: str | None, notify: bool) -> int:
        now = self.now()
        shipment = ShipmentRec(self.next_id("shipment"), "", order.entity_id, now, now, [], source,
                               email_sent=1 if notify else None)
        shipment.increment_id = f"{shipment.entity_id:09d}"
        for item, qty in lines:
            shipment.items.append(_ship_item(self.next_id("shipment_item"), shipment.entity_id, item, qty))
            item.qty_shipped += qty
            for child in order.children(item):
                child.qty_shipped += qty * child.ratio
        self.deduct(source, needs)
        for sku, qty in needs.items():
            self.reserve(order, sku, qty, "shipment_created")
        for spec in tracks:
            self._new_track(shipment, spec.track_number, spec.title, spec.carrier_code)
        if comment:
            shipment.comments.append(doc_comment(self.next_id("shipment_comment"), shipment.entity_id, comment, now))
        self.shipments[shipment.entity_id] = shipment
        rules.resolve_state(order, in_progress=True)
        order.updated_at = now
        return shipment.entity_id

    def _new_track(self, shipment: ShipmentRec, number: str, title: str, carrier: str,
                   description: str | None = None, weight: Decimal | None = None,
                   qty: Decimal | None = None) -> TrackRec:
        now = self.now()
        track = TrackRec(self.next_id("track"), shipment.entity_id, shipment.order_id, number, title, carrier,
                         now, now, description, weight, qty)
        shipment.tracks.append(track)
        self.tracks[track.entity_id] = track
        return track

    # ------------------------------------------------------------------ tracks

    @locked
    def add_track(self, order_id: int, shipment_id: int, track_number: str, title: str,
                  carrier_code: str = "custom", *, description: str | None = None,
                  weight: Decimal | None = None, qty: Decimal | None = None) -> int:
        """``POST /V1/shipment/track``; returns the track id.

        Raises MagentoError 400 ``Could not save the shipment tracking.`` when the shipment does not
        exist or belongs to another order (the newer patch releases' check; text assumed).
        """
        shipment = self.shipments.get(shipment_id)
        if shipment is None or shipment.order_id != order_id or not track_number:
            raise bad_request(TRACK_NOT_SAVED)
        return self._new_track(shipment, track_number, title, carrier_code, description, weight, qty).entity_id

    @locked
    def delete_track(self, track_id: int) -> bool:
        """``DELETE /V1/shipment/track/{id}``; raises 400 ``Could not delete the shipment tracking.``"""
        track = self.tracks.pop(track_id, None)
        if track is None:
            raise bad_request(TRACK_NOT_DELETED)
        shipment = self.shipments[track.parent_id]
        shipment.tracks = [t for t in shipment.tracks if t.entity_id != track_id]
        return True

    def shipment_or_404(self, shipment_id: int) -> ShipmentRec:
        """The shipment, or MagentoError 400 (id 0) / 404, as ``ShipmentRepository::get``."""
        if not shipment_id:
            raise bad_request("An ID is needed. Set the ID and try again.")
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            raise not_found(ENTITY_NOT_FOUND)
        return shipment


def _can_ship(order: OrderRec) -> list[str]:
    if order.state in ("payment_review", "holded", "canceled"):
        return [f"A shipment cannot be created when an order has a status of {order.status}"]
    if not rules.can_ship(order):
        return ["The order does not allow a shipment to be created."]
    return []


def _track_messages(tracks: Sequence[Any]) -> list[str]:
    return ["Please enter a tracking number." for t in tracks if not getattr(t, "track_number", None)]


def _deductions(order: OrderRec, lines: Lines) -> dict[str, Decimal]:
    needs: dict[str, Decimal] = {}
    for item, qty in lines:
        units = [(c.stock_sku, qty * c.ratio) for c in order.children(item)] or [(item.stock_sku, qty)]
        for sku, amount in units:
            if sku is not None:
                needs[sku] = needs.get(sku, ZERO) + amount
    return needs


def _ship_item(entity_id: int, shipment_id: int, item: OrderItemRec, qty: Decimal) -> DocItemRec:
    return doc_item(entity_id, shipment_id, item, qty, ZERO, ZERO)
