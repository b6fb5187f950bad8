"""Sale orders in the simulated account: creation (with allocation), amendment, collection.

An order created against a channel is allocated at the channel's "Allocate Sold" location
(none when the channel has no designated location). A kit line gets one child line per
component (``parentId`` = the kit line), and the children carry the allocation and the stock.
Collecting deducts on hand at the collect location and so releases the allocation; cancelling
(the assumed early-refund amend) releases it without touching stock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from watchdog.model import ItemFormat
from watchdog.simulators.stokly.base import locked
from watchdog.simulators.stokly.records import (
    ZERO,
    Invalid,
    LineSpec,
    NotFound,
    Shipping,
    SimLine,
    SimSaleOrder,
)
from watchdog.simulators.stokly.stock import StockMixin
from watchdog.stokly_assumed import MSG_NOT_FOUND, OrderStage, msg_invalid, msg_required

__all__ = ["SalesMixin"]

Quantities = Mapping[str, Decimal | int]
NO_SHIPPING = Shipping()


class SalesMixin(StockMixin):
    """Sale orders: create, read, amend, cancel lines, collect."""

    @locked
    def create_sale_order(
        self,
        channel_id: str | None,
        source_reference_id: str | None,
        lines: Sequence[LineSpec],
        *,
        currency: str = "GBP",
        customer_id: str | None = None,
        shipping: Shipping = NO_SHIPPING,
        payments: Iterable[tuple[int, Decimal]] = (),
        created_at: datetime | None = None,
        source_type: str = "magento_two",
        customer_reference: str | None = None,
        tags: Iterable[str] = (),
        sale_order_id: str | None = None,
    ) -> str:
        """Create an order as if imported from ``channel_id``; returns the saleOrderId.

        Duplicate ``source_reference_id`` values are accepted (Stokly is not known to refuse
        them). Raises NotFound (channel, item, customer) or Invalid (no lines, bad quantity,
        a variable parent or deleted item).
        """
        location_id = self._get(self._channels, channel_id).allocate_sold_location_id if channel_id else None
        if customer_id is not None:
            self._get(self._customers, customer_id)
        if not lines:
            raise Invalid(msg_required("items"))
        built = [ln for spec in lines for ln in self._build_lines(spec)]
        order_id = sale_order_id or self.new_id()
        self._orders[order_id] = SimSaleOrder(
            order_id, self._next_nice("saleorder"), OrderStage.ORDER, source_type, channel_id, source_reference_id,
            currency, created_at or self.now(), tuple(built), location_id, customer_id, customer_reference,
            shipping, tuple(payments), tuple(tags),
        )
        return order_id

    def _build_lines(self, spec: LineSpec) -> list[SimLine]:
        item = self._get(self._items, spec.item_id)
        if item.status != 0 or item.format is ItemFormat.VARIABLE:
            raise Invalid(msg_invalid("referenceId", "is not a sellable item"))
        if spec.quantity <= 0:
            raise Invalid(msg_invalid("quantity", "must be positive"))
        parent = SimLine(self.new_id(), item.item_id, spec.quantity, spec.unit_price, spec.unit_tax,
                         line_discount=spec.line_discount, fulfilment_type=spec.fulfilment_type)
        children = [
            SimLine(self.new_id(), cid, spec.quantity * per_kit, ZERO, ZERO, parent_id=parent.line_id,
                    fulfilment_type=spec.fulfilment_type)
            for cid, per_kit in item.components
        ]
        return [parent, *children]

    @locked
    def sale_order(self, sale_order_id: str) -> SimSaleOrder:
        """The order; raises NotFound."""
        return self._get(self._orders, sale_order_id)

    @locked
    def sale_orders(self) -> list[SimSaleOrder]:
        """Every order in creation order."""
        return list(self._orders.values())

    @locked
    def sale_order_by_reference(self, source_reference_id: str) -> SimSaleOrder | None:
        """The first order with this ``sourceReferenceId`` (any stage), or None."""
        return next((o for o in self._orders.values() if o.source_reference_id == source_reference_id), None)

    @locked
    def update_sale_order(
        self, sale_order_id: str, *, stage: OrderStage | None = None, tags: Iterable[str] | None = None,
        customer_reference: str | None = None,
    ) -> None:
        """Change stage (``removed`` releases every allocation), tags or customer reference."""
        order = self._get(self._orders, sale_order_id)
        self._orders[sale_order_id] = replace(
            order,
            stage=order.stage if stage is None else stage,
            tags=order.tags if tags is None else tuple(tags),
            customer_reference=order.customer_reference if customer_reference is None else customer_reference,
        )

    @locked
    def cancel_lines(self, sale_order_id: str, lines: Quantities, reason: str = "") -> None:
        """Cancel quantities of uncollected lines (the assumed early-refund amend).

        A kit line cancels its components in proportion. Raises NotFound or Invalid (more than
        the line's open quantity, an order that is not open).
        """
        order = self._open_order(sale_order_id)
        for line, qty in self._expand(order, lines):
            current = order.line(line.line_id) or line
            if qty > current.open_quantity:
                raise Invalid(msg_invalid("quantity", "is more than the line's open quantity"))
            order = _with_line(order, replace(current, cancelled=current.cancelled + qty))
        self._orders[sale_order_id] = order

    @locked
    def collect(self, sale_order_id: str, location_id: str, lines: Quantities | None = None) -> None:
        """Collect (pick) quantities at ``location_id``: on hand there falls, the allocation is released.

        ``lines`` maps lineId -> quantity (None: every open quantity). A kit line collects its
        components. Raises NotFound or Invalid (more than the open quantity).
        """
        self._get(self._locations, location_id)
        order = self._open_order(sale_order_id)
        wanted = lines if lines is not None else {ln.line_id: ln.open_quantity for ln in order.top_lines
                                                  if ln.open_quantity > 0}
        order = self._collect(order, location_id, self._expand(order, wanted))
        self._orders[sale_order_id] = order

    def _collect(self, order: SimSaleOrder, location_id: str, work: list[tuple[SimLine, Decimal]]) -> SimSaleOrder:
        for line, qty in work:
            if qty > line.open_quantity:
                raise Invalid(msg_invalid("quantity", "is more than the line's open quantity"))
        bin_id = self.default_bin(location_id).bin_id
        for line, qty in work:
            if self._items[line.item_id].format is not ItemFormat.COMPOSITE:
                self._move(line.item_id, bin_id, -qty, "Sale order collection", order.sale_order_id)
            current = order.line(line.line_id) or line
            order = _with_line(order, replace(current, collected=current.collected + qty))
        return order

    def _open_order(self, sale_order_id: str) -> SimSaleOrder:
        order = self._get(self._orders, sale_order_id)
        if order.stage is not OrderStage.ORDER:
            raise Invalid(msg_invalid("stage", f"is {order.stage.value}; the order is not open"))
        return order

    def _expand(self, order: SimSaleOrder, lines: Quantities) -> list[tuple[SimLine, Decimal]]:
        """(line, quantity) pairs for the requested lines plus their kit components, in proportion."""
        work: list[tuple[SimLine, Decimal]] = []
        for line_id, raw in lines.items():
            qty = Decimal(raw)
            line = order.line(line_id)
            if line is None:
                raise NotFound(MSG_NOT_FOUND)
            if qty <= 0:
                raise Invalid(msg_invalid("quantity", "must be positive"))
            work.append((line, qty))
            work += [(child, qty * child.quantity / line.quantity)
                     for child in order.lines if child.parent_id == line.line_id]
        return work


def _with_line(order: SimSaleOrder, line: SimLine) -> SimSaleOrder:
    """The order with ``line`` replacing the line of the same id."""
    return replace(order, lines=tuple(line if ln.line_id == line.line_id else ln for ln in order.lines))
