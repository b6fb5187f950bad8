"""Orders: placing (with MSI reservations), invoicing, comments, hold/unhold and cancel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import rules
from .core import locked
from .errors import ENTITY_NOT_FOUND, ID_NEEDED, bad_request, not_found
from .inventory import InventoryOps
from .records import (
    ZERO,
    AddressRec,
    CommentRec,
    DocItemRec,
    HistoryRec,
    InvoiceRec,
    OrderItemRec,
    OrderRec,
    ProductRec,
    money,
)
from .specs import AddressSpec, CustomerSpec, OrderItemSpec, ShippingSpec

__all__ = ["SalesOps", "doc_comment", "doc_item", "prorate"]

INVOICE_PREFIX = "Invoice Document Validation Error(s):\n"
COMMENT_STATUS = 'Unable to add comment: The status "%1" is not part of the order status history.'


def prorate(total: Decimal, qty: Decimal, of_qty: Decimal, left_qty: Decimal, left_total: Decimal) -> Decimal:
    """The share of ``total`` for ``qty`` of ``of_qty``; the last share takes the rounding rest."""
    if of_qty == 0:
        return ZERO
    if qty >= left_qty:
        return left_total
    return money(total * qty / of_qty)


class SalesOps(InventoryOps):
    """Sales orders and invoices."""

    def order_or_error(self, order_id: int) -> OrderRec:
        """The order, or MagentoError 400 (id 0) / 404 (unknown), as ``OrderRepository::get``."""
        if not order_id:
            raise bad_request(ID_NEEDED)
        order = self.orders.get(order_id)
        if order is None:
            raise not_found(ENTITY_NOT_FOUND)
        return order

    # ------------------------------------------------------------------ place

    @locked
    def place_order(self, items: Sequence[OrderItemSpec], *, customer: CustomerSpec | None = None,
                    address: AddressSpec | None = None, shipping: ShippingSpec | None = None,
                    stock_id: int = 1, invoice: bool = True, currency: str = "GBP",
                    payment_method: str = "checkmo") -> int:
        """Place an order as the storefront would; returns its entity id.

        Adds a ``-qty`` reservation per stock-carrying SKU. ``invoice=True`` also captures payment
        (the order is then ``processing``), otherwise it stays ``new``/``pending``.
        Raises ValueError for unknown products or bad bundle/configurable choices.
        """
        customer, address, shipping = customer or CustomerSpec(), address or AddressSpec(), shipping or ShippingSpec()
        order_id, now = self.next_id("order"), self.now()
        order = OrderRec(
            entity_id=order_id, increment_id=f"{order_id:09d}", state="new", status="pending",
            created_at=now, updated_at=now, currency=currency, customer_email=customer.email,
            customer_firstname=customer.firstname, customer_lastname=customer.lastname,
            customer_id=customer.customer_id, items=[], billing=_address("billing", address, customer, order_id),
            shipping=_address("shipping", address, customer, order_id), shipping_method=shipping.method,
            shipping_description=shipping.description, shipping_amount=money(Decimal(shipping.amount)),
            shipping_tax_percent=Decimal(shipping.tax_percent),
            shipping_tax_amount=money(Decimal(shipping.amount) * Decimal(shipping.tax_percent) / 100),
            payment_method=payment_method, stock_id=stock_id)
        for spec in items:
            self._add_lines(order, spec)
        self.orders[order_id] = order
        for line in order.items:
            if line.stock_sku is not None:
                self.reserve(order, line.stock_sku, -line.qty_ordered, "order_placed")
        if invoice:
            self.create_invoice(order_id)
        return order_id

    def _add_lines(self, order: OrderRec, spec: OrderItemSpec) -> None:
        product = self.find_product(spec.sku)
        if product is None:
            raise ValueError(f"cannot order unknown product {spec.sku!r}")
        if product.type_id == "configurable":
            self._add_configurable(order, product, spec)
        elif product.type_id == "bundle":
            self._add_bundle(order, product, spec)
        else:
            price = Decimal(spec.price) if spec.price is not None else product.price
            self._line(order, product, spec, product.sku, product.name, price, stock_sku=product.sku)

    def _line(self, order: OrderRec, product: ProductRec, spec: OrderItemSpec, sku: str, name: str,
              price: Decimal, *, stock_sku: str | None, parent: OrderItemRec | None = None,
              ratio: Decimal = Decimal(1), option: dict[str, Any] | None = None) -> OrderItemRec:
        qty = Decimal(spec.qty) * (ratio if parent else 1)
        priced = parent is None
        rate = Decimal(spec.tax_percent) if priced else ZERO
        row = money(price * qty) if priced else ZERO
        item = OrderItemRec(
            item_id=self.next_id("order_item"), order_id=order.entity_id, product_id=product.id,
            product_type=product.type_id, sku=sku, name=name, qty_ordered=qty, price=price,
            tax_percent=rate, tax_amount=money(row * rate / 100), row_total=row, weight=product.weight,
            created_at=order.created_at, updated_at=order.created_at, stock_sku=stock_sku,
            parent_item_id=parent.item_id if parent else None, ratio=ratio, product_option=option,
            ship_separately=parent.ship_separately if parent else False)
        order.items.append(item)
        return item

    def _add_configurable(self, order: OrderRec, product: ProductRec, spec: OrderItemSpec) -> None:
        child = self.find_product(spec.child_sku or "")
        if child is None or child.id not in product.child_ids:
            raise ValueError(f"{spec.child_sku!r} is not a variant of configurable {product.sku!r}")
        price = Decimal(spec.price) if spec.price is not None else (product.price or child.price)
        option = {"extension_attributes": {"configurable_item_options": [
            {"option_id": "93", "option_value": child.id}]}}
        parent = self._line(order, product, spec, child.sku, product.name, price, stock_sku=None, option=option)
        self._line(order, child, spec, child.sku, child.name, child.price, stock_sku=child.sku, parent=parent)

    def _add_bundle(self, order: OrderRec, product: ProductRec, spec: OrderItemSpec) -> None:
        if len(spec.selections) != len(product.bundle_options):
            raise ValueError(f"bundle {product.sku!r} needs one selection per option")
        links = []
        for option, chosen in zip(product.bundle_options, spec.selections, strict=True):
            link = next((lk for lk in option.links if lk.sku == chosen), None)
            if link is None:
                raise ValueError(f"{chosen!r} is not a selection of option {option.title!r}")
            links.append(link)
        sku = "-".join([product.sku, *(lk.sku for lk in links)]) if product.dynamic_sku else product.sku
        price = Decimal(spec.price) if spec.price is not None else (
            product.price or sum((lk.price * lk.qty for lk in links), ZERO))
        option_data = {"extension_attributes": {"bundle_options": [
            {"option_id": lk.option_id, "option_qty": int(lk.qty), "option_selections": [lk.id]} for lk in links]}}
        parent = self._line(order, product, spec, sku, product.name, price, stock_sku=None, option=option_data)
        parent.ship_separately = not product.ship_together
        for lk in links:
            child = self.products[lk.sku]
            self._line(order, child, spec, child.sku, child.name, lk.price, stock_sku=child.sku,
                       parent=parent, ratio=lk.qty)

    # ------------------------------------------------------------------ invoice

    @locked
    def create_invoice(self, order_id: int, items: Mapping[int, Decimal] | None = None, *,
                       capture: bool = True, comment: str | None = None) -> int:
        """``POST /V1/order/{id}/invoice``; returns the invoice id.

        Both capture modes mark the invoice paid (offline methods capture offline). Raises
        MagentoError 400 ``Invoice Document Validation Error(s):\\n...`` or 404/400 for the id.
        """
        order = self.order_or_error(order_id)
        wanted = self._invoice_quantities(order, items)
        now = self.now()
        invoice = InvoiceRec(self.next_id("invoice"), "", order_id, now, now, [],
                             *self._shipping_to_invoice(order))
        invoice.increment_id = f"{invoice.entity_id:09d}"
        for line, qty in wanted.items():
            self._invoice_line(order, invoice, line, qty)
        order.total_invoiced += invoice.grand_total
        order.total_paid += invoice.grand_total
        if comment:
            invoice.comments.append(doc_comment(self.next_id("invoice_comment"), invoice.entity_id, comment, now))
        self.invoices[invoice.entity_id] = invoice
        rules.resolve_state(order, in_progress=True)
        order.updated_at = now
        return invoice.entity_id

    def _invoice_quantities(self, order: OrderRec, items: Mapping[int, Decimal] | None) -> dict[OrderItemRec, Decimal]:
        messages: list[str] = []
        if order.state in ("payment_review", "holded", "canceled", "complete", "closed"):
            messages.append(f"An invoice cannot be created when an order has a status of {order.status}")
        elif not rules.can_invoice(order):
            messages.append("The order does not allow an invoice to be created.")
        tops = [i for i in order.items if i.parent_item_id is None]
        wanted = {i: i.qty_to_invoice for i in tops if i.qty_to_invoice > 0} if not items else {}
        asked = sum(wanted.values(), ZERO)
        for item_id, qty in (items or {}).items():
            line, amount = order.item(int(item_id)), Decimal(qty)
            asked += max(amount, ZERO)
            if line is None or line.parent_item_id is not None:
                messages.append("The invoice contains one or more items that are not part of the original order.")
            elif amount > line.qty_to_invoice:
                messages.append("The quantity to invoice must not be greater than the uninvoiced quantity "
                                f'for product SKU "{line.sku}".')
            elif amount > 0:
                wanted[line] = amount
        if asked <= 0:
            messages.append("You can't create an invoice without products.")
        if messages:
            raise bad_request(INVOICE_PREFIX + "\n".join(dict.fromkeys(messages)))
        return wanted

    def _shipping_to_invoice(self, order: OrderRec) -> tuple[Decimal, Decimal]:
        if any(inv.order_id == order.entity_id for inv in self.invoices.values()):
            return ZERO, ZERO
        return order.shipping_amount, order.shipping_tax_amount

    def _invoice_line(self, order: OrderRec, invoice: InvoiceRec, line: OrderItemRec, qty: Decimal) -> None:
        left = line.qty_ordered - line.qty_invoiced
        done = [d for inv in self.invoices.values() if inv.order_id == order.entity_id
                for d in inv.items if d.order_item_id == line.item_id]
        row = prorate(line.row_total, qty, line.qty_ordered, left,
                      line.row_total - sum((d.row_total for d in done), ZERO))
        tax = prorate(line.tax_amount, qty, line.qty_ordered, left,
                      line.tax_amount - sum((d.tax_amount for d in done), ZERO))
        invoice.items.append(doc_item(self.next_id("invoice_item"), invoice.entity_id, line, qty, row, tax))
        line.qty_invoiced += qty
        for child in order.children(line):
            child.qty_invoiced += qty * child.ratio

    # ------------------------------------------------------------------ status changes

    @locked
    def cancel(self, order_id: int) -> bool:
        """``POST /V1/orders/{id}/cancel``: False when Magento refuses (e.g. fully invoiced)."""
        order = self.order_or_error(order_id)
        if not rules.can_cancel(order):
            return False
        for line in order.items:
            qty = min(line.qty_to_invoice, line.simple_qty_to_ship)
            line.qty_canceled += qty
            if line.stock_sku is not None:
                self.reserve(order, line.stock_sku, qty, "order_canceled")
            order.total_canceled += line.row_total_incl_tax * qty / line.qty_ordered if line.qty_ordered else ZERO
        keep = any(i.qty_to_refund > 0 for i in order.items)
        order.state = order.status = "processing" if keep else "canceled"
        order.updated_at = self.now()
        return True

    @locked
    def hold(self, order_id: int) -> bool:
        """``POST /V1/orders/{id}/hold``; raises 400 ``A hold action is not available.``"""
        order = self.order_or_error(order_id)
        if order.state in ("payment_review", "holded", "canceled", "complete", "closed"):
            raise bad_request("A hold action is not available.")
        order.hold_before_state, order.hold_before_status = order.state, order.status
        order.state = order.status = "holded"
        order.updated_at = self.now()
        return True

    @locked
    def unhold(self, order_id: int) -> bool:
        """``POST /V1/orders/{id}/unhold``; raises 400 ``You cannot remove the hold.``"""
        order = self.order_or_error(order_id)
        if order.state != "holded":
            raise bad_request("You cannot remove the hold.")
        order.state, order.status = order.hold_before_state or "new", order.hold_before_status or "pending"
        order.hold_before_state = order.hold_before_status = None
        order.updated_at = self.now()
        return True

    @locked
    def add_comment(self, order_id: int, comment: str, *, status: str | None = None,
                    is_customer_notified: int = 0, is_visible_on_front: int = 0) -> bool:
        """``POST /V1/orders/{id}/comments``; a ``status`` must belong to the current state."""
        order = self.order_or_error(order_id)
        if status and status not in rules.STATUS_OF.get(order.state, ()):
            raise bad_request(COMMENT_STATUS, [status])
        order.status = status or order.status
        order.histories.append(HistoryRec(self.next_id("history"), order_id, comment, order.status, self.now(),
                                          is_customer_notified, is_visible_on_front))
        order.updated_at = self.now()
        return True


def _address(kind: str, spec: AddressSpec, customer: CustomerSpec, order_id: int) -> AddressRec:
    return AddressRec(kind, spec.firstname, spec.lastname, list(spec.street), spec.city, spec.postcode,
                      spec.country_id, spec.telephone, customer.email, entity_id=order_id * 2 - (kind == "billing"),
                      parent_id=order_id, company=spec.company)


def doc_item(entity_id: int, parent_id: int, line: OrderItemRec, qty: Decimal, row: Decimal,
              tax: Decimal) -> DocItemRec:
    """A document line for ``qty`` of order ``line`` carrying ``row`` net and ``tax``."""
    return DocItemRec(entity_id, parent_id, line.item_id, line.product_id, line.sku, line.name, qty, line.price,
                      row_total=row, tax_amount=tax, tax_percent=line.tax_percent, weight=line.weight)


def doc_comment(entity_id: int, parent_id: int, text: str, now: datetime) -> CommentRec:
    """A shipment/invoice/credit memo comment row."""
    return CommentRec(entity_id, parent_id, text, now)
