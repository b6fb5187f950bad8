"""A trading scenario with known ground truth, driven step by step while the worker runs.

Each Magento order gets a fate (seeded): only imported, shipped at once, shipped in two
dispatches, part refunded before fulfilment (then the rest shipped), fully refunded before
fulfilment, or shipped and then part refunded. ``act()`` moves every order as far as the worker's progress
allows (a warehouse dispatches only what Stokly has imported, a refund after fulfilment waits
for the Magento shipment); ``problems()`` reads both simulators and lists every breach of
exactly-once: duplicates, anything lost, anything applied twice.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.sync.kit import Shop, line
from watchdog.simulators.magento import OrderItemSpec

FATES = ("quiet", "ship", "split", "refund_before", "cancel_all", "refund_after")
BUSY = (0, 4, 2, 2, 1, 2)  # every order is dispatched or refunded
MIXED = (14, 2, 1, 1, 1, 1)  # 30% of the orders are dispatched or refunded (cheaper: the many-kill test)
SIMPLE_SKUS = ("MUG", "BOOK", "CHAIR", "CABLE")


@dataclass
class Fate:
    order_id: int
    fate: str
    skus: list[str]
    step: int = 0
    dispatches: list[str] = field(default_factory=list)  # tracking numbers
    memo_before: int | None = None
    memo_after: int | None = None
    cancelled: dict[str, Decimal] = field(default_factory=dict)  # sku -> units refunded before fulfilment
    done: bool = False


@dataclass(frozen=True)
class Seen:
    """What both simulators hold, counted once for a round of checks."""

    orders: Counter[str | None]  # Magento order number -> Stokly sale orders
    sale_order_ids: dict[str | None, str]
    tracks: Counter[str]  # tracking number -> Magento tracks
    shipments: Counter[int]  # Magento order id -> shipments
    notes: Counter[str | None]  # reference -> credit notes
    invoices: Counter[str]  # sale order id -> invoices
    customers: Counter[str | None]  # barcode -> customers

    @classmethod
    def read(cls, shop: Shop) -> Seen:
        sale_orders, shipments = shop.stokly.sale_orders(), shop.magento.shipments_json()
        return cls(
            orders=Counter(so.source_reference_id for so in sale_orders),
            sale_order_ids={so.source_reference_id: so.sale_order_id for so in sale_orders},
            tracks=Counter(t["track_number"] for s in shipments for t in s.get("tracks", [])),
            shipments=Counter(s["order_id"] for s in shipments),
            notes=Counter(c.spec.source_reference_id for c in shop.stokly.credit_notes()),
            invoices=Counter(i.sale_order_id for i in shop.stokly.invoices()),
            customers=Counter(c.barcode for c in shop.stokly.customers()))


class Scenario:
    def __init__(self, shop: Shop, orders: int, seed: int = 7, weights: tuple[int, ...] = BUSY) -> None:
        self.shop = shop
        self.rng = random.Random(seed)
        self.weights = weights
        self.fates: list[Fate] = []
        start = datetime.now(UTC) - timedelta(seconds=2 * orders + 60)
        for n in range(orders):  # placed over the last minutes, two seconds apart, as a shop would
            shop.clock.fixed = start + timedelta(seconds=2 * n)
            self.fates.append(self._place(n))
        shop.clock.fixed = None

    def _place(self, n: int) -> Fate:
        fate = self.rng.choices(FATES, self.weights)[0]
        count = 1 if fate in ("ship", "cancel_all", "refund_after") and self.rng.random() < 0.5 else 2
        skus = self.rng.sample(SIMPLE_SKUS, count)
        lines: list[OrderItemSpec] = [line(sku, self.rng.randint(1, 3)) for sku in skus]
        if n % 7 == 0:
            child = self.rng.choice(("TEE-S", "TEE-M"))
            lines.append(line("TEE", 1, child_sku=child))
            skus.append(child)  # a configurable is sold (and shipped) under its child's SKU
        if n % 11 == 0:
            lines.append(line("DESK", 1, selections=("RAM", "MONITOR")))
            skus.append("DESK")
        guest = n % 3 == 0
        order_id = self.shop.order(*lines, guest=guest, customer_id=1000 + n % 50,
                                   email=f"buyer{n % 40}@example.com")
        return Fate(order_id, fate, skus)

    # ------------------------------------------------------------------ the world moves

    def act(self) -> None:
        imported = {so.source_reference_id: so for so in self.shop.stokly.sale_orders()}
        for fate in self.fates:
            if not fate.done:
                so = imported.get(self.shop.increment(fate.order_id))
                if so is not None:
                    self._advance(fate, so)

    def _advance(self, f: Fate, so: object) -> None:
        shop, oid = self.shop, f.order_id
        if f.fate == "quiet":
            f.done = True
        elif f.fate == "ship":
            self._dispatch(f, "A")
            f.done = True
        elif f.fate == "split":
            if f.step == 0:
                self._dispatch(f, "A", {f.skus[0]: self._qty(oid, f.skus[0])})
                f.step = 1
            elif f"T{oid}A" in shop.tracks(oid):
                self._dispatch(f, "B")
                f.done = True
        elif f.fate in ("refund_before", "cancel_all"):
            self._refund_before(f)
        elif f.step == 0:  # refund_after
            self._dispatch(f, "A")
            f.step = 1
        elif f"T{oid}A" in shop.tracks(oid):
            f.memo_after = shop.magento.refund(oid, {shop.item_id(oid, f.skus[0]): 1})
            f.done = True

    def _dispatch(self, f: Fate, suffix: str, lines: dict[str, Decimal] | None = None) -> None:
        tracking = f"T{f.order_id}{suffix}"
        self.shop.dispatch(f.order_id, tracking, {k: int(v) for k, v in lines.items()} if lines else None)
        f.dispatches.append(tracking)

    def _refund_before(self, f: Fate) -> None:
        shop, oid = self.shop, f.order_id
        if f.step == 0:
            if f.fate == "cancel_all":
                f.memo_before = shop.magento.refund(oid)
                f.cancelled = {sku: self._qty(oid, sku) for sku in f.skus}
                f.done = True
                return
            sku = f.skus[0]
            f.memo_before = shop.magento.refund(oid, {shop.item_id(oid, sku): self._qty(oid, sku)},
                                                shipping_amount=0)
            f.cancelled = {sku: self._qty(oid, sku)}
            f.step = 1
        elif self._stokly_cancelled(oid) == f.cancelled:  # the amendment landed: ship the rest
            self._dispatch(f, "A")
            f.done = True

    def _qty(self, order_id: int, sku: str) -> Decimal:
        return Decimal(self.shop.top_item(order_id, sku).qty_ordered)

    def _stokly_cancelled(self, order_id: int) -> dict[str, Decimal]:
        so = self.shop.sale_order(order_id)
        return {self.shop.stokly.item(ln.item_id).sku: ln.cancelled for ln in so.top_lines if ln.cancelled}

    @property
    def acted(self) -> bool:
        return all(f.done for f in self.fates)

    # ------------------------------------------------------------------ ground truth

    def problems(self, *, final: bool) -> list[str]:
        """Every breach of exactly-once; with ``final``, also everything not (yet) landed."""
        seen = Seen.read(self.shop)
        problems = [f"{n} Stokly orders for {ref}" for ref, n in seen.orders.items() if n > 1]
        problems += [f"tracking {t} on {n} Magento tracks" for t, n in seen.tracks.items() if n > 1]
        problems += [f"{n} credit notes {ref}" for ref, n in seen.notes.items() if n > 1]
        problems += [f"{n} invoices for sale order {so}" for so, n in seen.invoices.items() if n > 1]
        problems += [f"{n} customers {b}" for b, n in seen.customers.items() if n > 1]
        for f in self.fates:
            problems += self._order_problems(f, seen, final=final)
        return problems

    def _order_problems(self, f: Fate, seen: Seen, *, final: bool) -> list[str]:
        ref, found = self.shop.increment(f.order_id), []
        sale_order = seen.sale_order_ids.get(ref)
        if seen.shipments[f.order_id] > len(f.dispatches):
            found.append(f"order {ref}: {seen.shipments[f.order_id]} shipments for {len(f.dispatches)} dispatches")
        if f.memo_before is not None and seen.notes[self._reference(f.memo_before)]:
            found.append(f"order {ref}: a credit note for a refund before fulfilment")
        if not f.dispatches and sale_order and seen.invoices[sale_order]:
            found.append(f"order {ref}: invoiced although nothing was dispatched")
        if not final:
            return found
        if seen.orders[ref] != 1:
            return [*found, f"order {ref}: {seen.orders[ref]} Stokly orders"]
        missing = [t for t in f.dispatches if not seen.tracks[t]]
        if missing:
            found.append(f"order {ref}: dispatches {missing} not in Magento")
        if f.memo_after is not None and seen.notes[self._reference(f.memo_after)] != 1:
            found.append(f"order {ref}: credit memo {f.memo_after} has no credit note")
        if f.cancelled and self._stokly_cancelled(f.order_id) != f.cancelled:
            found.append(f"order {ref}: cancelled {self._stokly_cancelled(f.order_id)} != {f.cancelled}")
        if f.dispatches and sale_order and seen.invoices[sale_order] != 1:
            found.append(f"order {ref}: not invoiced once")
        return found

    def _reference(self, memo_id: int) -> str:
        return self.shop.memo_reference(memo_id)
