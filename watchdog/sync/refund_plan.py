"""Magento credit memo -> what happens in Stokly: cancel open quantity, credit dispatched quantity.

Per refunded unit, Magento's own rule decides (``qty_to_ship = ordered - shipped - refunded -
canceled``: a refund takes unshipped units first). So each memo line is matched by SKU to the
Stokly sale order's top-level lines and split:

- units still open in Stokly (ordered - cancelled - dispatched) are **cancelled** on the Stokly
  order: a refund before fulfilment amends the order and never raises a credit note;
- the rest were dispatched (and invoiced): they go on the **credit note**, with the memo's
  own net and VAT per unit, plus the memo's shipping refund.

The plan is stored in the ledger before anything is written, so a retry after a crash
repeats the same plan instead of re-deciding on changed data. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from watchdog.model import CreditMemo, Order, SaleOrder

__all__ = ["CreditLine", "RefundPlan", "plan_refund"]

ZERO = Decimal(0)
UNIT = Decimal("0.000001")


@dataclass(frozen=True)
class CreditLine:
    item_id: str
    sku: str
    quantity: Decimal
    unit_price: Decimal  # net
    unit_tax: Decimal


@dataclass(frozen=True)
class RefundPlan:
    """What a credit memo does in Stokly. ``unmatched``: memo SKUs not on the Stokly order."""

    cancel: Mapping[str, Decimal] = field(default_factory=dict)  # Stokly line id -> quantity
    credit: tuple[CreditLine, ...] = ()
    shipping_cost: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    refund_amount: Decimal = ZERO  # gross money the credit note refunds
    unmatched: tuple[str, ...] = ()
    amended: bool = False  # the cancellation has been sent and accepted

    def to_json(self) -> dict[str, Any]:
        return {
            "cancel": {k: str(v) for k, v in self.cancel.items()},
            "credit": [{"item_id": c.item_id, "sku": c.sku, "quantity": str(c.quantity),
                        "unit_price": str(c.unit_price), "unit_tax": str(c.unit_tax)} for c in self.credit],
            "shipping_cost": str(self.shipping_cost), "shipping_tax": str(self.shipping_tax),
            "refund_amount": str(self.refund_amount), "unmatched": list(self.unmatched), "amended": self.amended,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RefundPlan:
        """The plan stored by ``to_json``. Raises KeyError/ValueError for anything else."""
        return cls(
            cancel={str(k): Decimal(v) for k, v in data["cancel"].items()},
            credit=tuple(CreditLine(c["item_id"], c["sku"], Decimal(c["quantity"]), Decimal(c["unit_price"]),
                                    Decimal(c["unit_tax"])) for c in data["credit"]),
            shipping_cost=Decimal(data["shipping_cost"]), shipping_tax=Decimal(data["shipping_tax"]),
            refund_amount=Decimal(data["refund_amount"]), unmatched=tuple(data.get("unmatched", ())),
            amended=bool(data.get("amended", False)))


def _refunded_lines(memo: CreditMemo, order: Order) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(sku, qty, line net, line tax) of the memo's top-level lines with a positive quantity."""
    result = []
    for item in memo.items:
        line = order.line(item.order_item_id)
        if item.qty <= 0 or (line is not None and line.parent_item_id is not None):
            continue
        result.append((line.sku if line is not None else item.sku, item.qty, item.row_total, item.tax_amount))
    return result


def plan_refund(memo: CreditMemo, order: Order, sale_order: SaleOrder,
                dispatched: Mapping[str, Decimal]) -> RefundPlan:
    """Split ``memo`` into cancellations and credit lines. ``dispatched``: Stokly line id -> units dispatched."""
    top = [ln for ln in sale_order.lines if ln.parent_id is None]
    open_units = {ln.line_id: ln.quantity - ln.quantity_cancelled - dispatched.get(ln.line_id, ZERO) for ln in top}
    cancel: dict[str, Decimal] = {}
    credit: list[CreditLine] = []
    unmatched: list[str] = []
    for sku, qty, net, tax in _refunded_lines(memo, order):
        lines = [ln for ln in top if ln.sku == sku]
        if not lines:
            unmatched.append(sku)
            continue
        left = qty
        for line in lines:
            take = min(left, max(ZERO, open_units[line.line_id]))
            if take > 0:
                cancel[line.line_id] = cancel.get(line.line_id, ZERO) + take
                open_units[line.line_id] -= take
                left -= take
        if left > 0:
            credit.append(CreditLine(lines[0].item_id, sku, left, (net / qty).quantize(UNIT),
                                     (tax / qty).quantize(UNIT)))
    gross = sum(((c.unit_price + c.unit_tax) * c.quantity for c in credit), ZERO)
    amount = memo.grand_total if not cancel else gross + memo.shipping_amount + memo.shipping_tax_amount + \
        memo.adjustment
    return RefundPlan(cancel, tuple(credit), memo.shipping_amount, memo.shipping_tax_amount, amount, tuple(unmatched))
