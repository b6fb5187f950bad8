"""Credit memos: ``POST /V1/order/{id}/refund`` (offline refund) validation and effects.

Follows ``RefundOrder`` with ``CanRefund``, the credit memo ``QuantityValidator`` and
``TotalsValidator`` (messages joined under ``Creditmemo Document Validation Error(s):``).
Refunded quantity never shipped gives its reservation back; shipped quantity listed in
``return_to_stock_items`` goes back to the source it was shipped from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from . import rules
from .core import locked
from .errors import ENTITY_NOT_FOUND, ID_NEEDED, bad_request, not_found
from .records import ZERO, CreditMemoRec, DocItemRec, OrderItemRec, OrderRec, money
from .sales import doc_comment, doc_item, prorate
from .shipping import ShippingOps

__all__ = ["RefundOps"]

REFUND_PREFIX = "Creditmemo Document Validation Error(s):\n"


@dataclass
class _Draft:
    lines: list[tuple[OrderItemRec, Decimal]]
    shipping: Decimal
    shipping_tax: Decimal
    adjustment_positive: Decimal
    adjustment_negative: Decimal


class RefundOps(ShippingOps):
    """Creates credit memos."""

    @locked
    def refund(self, order_id: int, items: Mapping[int, Decimal | int] | None = None, *,
               shipping_amount: Decimal | int | None = None, adjustment_positive: Decimal | int = 0,
               adjustment_negative: Decimal | int = 0, return_to_stock_items: Sequence[int] = (),
               comment: str | None = None) -> int:
        """Create an offline credit memo; returns its id.

        ``items`` maps order item ids to quantities (None refunds everything refundable);
        ``shipping_amount=None`` refunds the shipping not yet refunded (Magento's default).
        Raises MagentoError 400 with the joined validation messages, or 404/400 for the id.
        """
        order = self.order_or_error(order_id)
        draft = self._draft(order, items, shipping_amount, Decimal(adjustment_positive), Decimal(adjustment_negative))
        memo = self._build_memo(order, draft)
        messages = _can_refund(order)
        messages += self._refund_messages(order, items, draft, memo, totals=not messages)
        if messages:
            raise bad_request(REFUND_PREFIX + "\n".join(messages))
        return self._register_refund(order, memo, draft, set(return_to_stock_items), comment)

    def _draft(self, order: OrderRec, items: Mapping[int, Decimal | int] | None, shipping: Decimal | int | None,
               positive: Decimal, negative: Decimal) -> _Draft:
        if items:
            lines = [(order.item(int(k)), Decimal(v)) for k, v in items.items()]
            found = [(line, qty) for line, qty in lines if line is not None and qty > 0]
        else:
            found = [(i, i.qty_to_refund) for i in order.items if i.parent_item_id is None and i.qty_to_refund > 0]
        left = order.shipping_amount - order.shipping_refunded
        ship = left if shipping is None else Decimal(shipping)
        if ship > left:
            raise bad_request(f"Maximum shipping amount allowed to refund is: {_plain(left)}")
        ship_tax = money(order.shipping_tax_amount * ship / order.shipping_amount) if order.shipping_amount else ZERO
        return _Draft([(i, q) for i, q in found if i is not None], ship, ship_tax, positive, negative)

    def _build_memo(self, order: OrderRec, draft: _Draft) -> CreditMemoRec:
        now = self.now()
        invoices = [i.entity_id for i in self.invoices.values() if i.order_id == order.entity_id]
        memo = CreditMemoRec(self.next_id("creditmemo"), "", order.entity_id, invoices[-1] if invoices else None,
                             now, now, [], draft.shipping, draft.shipping_tax, draft.adjustment_positive,
                             draft.adjustment_negative)
        memo.increment_id = f"{memo.entity_id:09d}"
        for line, qty in draft.lines:
            memo.items.append(self._memo_line(memo, line, min(qty, line.qty_to_refund)))
        return memo

    def _memo_line(self, memo: CreditMemoRec, line: OrderItemRec, qty: Decimal) -> DocItemRec:
        done = [d for m in self.credit_memos.values() for d in m.items if d.order_item_id == line.item_id]
        left = line.qty_ordered - line.qty_refunded
        row = prorate(line.row_total, qty, line.qty_ordered, left,
                      line.row_total - sum((d.row_total for d in done), ZERO))
        tax = prorate(line.tax_amount, qty, line.qty_ordered, left,
                      line.tax_amount - sum((d.tax_amount for d in done), ZERO))
        return doc_item(self.next_id("creditmemo_item"), memo.entity_id, line, qty, row, tax)

    def _refund_messages(self, order: OrderRec, items: Mapping[int, Decimal | int] | None, draft: _Draft,
                         memo: CreditMemoRec, *, totals: bool) -> list[str]:
        messages: list[str] = []
        for key, qty in (items or {}).items():
            line = order.item(int(key))
            if line is None:
                messages.append('The creditmemo contains product SKU "" that is not part of the original order.')
            elif Decimal(qty) > line.qty_to_refund:
                messages.append("The quantity to creditmemo must not be greater than the unrefunded quantity "
                                f'for product SKU "{line.sku}".')
        if not totals:  # the order refused already (the reference shows a single line then)
            return messages
        if memo.grand_total <= 0:
            messages.append("The credit memo's total must be positive.")
        elif not draft.lines and draft.shipping <= 0:
            messages.append("You can't create a creditmemo without products.")
        available = order.total_paid - order.total_refunded
        if memo.grand_total > available + Decimal("0.0001") and available > 0:
            messages.append(f"The most money available to refund is {_plain(available)}.")
        return messages

    def _register_refund(self, order: OrderRec, memo: CreditMemoRec, draft: _Draft, back_to_stock: set[int],
                  comment: str | None) -> int:
        for line, qty in draft.lines:
            qty = min(qty, line.qty_to_refund)
            restock = line.item_id in back_to_stock
            self._refund_units(order, line, qty, restock)
            line.qty_refunded += qty
            for child in order.children(line):
                self._refund_units(order, child, qty * child.ratio, restock or child.item_id in back_to_stock)
                child.qty_refunded += qty * child.ratio
        order.total_refunded += memo.grand_total
        order.subtotal_refunded += memo.subtotal
        order.tax_refunded += memo.tax_amount
        order.shipping_refunded += memo.shipping_amount
        order.shipping_tax_refunded += memo.shipping_tax_amount
        if comment:
            memo.comments.append(doc_comment(self.next_id("creditmemo_comment"), memo.entity_id, comment,
                                             memo.created_at))
        self.credit_memos[memo.entity_id] = memo
        rules.resolve_state(order, in_progress=False)
        order.updated_at = memo.created_at
        return memo.entity_id

    def _refund_units(self, order: OrderRec, line: OrderItemRec, qty: Decimal, restock: bool) -> None:
        if line.stock_sku is None:
            return
        open_reserved = max(ZERO, line.qty_ordered - line.qty_shipped - line.qty_canceled - line.released)
        release = min(qty, open_reserved)
        line.released += release
        self.reserve(order, line.stock_sku, release, "creditmemo_created")
        if restock and qty > release:
            self.restock(self._shipped_from(order, line), line.stock_sku, qty - release)

    def _shipped_from(self, order: OrderRec, line: OrderItemRec) -> str:
        sources = [s.source_code for s in self.shipments.values() if s.order_id == order.entity_id and s.source_code]
        return sources[-1] if sources else self._select_source(order, {})

    def credit_memo_or_404(self, memo_id: int) -> CreditMemoRec:
        """The credit memo, or MagentoError 400 (id 0) / 404."""
        if not memo_id:
            raise bad_request(ID_NEEDED)
        memo = self.credit_memos.get(memo_id)
        if memo is None:
            raise not_found(ENTITY_NOT_FOUND)
        return memo


def _can_refund(order: OrderRec) -> list[str]:
    if order.state in ("payment_review", "holded", "canceled", "closed"):
        return [f"A creditmemo can not be created when an order has a status of {order.status}"]
    if order.total_paid - order.total_refunded <= Decimal("0.0001"):
        return ["The order does not allow a creditmemo to be created."]
    return []


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")

