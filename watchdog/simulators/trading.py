"""A trading simulation for the demo: a shop's day, and the quiet failures of the seed.

Each ``tick`` customers order in Magento, the warehouse dispatches imported orders in
Stokly with tracking, and some shipped orders are refunded. ``break_things`` then makes
the five failures the watchdog exists for happen the way they do in real shops:

1. an order for a SKU Stokly does not know (a catalogue typo) never reaches the warehouse;
2. someone ships an order by hand in Magento, so the warehouse's tracking is rejected;
3. Stokly starts refusing credit notes, so a refund never becomes one (VAT overstated);
4. Magento's stock endpoint starts failing while a stock take finds breakage, so the
   store keeps selling stock that is gone;
5. goods are received into a Stokly location that feeds no Magento source.

It drives the simulators in-process (their state is thread-safe) while the real sync
worker and watchdog talk to them over HTTP.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from watchdog.simulators.faults import FaultInjector, FaultRule
from watchdog.simulators.magento.specs import CustomerSpec, OrderItemSpec, ShippingSpec
from watchdog.simulators.merchant import Merchant
from watchdog.stokly_assumed import OrderStage

__all__ = ["TYPO_SKU", "TradingSimulation", "TradingStats"]

TYPO_SKU = "SKU-0O07"  # a letter O where Stokly has a zero
NAMES = (("Amira", "Khan"), ("Ben", "Jones"), ("Chloe", "Price"), ("Dev", "Patel"), ("Ellis", "Byrne"))


@dataclass
class TradingStats:
    orders: int = 0
    dispatches: int = 0
    refunds: int = 0
    events: list[str] = field(default_factory=list)


class TradingSimulation:
    """Customers, a warehouse and a back office acting on both simulators."""

    def __init__(self, merchant: Merchant, *, magento_faults: FaultInjector, stokly_faults: FaultInjector,
                 seed: int = 7) -> None:
        self.m = merchant
        self.rng = random.Random(seed)
        self.magento_faults = magento_faults
        self.stokly_faults = stokly_faults
        self.stats = TradingStats()
        self._customers = 0

    # ------------------------------------------------------------------ a normal day

    def tick(self) -> None:
        """Some orders, some dispatches, the odd refund."""
        for _ in range(self.rng.randint(1, 2)):
            self._order([OrderItemSpec(self.rng.choice(self.m.simple_skus[4:]), self.rng.randint(1, 2),
                                       tax_percent=self.rng.choice((20, 20, 5, 0)))])
        for sale_order in self._undispatched()[:2]:
            if self.rng.random() < 0.7:
                self.m.stokly.dispatch(sale_order, carrier="Royal Mail", location_id=self.m.location_id,
                                       tracking_number=f"RM{self.rng.randrange(10**8):08d}GB")
                self.stats.dispatches += 1
        shipped = [o for o in self.m.magento.orders.values() if o.state == "complete"]
        if shipped and self.rng.random() < 0.3:
            self.m.magento.refund(self.rng.choice(shipped).entity_id)
            self.stats.refunds += 1

    def _order(self, items: list[OrderItemSpec]) -> int:
        self._customers += 1
        first, last = self.rng.choice(NAMES)
        registered = self.rng.random() < 0.5
        customer = CustomerSpec(email=f"{first.lower()}.{last.lower()}.{self._customers}@example.com",
                                firstname=first, lastname=last,
                                customer_id=5000 + self._customers if registered else None)
        order_id = self.m.magento.place_order(items, customer=customer, shipping=ShippingSpec(Decimal("3.95")))
        self.stats.orders += 1
        return order_id

    def _undispatched(self) -> list[str]:
        """Imported channel orders the warehouse has not dispatched yet, oldest first."""
        return [so.sale_order_id for so in sorted(self.m.stokly.sale_orders(), key=lambda so: so.nice_id)
                if so.source_id == self.m.channel_id and so.stage is OrderStage.ORDER
                and any(ln.dispatched < ln.quantity - ln.cancelled for ln in so.top_lines)]

    # ------------------------------------------------------------------ the seed's failures

    def break_things(self) -> list[str]:
        """Make the five quiet failures happen; returns what happened, for the console."""
        events = [self._typo_order(), self._manual_shipment(), self._refused_credit_note(), self._lagging_stock(),
                  self._unlocated_stock()]
        self.stats.events.extend(e for e in events if e)
        return [e for e in events if e]

    def _typo_order(self) -> str:
        if self.m.magento.find_product(TYPO_SKU) is None:
            self.m.magento.add_simple(TYPO_SKU, "Product 7 (keyed in by hand)")
        order_id = self._order([OrderItemSpec(TYPO_SKU, 1)])
        return f"order {self.m.magento.orders[order_id].increment_id} is for {TYPO_SKU}, which Stokly does not know"

    def _manual_shipment(self) -> str:
        for sale_order_id in self._undispatched():
            ref = self.m.stokly.sale_order(sale_order_id).source_reference_id
            order = next((o for o in self.m.magento.orders.values() if o.increment_id == ref), None)
            if order is None or order.state != "processing":
                continue
            self.m.magento.ship_manually(order.entity_id, source_code=self.m.source_code)
            self.m.stokly.dispatch(sale_order_id, carrier="Royal Mail", location_id=self.m.location_id,
                                   tracking_number=f"RM{self.rng.randrange(10**8):08d}GB")
            return f"order {ref} was shipped by hand in Magento before the warehouse dispatched it"
        return ""

    def _refused_credit_note(self) -> str:
        self.stokly_faults.add(FaultRule("status", r"^POST /v0/credit-notes", status=400))
        shipped = [o for o in self.m.magento.orders.values() if o.state == "complete"]
        if not shipped:
            return "Stokly now refuses credit notes"
        order = shipped[-1]
        self.m.magento.refund(order.entity_id)
        return f"order {order.increment_id} was refunded while Stokly refuses credit notes"

    def _lagging_stock(self) -> str:
        self.magento_faults.add(
            FaultRule("status", r"^POST /rest/(\w+/)?(async/bulk/)?V1/inventory/source-items", status=503))
        sku = self.m.simple_skus[1]
        self.m.stokly.adjust(self.m.location_id, {self.m.item_ids[sku]: Decimal(-3)}, reason="Breakage")
        return f"Magento's stock endpoint fails while a stock take writes off 3 x {sku}"

    def _unlocated_stock(self) -> str:
        sku = self.m.simple_skus[2]
        self.m.stokly.adjust(self.m.overflow_location_id, {self.m.item_ids[sku]: Decimal(12)},
                             reason="Goods received")
        return f"12 x {sku} were received into the Overflow store, which feeds no Magento source"
