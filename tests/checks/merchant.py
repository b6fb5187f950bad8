"""A synthetic merchant with known ground truth: every failure mode injected several times,
next to clean records and records still in flight.

``build()`` returns the two snapshots, the ledger view and ``EXPECTED``: every finding
the registered checks must report, as ``(check, subject) -> (severity, measures)``.
Orders that are not about stock carry the SKU ``ORDERED``, which no source item holds,
so each scenario touches only the checks it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tests.checks.factories import (
    CHANNEL,
    HOUR,
    MINUTE,
    NOW,
    D,
    channel,
    dispatch,
    entry,
    inc,
    invoice,
    item,
    level,
    line,
    listing,
    location,
    memo,
    note,
    order,
    product,
    sale_order,
    shipment,
    so_line,
    source_item,
)
from watchdog.findings import Severity
from watchdog.model import LedgerView, MagentoSnapshot, StoklySnapshot

C, W = Severity.CRITICAL, Severity.WARNING
CONFIG: dict[str, dict[str, Any]] = {"unlocated_stock": {"ignore_locations": ["shop"]}}
Expected = dict[tuple[str, str], tuple[Severity, dict[str, Decimal | int]]]


@dataclass
class Merchant:
    products: list[Any] = field(default_factory=list)
    source_items: list[Any] = field(default_factory=list)
    orders: list[Any] = field(default_factory=list)
    shipments: list[Any] = field(default_factory=list)
    memos: list[Any] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)
    levels: list[Any] = field(default_factory=list)
    listings: list[Any] = field(default_factory=list)
    sale_orders: list[Any] = field(default_factory=list)
    dispatches: list[Any] = field(default_factory=list)
    invoices: list[Any] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)

    def fulfilled(self, n: int, *, state: str = "complete", age: timedelta = 40 * HOUR) -> None:
        """Order ``n`` as it should be: imported, dispatched with tracking, shipped and invoiced."""
        self.orders.append(order(n, line(1, "ORDERED", 1, shipped=1), state=state, age=age + HOUR))
        self.sale_orders.append(sale_order(inc(n), so_line("l1", "ORDERED", 1, status="dispatched"), age=age + HOUR))
        self.dispatches.append(dispatch(f"d{n}", inc(n), f"T{n}", ("l1", 1), age=age))
        self.shipments.append(shipment(n, n, f"T{n}", age=age))
        self.invoices.append(invoice(f"inv{n}", inc(n), issued=NOW - age + HOUR))

    def imported(self, n: int, *, age: timedelta = HOUR, total: str = "0", tax: str = "0",
                 so_total: str | None = None, so_tax: str | None = None, allocated: str | None = "loc-main") -> None:
        """Order ``n`` imported into Stokly, not dispatched yet."""
        self.orders.append(order(n, line(1, "ORDERED", 1), age=age, grand_total=total, tax=tax))
        self.sale_orders.append(sale_order(inc(n), so_line("l1", "ORDERED", 1), age=age, total=so_total or total,
                                           tax=so_tax or tax, location=allocated))


def _catalogue(m: Merchant, expected: Expected) -> None:
    for n in range(1, 13):
        sku = f"SKU-{n:03d}"
        m.products.append(product(n, sku))
        m.items.append(item(sku))
        m.listings.append(listing(sku))
        m.levels.append(level(sku, 10))
    magento_qty = {3: 15, 4: 7, 5: 12, 6: 20}  # 6 is in flight: an order for it moved 5 minutes ago
    for n in range(1, 13):
        m.source_items.append(source_item(f"SKU-{n:03d}", magento_qty.get(n, 10)))
    m.orders.append(order(104, line(1, "SKU-006", 1), age=5 * MINUTE))
    for n, diff in ((3, 5), (4, -3), (5, 2)):
        expected[("stock_divergence", f"sku:SKU-{n:03d}")] = (C if diff > 0 else W, {
            "magento_qty": D(10 + diff), "expected_qty": D(10), "stokly_available": D(10),
            "open_imported_qty": D(0), "difference": D(diff), "units": D(abs(diff))})


def _sku_mismatches(m: Merchant, expected: Expected) -> None:
    m.products += [product(50, "abc-near"), product(51, "UNKNOWN-1"), product(52, "UNKNOWN-2"),
                   product(53, "BUNDLE-DYN", type_id="bundle", dynamic=True),
                   product(54, "BUNDLE-FIX", type_id="bundle"), product(55, "OLD", status=2)]
    m.items += [item("ABC-NEAR"), item("ONLY-STOKLY")]
    m.listings += [listing("ONLY-STOKLY"), listing("ELSEWHERE", channel="ch-ebay")]
    for sku, near in (("abc-near", 1), ("UNKNOWN-1", 0), ("UNKNOWN-2", 0), ("BUNDLE-DYN", 0), ("ONLY-STOKLY", 0)):
        expected[("sku_mismatch", f"sku:{sku}")] = (W, {"near_miss": near})


def _orders(m: Merchant, expected: Expected) -> None:
    m.orders += [order(101, line(1, "ORDERED", 1), grand_total="24.00", tax="4.00"),
                 order(102, line(1, "ORDERED", 2), grand_total="36.50", tax="6.08", age=90 * MINUTE),
                 order(103, line(1, "ORDERED", 1), grand_total="12.00", tax="2.00", age=3 * HOUR),
                 order(105, line(1, "ORDERED", 1), age=5 * MINUTE),  # in flight
                 order(106, line(1, "ORDERED", 1), state="pending_payment"),  # not importable
                 order(107, line(1, "ORDERED", 1), age=10 * HOUR)]
    m.sale_orders += [sale_order(inc(107), age=10 * HOUR), sale_order("000000199", total="9.99", tax="1.66",
                                                                       age=2 * HOUR),
                      sale_order("000000198", age=50 * HOUR)]  # older than any Magento order read: not judged
    expected[("missing_orders", "order:000000101")] = (W, {"grand_total": D("24.00"), "tax": D("4.00")})
    expected[("missing_orders", "order:000000102")] = (W, {"grand_total": D("36.50"), "tax": D("6.08")})
    expected[("missing_orders", "order:000000103")] = (C, {"grand_total": D("12.00"), "tax": D("2.00")})
    expected[("missing_orders", "order:000000199")] = (W, {"grand_total": D("9.99"), "tax": D("1.66")})


def _tracking(m: Merchant, expected: Expected) -> None:
    m.orders += [order(110, line(1, "ORDERED", 1, shipped=1), state="complete", age=5 * HOUR),
                 order(111, line(1, "ORDERED", 2), age=5 * HOUR),
                 order(113, line(1, "ORDERED", 1), age=5 * HOUR)]
    m.sale_orders += [sale_order(inc(n), so_line("l1", "ORDERED", 2), age=5 * HOUR) for n in (110, 111, 113)]
    m.dispatches += [dispatch("d110", inc(110), "RM110GB", ("l1", 1)),
                     dispatch("d111", inc(111), "RM111GB", ("l1", 2)),
                     dispatch("d113", inc(113), "RM113GB", ("l1", 1), age=10 * MINUTE)]  # in flight
    m.shipments.append(shipment(9110, 110))  # made by hand, without tracking
    m.fulfilled(112)
    expected[("rejected_tracking", "dispatch:d110")] = (W, {"units": D(1)})
    expected[("rejected_tracking", "dispatch:d111")] = (W, {"units": D(2)})


def _status_drift(m: Merchant, expected: Expected) -> None:
    m.orders += [order(120, line(1, "ORDERED", 1), age=5 * HOUR), order(121, line(1, "ORDERED", 3), age=5 * HOUR),
                 order(123, line(1, "ORDERED", 1), age=5 * HOUR)]
    m.sale_orders += [sale_order(inc(n), so_line("l1", "ORDERED", 3), age=5 * HOUR) for n in (120, 121, 123)]
    m.dispatches += [dispatch("d120", inc(120), "", ("l1", 1)), dispatch("d121", inc(121), "", ("l1", 2)),
                     dispatch("d123", inc(123), "", ("l1", 1), age=HOUR)]  # in flight
    m.fulfilled(122)
    expected[("order_status_drift", "order:000000120")] = (W, {"units": D(1), "stokly_dispatched": D(1),
                                                               "magento_shipped": D(0)})
    expected[("order_status_drift", "order:000000121")] = (W, {"units": D(2), "stokly_dispatched": D(2),
                                                               "magento_shipped": D(0)})


def _postings(m: Merchant, expected: Expected) -> None:
    m.fulfilled(130, age=2 * HOUR)
    m.invoices[-1] = invoice("inv130", inc(130), issued=NOW - 5 * HOUR, total="30", tax="5")
    m.imported(131)
    m.invoices.append(invoice("inv131", inc(131), issued=NOW - 3 * HOUR, total="20", tax="3.33"))
    m.fulfilled(132, age=30 * HOUR)
    m.invoices.pop()  # dispatched 30 hours ago, never invoiced
    m.fulfilled(133, age=30 * HOUR)
    m.imported(134)
    m.invoices.append(invoice("inv134", inc(134), issued=NOW - 10 * MINUTE))  # in flight
    expected[("posting_sequence", "invoice:inv130")] = (W, {"amount": D("30"), "tax": D("5")})
    expected[("posting_sequence", "invoice:inv131")] = (W, {"amount": D("20"), "tax": D("3.33")})
    expected[("posting_sequence", "order:000000132")] = (W, {"amount": D("0"), "tax": D("0")})


def _refunds(m: Merchant, expected: Expected) -> None:
    for n in range(150, 156):
        m.fulfilled(n, state="closed")
    m.invoices = [i for i in m.invoices if i.sale_invoice_id != "inv155"]  # order 155: never invoiced in Stokly
    m.memos += [memo(140, 150, total="24.00", tax="4.00"), memo(141, 151, total="60.00", tax="10.00", age=48 * HOUR),
                memo(142, 152, total="12.00", tax="2.00"), memo(143, 153, total="18.00", tax="3.00"),
                memo(144, 154, total="6.00", tax="1.00", age=10 * MINUTE), memo(145, 155, total="6", tax="1")]
    m.notes += [note(inc(142), amount="12.00", vat="1.50"), note(inc(143), amount="18.00", vat="3.00")]
    expected[("missing_credit_notes", "creditmemo:000000140")] = (W, {"vat": D("4.00"), "amount": D("24.00")})
    expected[("missing_credit_notes", "creditmemo:000000141")] = (C, {"vat": D("10.00"), "amount": D("60.00")})
    expected[("missing_credit_notes", "creditmemo:000000142")] = (W, {"vat": D("0.50"), "amount": D("0.00")})
    expected[("posting_sequence", "order:000000155")] = (W, {"amount": D("0"), "tax": D("0")})


def _locations(m: Merchant, expected: Expected) -> None:
    m.levels += [level("SKU-001", 4, location="wh2"), level("SKU-002", 0, location="wh2"),
                 level("SKU-003", 6, location="wh3"), level("SKU-004", 1, location="wh3"),
                 level("SKU-005", 9, location="shop")]
    m.imported(160, allocated=None)
    m.imported(161, allocated=None, age=5 * MINUTE)  # in flight (and inside missing_orders' settle: imported)
    expected[("unlocated_stock", "location:wh2")] = (W, {"units": D(4), "skus": 1})
    expected[("unlocated_stock", "location:wh3")] = (W, {"units": D(7), "skus": 2})
    expected[("unlocated_stock", "order:000000160")] = (W, {"units": D(1)})


def _totals(m: Merchant, expected: Expected) -> None:
    m.imported(170, total="24.00", tax="4.00", so_total="20.00")
    m.imported(171, total="24.00", tax="4.00", so_total="23.50", so_tax="3.50")
    m.imported(172, total="24.00", tax="4.00")
    m.imported(173, total="24.00", tax="4.00", so_total="1.00", age=5 * MINUTE)  # in flight
    expected[("order_totals_mismatch", "order:000000170")] = (W, {"difference": D("4.00"),
                                                                  "tax_difference": D("0.00")})
    expected[("order_totals_mismatch", "order:000000171")] = (C, {"difference": D("0.50"),
                                                                  "tax_difference": D("0.50")})


def _ledger(expected: Expected) -> LedgerView:
    expected[("stale_stock_push", "flow:stock")] = (W, {"last_success_timestamp": int((NOW - HOUR).timestamp())})
    expected[("sync_dead_letters", "ledger:orders:9001")] = (C, {"attempts": 8})
    expected[("sync_dead_letters", "ledger:stock:SKU-X")] = (W, {"attempts": 2})
    return LedgerView(last_success={"stock": NOW - HOUR, "orders": NOW - MINUTE},
                      entries=(entry("orders", "9001", "dead"), entry("stock", "SKU-X", "quarantined", attempts=2),
                               entry("fulfilment", "d-x", "failed")))


def build() -> tuple[MagentoSnapshot, StoklySnapshot, LedgerView, Expected]:
    """The merchant's snapshots, ledger view and the findings they must give."""
    m, expected = Merchant(), Expected()
    for part in (_catalogue, _sku_mismatches, _orders, _tracking, _status_drift, _postings, _refunds, _locations,
                 _totals):
        part(m, expected)
    magento = MagentoSnapshot(taken_at=NOW, source_code="stokly_main", stock_id=1, products=tuple(m.products),
                              sources=(), source_items=tuple(m.source_items), orders=tuple(m.orders),
                              shipments=tuple(m.shipments), credit_memos=tuple(m.memos), invoices=())
    stokly = StoklySnapshot(taken_at=NOW, channel_id=CHANNEL, location_id=None,
                            channel=channel(), items=tuple(m.items),
                            locations=(location("loc-main"), location("wh2"), location("wh3"), location("shop")),
                            stock_levels=tuple(m.levels), listings=tuple(m.listings),
                            sale_orders=tuple(m.sale_orders), dispatches=tuple(m.dispatches),
                            invoices=tuple(m.invoices), credit_notes=tuple(m.notes))
    return magento, stokly, _ledger(expected), expected
