"""Build a merchant in both simulators from a ``ScenarioSpec``, with known ground truth.

The clean state is what a correct integration leaves behind: every catalogue SKU in
both systems, paid Magento orders imported into Stokly (allocated at the designated
location), part of them dispatched in Stokly with tracking and shipped in Magento with
the same tracking, invoiced in Stokly after dispatch, some refunded with a matching
Stokly credit note, and Magento's source quantities equal to what Stokly allows
(``watchdog.stockmath``). Then the spec's failure modes are injected, each one
recording the finding it must produce. A few orders placed moments ago and not yet
imported are "in flight": a correct watchdog reports nothing about them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from watchdog.simulators.magento.records import OrderItemRec, OrderRec
from watchdog.simulators.magento.specs import (
    BundleOptionSpec,
    CustomerSpec,
    OrderItemSpec,
    ShippingSpec,
    TrackSpec,
)
from watchdog.simulators.magento.state import MagentoState
from watchdog.simulators.scenario import Expected, ScenarioSpec, SimClock
from watchdog.simulators.stokly.records import CreditLineSpec, CreditNoteSpec, LineSpec, Shipping
from watchdog.simulators.stokly.state import StoklyState

__all__ = ["CHANNEL_ID", "LOCATION_ID", "SOURCE_CODE", "Merchant", "build_merchant"]

SOURCE_CODE = "stokly_main"
#: Fixed ids, so a config file can name the simulated channel and designated location.
CHANNEL_ID = "4a10a925-6fce-47dc-83a1-2331ffb4179c"
LOCATION_ID = "55c142b5-f047-441b-8b06-47df61f94b67"
STOCK_ID = 1
TAX_RATES = (Decimal(20), Decimal(20), Decimal(5), Decimal(0))
CENTS = Decimal("0.01")
UNIT = Decimal("0.0001")


@dataclass
class Merchant:
    """Both simulator states plus what the scenario put in them."""

    magento: MagentoState
    stokly: StoklyState
    clock: SimClock
    now: datetime
    channel_id: str
    location_id: str
    overflow_location_id: str
    source_code: str = SOURCE_CODE
    stock_id: int = STOCK_ID
    simple_skus: list[str] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)
    in_flight_orders: list[str] = field(default_factory=list)  # increment ids
    item_ids: dict[str, str] = field(default_factory=dict)  # sku -> Stokly itemId
    sale_orders: dict[int, str] = field(default_factory=dict)  # Magento entity_id -> saleOrderId


def build_merchant(spec: ScenarioSpec, now: datetime, *, clock: SimClock | None = None) -> Merchant:
    """Both simulators loaded with ``spec`` as of ``now``; ``merchant.expected`` is the ground truth."""
    clock = clock or SimClock(now - spec.history)
    clock.set(now - spec.history)
    rng = random.Random(spec.seed)
    magento = MagentoState(seed=spec.seed, clock=clock)
    stokly = StoklyState(seed=spec.seed, clock=clock)
    main = stokly.add_location("Main warehouse", location_id=LOCATION_ID)
    overflow = stokly.add_location("Overflow store")
    channel = stokly.add_channel("Magento UK", allocate_sold_location_id=main, inventory_location_ids=[main],
                                 channel_id=CHANNEL_ID)
    m = Merchant(magento, stokly, clock, now, channel, main, overflow)
    magento.add_source(SOURCE_CODE, "Stokly main warehouse")
    magento.link_source(STOCK_ID, SOURCE_CODE)
    _catalogue(m, spec, rng)
    _orders(m, spec, rng)
    _settle_source_quantities(m)
    clock.set(now - timedelta(hours=3))  # injected failures are older than every check's settle window
    for injection in spec.injections:
        for n in range(injection.count):
            INJECT[injection.mode](m, rng, n)
    _in_flight(m, spec, rng)
    clock.set(now)
    return m


# --------------------------------------------------------------------------- catalogue


def _catalogue(m: Merchant, spec: ScenarioSpec, rng: random.Random) -> None:
    for i in range(1, spec.simple_skus + 1):
        _simple(m, f"SKU-{i:04d}", f"Product {i}", rng)
    for c in range(1, spec.configurables + 1):
        children = [f"TEE{c}-{size}" for size in ("S", "M", "L", "XL", "XXL")[: spec.variants]]
        for child in children:
            _simple(m, child, f"Tee {c} {child.rsplit('-', 1)[1]}", rng)
        m.magento.add_configurable(f"TEE{c}", children, f"Tee {c}", price=Decimal("15.00"))
        m.stokly.add_variable_item(f"TEE{c}", f"Tee {c}", [m.item_ids[ch] for ch in children])
    for b in range(1, min(spec.bundles, spec.simple_skus // 2) + 1):
        parts = (f"SKU-{2 * b - 1:04d}", f"SKU-{2 * b:04d}")
        options = [BundleOptionSpec(f"Part {n}", (sku,)) for n, sku in enumerate(parts, start=1)]
        m.magento.add_bundle(f"KIT-{b}", options, f"Gift kit {b}", dynamic_sku=False, price=Decimal("30.00"))
        kit = m.stokly.add_kit(f"KIT-{b}", f"Gift kit {b}", [(m.item_ids[p], 1) for p in parts])
        m.item_ids[f"KIT-{b}"] = kit
        m.stokly.add_listing(m.channel_id, kit)


def _simple(m: Merchant, sku: str, name: str, rng: random.Random) -> None:
    price = Decimal(rng.randrange(500, 6000)) / 100
    product_id = m.magento.add_simple(sku, name, price=price)
    item_id = m.stokly.add_item(sku, name, sale_price=price)
    m.item_ids[sku] = item_id
    m.simple_skus.append(sku)
    m.stokly.add_listing(m.channel_id, item_id, reference_id=str(product_id))
    m.stokly.set_stock(item_id, m.location_id, rng.randrange(40, 90))
    m.magento.set_source_item(sku, SOURCE_CODE, 10_000)  # settled to the real figure once orders exist


# --------------------------------------------------------------------------- orders


def _order_items(m: Merchant, rng: random.Random) -> list[OrderItemSpec]:
    items: list[OrderItemSpec] = []
    for _ in range(rng.randint(1, 3)):
        rate = rng.choice(TAX_RATES)
        kind = rng.random()
        configurables = [p for p in m.magento.products.values() if p.type_id == "configurable"]
        bundles = [p for p in m.magento.products.values() if p.type_id == "bundle"]
        if kind < 0.15 and configurables:
            parent = rng.choice(configurables)
            child = m.magento.product_by_id(rng.choice(parent.child_ids))
            assert child is not None
            items.append(OrderItemSpec(parent.sku, rng.randint(1, 2), tax_percent=rate, child_sku=child.sku))
        elif kind < 0.25 and bundles:
            bundle = rng.choice(bundles)
            picks = tuple(o.links[0].sku for o in bundle.bundle_options)
            items.append(OrderItemSpec(bundle.sku, 1, tax_percent=rate, selections=picks))
        else:
            items.append(OrderItemSpec(rng.choice(m.simple_skus[4:] or m.simple_skus), rng.randint(1, 3),
                                       tax_percent=rate))
    return items


def _customer(n: int, rng: random.Random) -> CustomerSpec:
    first, last = rng.choice(["Amira", "Ben", "Chloe", "Dev", "Ellis"]), rng.choice(["Khan", "Jones", "Price"])
    registered = rng.random() < 0.6
    return CustomerSpec(email=f"{first.lower()}.{last.lower()}{n}@example.com", firstname=first, lastname=last,
                        customer_id=1000 + n if registered else None)


def _place(m: Merchant, rng: random.Random, n: int) -> int:
    return m.magento.place_order(_order_items(m, rng), customer=_customer(n, rng),
                                 shipping=ShippingSpec(Decimal("4.99"), tax_percent=20))


def _orders(m: Merchant, spec: ScenarioSpec, rng: random.Random) -> None:
    step = (spec.history - timedelta(hours=1)) / max(1, spec.orders)
    for n in range(spec.orders):
        m.clock.set(m.now - spec.history + step * n)
        order_id = _place(m, rng, n)
        _import(m, order_id)
        if rng.random() < spec.shipped_share:
            m.clock.advance(timedelta(minutes=20))
            _fulfil(m, order_id, f"RM{order_id:06d}GB")
            if rng.random() < spec.refunded_share:
                m.clock.advance(timedelta(minutes=20))
                _refund(m, order_id, credit=True)


def _import(m: Merchant, order_id: int) -> str:
    """What a correct orders flow does: a Stokly sale order allocated at the designated location."""
    order = m.magento.orders[order_id]
    lines: list[LineSpec] = []
    for item in order.items:
        if item.parent_item_id is not None and item.product_type in ("simple", "virtual"):
            parent = order.item(item.parent_item_id)
            if parent is not None and parent.product_type == "bundle":
                continue  # a fixed bundle is one kit line; Stokly adds the components itself
        if item.product_type == "simple" and item.parent_item_id is not None:
            continue  # a configurable's child: the parent line carries the price
        sku = _stokly_sku(m, item)
        qty = item.qty_ordered
        lines.append(LineSpec(m.item_ids[sku], qty, _unit(item.row_total, qty), _unit(item.tax_amount, qty)))
    shipping = Shipping(cost=order.shipping_amount, tax=order.shipping_tax_amount)
    sale_order = m.stokly.create_sale_order(m.channel_id, order.increment_id, lines, currency=order.currency,
                                            shipping=shipping, payments=[(4, order.grand_total)])
    m.sale_orders[order_id] = sale_order
    return sale_order


def _unit(total: Decimal, qty: Decimal) -> Decimal:
    return (total / qty).quantize(UNIT, ROUND_HALF_UP) if qty else Decimal(0)


def _fulfil(m: Merchant, order_id: int, tracking: str) -> None:
    """Stokly dispatches with tracking; the fulfilment flow ships in Magento; Stokly invoices."""
    sale_order = m.sale_orders[order_id]
    m.stokly.dispatch(sale_order, carrier="Royal Mail", tracking_number=tracking, location_id=m.location_id)
    m.magento.ship(order_id, tracks=[TrackSpec(tracking)], source_code=SOURCE_CODE, notify=True)
    m.stokly.invoice(sale_order)


def _refund(m: Merchant, order_id: int, *, credit: bool) -> int:
    """A full refund in Magento (no return to stock); with ``credit``, the matching credit note."""
    memo_id = m.magento.refund(order_id)
    if credit:
        memo = m.magento.credit_memos[memo_id]
        order = m.magento.orders[order_id]
        lines = tuple(
            CreditLineSpec(m.item_ids[_stokly_sku(m, _item(order, it.order_item_id))], it.qty,
                           _unit(it.row_total, it.qty), _unit(it.tax_amount, it.qty))
            for it in memo.items if it.row_total or it.tax_amount)
        invoice = next(iter(m.stokly.invoices(m.sale_orders[order_id])), None)
        m.stokly.credit_note(CreditNoteSpec(
            f"MAG-CM-{memo.increment_id}", order.currency, lines, invoice.sale_invoice_id if invoice else None,
            "Magento refund", memo.shipping_amount, memo.shipping_tax_amount, memo.grand_total))
    return memo_id


def _item(order: OrderRec, item_id: int) -> OrderItemRec:
    item = order.item(item_id)
    assert item is not None, f"order {order.entity_id} has no item {item_id}"
    return item


def _stokly_sku(m: Merchant, item: OrderItemRec) -> str:
    """The Stokly SKU a priced Magento line maps to: a bundle's own SKU (a kit), else the line's SKU."""
    if item.product_type == "bundle":
        product = m.magento.product_by_id(item.product_id)
        assert product is not None
        return product.sku
    return item.sku


def _settle_source_quantities(m: Merchant) -> None:
    """Set every source item to the section 5.6 expectation, as a correct stock push would."""
    reserved: dict[str, Decimal] = defaultdict(Decimal)
    imported = set(m.sale_orders)
    for order in m.magento.orders.values():
        if order.entity_id not in imported or order.state in ("canceled", "closed", "complete"):
            continue
        for item in order.items:
            if item.product_type in ("simple", "virtual"):
                reserved[item.sku] += item.simple_qty_to_ship
    for sku in m.simple_skus:
        available = m.stokly.available(m.item_ids[sku], m.location_id)
        m.magento.set_source_item(sku, SOURCE_CODE, max(Decimal(0), available) + reserved[sku])


# --------------------------------------------------------------------------- injections


def _quiet_sku(m: Merchant, n: int) -> str:
    """A SKU no open order touches, picked deterministically from the end of the catalogue."""
    busy = {it.sku for o in m.magento.orders.values() if o.state not in ("complete", "closed", "canceled")
            for it in o.items}
    quiet = [s for s in reversed(m.simple_skus) if s not in busy and not s.startswith("TEE")]
    return quiet[n % len(quiet)]


def _inject_stock_divergence(m: Merchant, rng: random.Random, n: int) -> None:
    sku = _quiet_sku(m, n)
    current = m.magento.source_qty(sku, SOURCE_CODE) or Decimal(0)
    delta = Decimal(3 + n) if n % 2 == 0 else -min(current, Decimal(2 + n))
    m.magento.set_source_item(sku, SOURCE_CODE, current + delta)
    m.expected.append(Expected("stock_divergence", f"sku:{sku}", {"units": abs(delta), "difference": delta}))


def _inject_missing_orders(m: Merchant, rng: random.Random, n: int) -> None:
    order_id = _place(m, rng, 9000 + n)
    order = m.magento.orders[order_id]
    m.expected.append(Expected("missing_orders", f"order:{order.increment_id}",
                               {"grand_total": order.grand_total, "tax": order.tax_amount}))


def _inject_rejected_tracking(m: Merchant, rng: random.Random, n: int) -> None:
    order_id = _place(m, rng, 9100 + n)
    sale_order = _import(m, order_id)
    tracking = f"RMX{order_id:06d}GB"
    dispatch = m.stokly.dispatch(sale_order, carrier="Royal Mail", tracking_number=tracking, location_id=m.location_id)
    m.magento.ship_manually(order_id, source_code=SOURCE_CODE)
    units = sum((qty for _, qty in m.stokly.dispatch_record(dispatch).lines), Decimal(0))
    m.expected.append(Expected("rejected_tracking", f"dispatch:{dispatch}", {"units": units}))


def _inject_order_status_drift(m: Merchant, rng: random.Random, n: int) -> None:
    order_id = _place(m, rng, 9200 + n)
    sale_order = _import(m, order_id)
    m.stokly.dispatch(sale_order, carrier="Own van", tracking_number="", location_id=m.location_id)
    m.expected.append(Expected("order_status_drift", f"order:{m.magento.orders[order_id].increment_id}"))


def _inject_missing_credit_notes(m: Merchant, rng: random.Random, n: int) -> None:
    order_id = _place(m, rng, 9300 + n)
    _import(m, order_id)
    _fulfil(m, order_id, f"RMC{order_id:06d}GB")
    memo = m.magento.credit_memos[_refund(m, order_id, credit=False)]
    m.expected.append(Expected("missing_credit_notes", f"creditmemo:{memo.increment_id}",
                               {"vat": memo.tax_amount, "amount": memo.grand_total}))


def _inject_unlocated_stock(m: Merchant, rng: random.Random, n: int) -> None:
    sku = m.simple_skus[n % len(m.simple_skus)]
    qty = Decimal(5 + n)
    m.stokly.set_stock(m.item_ids[sku], m.overflow_location_id, qty)
    if not any(e.subject == f"location:{m.overflow_location_id}" for e in m.expected):
        m.expected.append(Expected("unlocated_stock", f"location:{m.overflow_location_id}"))


def _inject_sku_mismatch(m: Merchant, rng: random.Random, n: int) -> None:
    """A new product keyed in twice by hand: Stokly's SKU and Magento's differ by case or a space."""
    stokly_sku = f"GIFT-{n + 1:02d}"
    magento_sku = stokly_sku.lower() if n % 2 == 0 else f"{stokly_sku} "
    item_id = m.stokly.add_item(stokly_sku, f"Gift card {n + 1}")
    m.stokly.add_listing(m.channel_id, item_id)
    m.magento.add_simple(magento_sku, f"Gift card {n + 1}")
    m.expected.append(Expected("sku_mismatch", f"sku:{magento_sku}"))


INJECT = {
    "stock_divergence": _inject_stock_divergence,
    "missing_orders": _inject_missing_orders,
    "rejected_tracking": _inject_rejected_tracking,
    "order_status_drift": _inject_order_status_drift,
    "missing_credit_notes": _inject_missing_credit_notes,
    "unlocated_stock": _inject_unlocated_stock,
    "sku_mismatch": _inject_sku_mismatch,
}


def _in_flight(m: Merchant, spec: ScenarioSpec, rng: random.Random) -> None:
    """Orders placed seconds ago, not imported yet, on a SKU no injection touched."""
    m.clock.set(m.now - timedelta(seconds=20))
    injected = {e.subject.removeprefix("sku:") for e in m.expected}
    sku = next(s for s in m.simple_skus[4:] if s not in injected)
    for n in range(spec.in_flight_orders):
        order_id = m.magento.place_order([OrderItemSpec(sku, 1)], customer=_customer(9900 + n, rng))
        m.in_flight_orders.append(m.magento.orders[order_id].increment_id)
