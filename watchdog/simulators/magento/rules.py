"""Magento's order rules as pure functions: what can be shipped, invoiced, refunded or canceled,
and which state an order moves to (``Order``, ``Order\\Item``, ``StateResolver``; section 8.1).
"""

from __future__ import annotations

from decimal import Decimal

from .records import ZERO, OrderItemRec, OrderRec

__all__ = [
    "STATUS_OF",
    "can_cancel",
    "can_creditmemo",
    "can_invoice",
    "can_ship",
    "is_dummy_for_shipping",
    "qty_to_ship",
    "resolve_state",
]

#: state -> (default status, other statuses assigned to it)
STATUS_OF: dict[str, tuple[str, ...]] = {
    "new": ("pending",),
    "pending_payment": ("pending_payment",),
    "processing": ("processing", "fraud"),
    "complete": ("complete",),
    "closed": ("closed",),
    "canceled": ("canceled",),
    "holded": ("holded",),
    "payment_review": ("payment_review", "fraud"),
}
BLOCKED = ("holded", "payment_review")


def is_dummy_for_shipping(order: OrderRec, item: OrderItemRec) -> bool:
    """``Item::isDummy(true)``: parents shipped separately and children shipped together."""
    if order.children(item):
        return item.ship_separately
    if item.parent_item_id is not None:
        return not item.ship_separately
    return False


def qty_to_ship(order: OrderRec, item: OrderItemRec) -> Decimal:
    """``getQtyToShip``: 0 for dummies, else ordered - shipped - refunded - canceled (>= 0)."""
    return ZERO if is_dummy_for_shipping(order, item) else item.simple_qty_to_ship


def can_ship(order: OrderRec) -> bool:
    """``Order::canShip``."""
    if order.state in (*BLOCKED, "canceled"):
        return False
    return any(qty_to_ship(order, i) > 0 and not i.is_virtual and not i.locked_do_ship for i in order.items)


def can_invoice(order: OrderRec) -> bool:
    """``Order::canInvoice``: some top-level line still has qty to invoice."""
    if order.state in (*BLOCKED, "canceled", "complete", "closed"):
        return False
    return any(i.qty_to_invoice > 0 for i in order.items if i.parent_item_id is None)


def can_creditmemo(order: OrderRec) -> bool:
    """``Order::canCreditmemo``: paid money not yet refunded."""
    if order.state in (*BLOCKED, "canceled", "closed"):
        return False
    return order.total_paid - order.total_refunded > Decimal("0.0001")


def can_cancel(order: OrderRec) -> bool:
    """``Order::canCancel``: not blocked or finished, and not everything invoiced."""
    if order.state in (*BLOCKED, "canceled", "complete", "closed"):
        return False
    return any(i.qty_to_invoice > 0 for i in order.items if i.parent_item_id is None)


def resolve_state(order: OrderRec, *, in_progress: bool) -> None:
    """``StateResolver``: new -> processing on progress; complete or closed when nothing is left."""
    if order.state in ("canceled", "closed", "holded"):
        return
    state = order.state
    if in_progress and state == "new":
        state = "processing"
    if not can_invoice(order) and not can_ship(order):
        if order.grand_total == 0 or can_creditmemo(order):
            state = "complete"
        elif order.total_refunded > 0:
            state = "closed"
    if state != order.state:
        order.state, order.status = state, STATUS_OF[state][0]
