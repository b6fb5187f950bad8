"""Magento order -> Stokly sale order: validation, lines, tax, shipping, customer. Pure functions.

Lines as sold (integration-patterns.md F12): only top-level order items become Stokly
lines, so a configurable parent and its child, or a bundle and its selections, are never
counted twice.

- simple / virtual / downloadable: the item itself;
- configurable: the parent item, which carries the child's SKU and the price (the child
  line, a repeat of the SKU at price 0, is skipped);
- bundle with a fixed SKU: one line with the bundle's SKU (a kit in Stokly); with dynamic
  pricing the amounts sit on the selections and are summed onto it;
- bundle with a dynamic SKU (``<bundle>-<sel1>-<sel2>``): Stokly cannot match the composed
  SKU, so the whole order is quarantined.

Money: Magento's own line amounts are kept (F13: never recomputed): net (``row_total``),
tax (``tax_amount``) and discount per line, and the unit amounts derived from them with
six decimals, so Stokly's ``unit x quantity`` lands within a fraction of a penny of
Magento's line. Quantities cancelled in Magento before the import are left out.

Every problem with an order is collected and reported at once; nothing partial is posted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from watchdog.connectors.stokly import (
    CustomerDraft,
    SaleOrderDraft,
    SaleOrderLineDraft,
    ShippingDraft,
    StoklyAddress,
)
from watchdog.model import Address, Item, ItemFormat, Order, OrderLine, Payment
from watchdog.stokly_assumed import PAYMENT_METHOD_EXTERNAL

__all__ = [
    "CustomerKey",
    "MalformedOrder",
    "SoldLine",
    "customer_draft",
    "customer_key",
    "is_dynamic_bundle",
    "order_draft",
    "order_problems",
    "sold_lines",
]

ZERO = Decimal(0)
UNIT = Decimal("0.000001")
NOT_SHIPPED = frozenset({"virtual", "downloadable"})
GUEST_BARCODE = "MAG-GUEST"


@dataclass(frozen=True)
class MalformedOrder:
    """An order Magento sent that could not be read; it is quarantined with ``reason``."""

    entity_id: int
    increment_id: str
    updated_at: datetime
    reason: str


@dataclass(frozen=True)
class SoldLine:
    """One line as sold: what becomes one Stokly line."""

    order_item_id: int
    sku: str
    name: str
    quantity: Decimal
    net: Decimal  # line, excluding tax, before discount
    tax: Decimal
    discount: Decimal
    shipped_physically: bool


@dataclass(frozen=True)
class CustomerKey:
    """How an order's buyer is found again in Stokly (the customer's ``barcode``)."""

    barcode: str
    forename: str
    surname: str
    email: str | None


def _children(order: Order, line: OrderLine) -> list[OrderLine]:
    return [ln for ln in order.lines if ln.parent_item_id == line.item_id]


def is_dynamic_bundle(order: Order, line: OrderLine) -> bool:
    """True for a bundle line whose SKU Magento composed from its selections (``sku_type`` dynamic)."""
    if line.product_type != "bundle":
        return False
    children = _children(order, line)
    return bool(children) and line.sku.endswith("-" + "-".join(c.sku for c in children))


def _prorated(value: Decimal, quantity: Decimal, ordered: Decimal) -> Decimal:
    return value if quantity == ordered else value * quantity / ordered


def sold_lines(order: Order) -> list[SoldLine]:
    """The top-level lines with something left to sell (ordered minus cancelled)."""
    sold = []
    for line in order.lines:
        quantity = line.qty_ordered - line.qty_canceled
        if line.parent_item_id is not None or quantity <= 0:
            continue
        net, tax, discount = line.row_total, line.tax_amount, line.discount_amount
        if net == ZERO and tax == ZERO:  # dynamic price: the selections carry the money
            children = _children(order, line)
            net = sum((c.row_total for c in children), ZERO)
            tax = sum((c.tax_amount for c in children), ZERO)
            discount = sum((c.discount_amount for c in children), discount)
        sold.append(SoldLine(line.item_id, line.sku, line.name, quantity,
                             _prorated(net, quantity, line.qty_ordered), _prorated(tax, quantity, line.qty_ordered),
                             _prorated(discount, quantity, line.qty_ordered),
                             line.product_type not in NOT_SHIPPED))
    return sold


def _line_problems(order: Order) -> Iterable[str]:
    for line in order.lines:
        where = f"line {line.item_id} ({line.sku or 'no SKU'})"
        if not line.sku.strip():
            yield f"line {line.item_id} has no SKU"
        if line.qty_ordered <= 0:
            yield f"{where} has quantity {line.qty_ordered}; quantities must be positive"
        if min(line.row_total, line.tax_amount, line.price) < 0:
            yield f"{where} has a negative amount"
        if line.parent_item_id is None and is_dynamic_bundle(order, line):
            yield (f"{where} is a dynamic-SKU bundle: Magento composes its SKU from the selections, so Stokly "
                   "cannot match it; give the bundle a fixed SKU (and a Stokly kit) and replay the order")


def _item_problem(line: SoldLine, item: Item | None) -> str | None:
    if item is None:
        return f"SKU {line.sku!r} (line {line.order_item_id}) is not in Stokly's item master"
    if item.format is ItemFormat.VARIABLE:
        return f"SKU {line.sku!r} (line {line.order_item_id}) is a variable (parent) item in Stokly, not a product"
    return None


def order_problems(order: Order, items: dict[str, Item | None]) -> list[str]:
    """Every reason the order cannot be imported (empty: it can). ``items``: SKU -> Stokly item."""
    problems = list(_line_problems(order))
    if not order.currency:
        problems.append("the order has no currency")
    if not problems:
        lines = sold_lines(order)
        if not lines:
            problems.append("the order has nothing left to import (every line cancelled)")
        problems += [p for line in lines if (p := _item_problem(line, items.get(line.sku))) is not None]
    return problems


def _unit(value: Decimal, quantity: Decimal) -> Decimal:
    return (value / quantity).quantize(UNIT)


def _line_draft(line: SoldLine, item: Item) -> SaleOrderLineDraft:
    q = line.quantity
    return SaleOrderLineDraft(
        item_id=item.item_id, quantity=q, unit_price=_unit(line.net, q), unit_tax=_unit(line.tax, q),
        line_price=line.net, line_tax=line.tax, line_discount=line.discount, unit_discount=_unit(line.discount, q),
        fulfilment_type="delivery" if line.shipped_physically else "none")


def _address(address: Address | None) -> StoklyAddress:
    if address is None:
        return StoklyAddress()
    street = [s for s in address.street if s]
    return StoklyAddress(line1=street[0] if street else "", line2=", ".join(street[1:]), city=address.city,
                         region=address.region, country=address.country_id, postcode=address.postcode)


def _shipping(order: Order) -> ShippingDraft:
    address = order.shipping_address or order.billing_address
    return ShippingDraft(
        forename=address.firstname if address else order.customer_firstname,
        surname=address.lastname if address else order.customer_lastname, address=_address(address),
        option=order.shipping_description or order.shipping_method, cost=order.shipping_amount,
        tax=order.shipping_tax_amount)


def order_draft(order: Order, items: dict[str, Item | None], *, channel_id: str,
                customer_id: str | None) -> SaleOrderDraft:
    """The Stokly sale order for ``order``. Call only when ``order_problems`` is empty (else KeyError)."""
    lines = tuple(_line_draft(line, _known(items, line.sku)) for line in sold_lines(order))
    payments: Sequence[Payment] = (Payment(PAYMENT_METHOD_EXTERNAL, order.total_paid),) if order.total_paid > 0 else ()
    return SaleOrderDraft(source_reference_id=order.increment_id, channel_id=channel_id, currency=order.currency,
                          lines=lines, customer_id=customer_id, created_at=order.created_at,
                          shipping=_shipping(order), payments=tuple(payments))


def _known(items: dict[str, Item | None], sku: str) -> Item:
    item = items.get(sku)
    if item is None:
        raise KeyError(sku)
    return item


def customer_key(order: Order) -> CustomerKey:
    """Registered buyers by Magento customer id, guests by e-mail, else the shared guest (F21)."""
    billing = order.billing_address
    forename = order.customer_firstname or (billing.firstname if billing else "")
    surname = order.customer_lastname or (billing.lastname if billing else "")
    email = order.customer_email.strip().lower() or None
    if order.customer_id is not None and not order.customer_is_guest:
        return CustomerKey(f"MAG-C-{order.customer_id}", forename, surname, email)
    if email is None:
        return CustomerKey(GUEST_BARCODE, "Magento", "guest", None)
    safe = email if "}" not in email and len(email) <= 100 else hashlib.sha256(email.encode()).hexdigest()[:32]
    return CustomerKey(f"MAG-G-{safe}", forename, surname, email)


def customer_draft(order: Order, key: CustomerKey) -> CustomerDraft:
    """The Stokly customer to create for the buyer of ``order``."""
    return CustomerDraft(barcode=key.barcode, forename=key.forename, surname=key.surname, email=key.email,
                         phone=order.billing_address.telephone if order.billing_address else "",
                         address=_address(order.billing_address) if order.billing_address else None)
