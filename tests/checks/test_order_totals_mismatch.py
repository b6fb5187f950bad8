"""order_totals_mismatch as a pure function."""

from __future__ import annotations

from checks.order_totals_mismatch import OrderTotalsMismatch
from tests.checks.factories import MINUTE, D, ctx_of, inc, magento_snapshot, order, sale_order, so_line, stokly_snapshot
from watchdog.findings import Severity


def run(orders: list, sale_orders: list) -> list:
    ctx = ctx_of(magento_snapshot(orders=orders), stokly_snapshot(sale_orders=sale_orders))
    return list(OrderTotalsMismatch().run(ctx))


def test_equal_totals_and_sub_cent_noise_give_nothing() -> None:
    orders = [order(1, grand_total="24.00", tax="4.00"), order(2, grand_total="10.00", tax="1.67")]
    sale_orders = [sale_order(inc(1), total="24", tax="4"), sale_order(inc(2), total="10.004", tax="1.666")]
    assert run(orders, sale_orders) == []


def test_a_total_difference_is_a_warning_and_a_tax_difference_critical() -> None:
    orders = [order(1, grand_total="24.00", tax="4.00"), order(2, grand_total="24.00", tax="4.00")]
    sale_orders = [sale_order(inc(1), total="20.00", tax="4.00"), sale_order(inc(2), total="24.00", tax="3.99")]
    found = {f.subject: f for f in run(orders, sale_orders)}
    assert found["order:000000001"].measures == {"difference": D("4.00"), "tax_difference": D("0.00")}
    assert found["order:000000001"].severity is Severity.WARNING
    assert found["order:000000002"].measures == {"difference": D("0.00"), "tax_difference": D("0.01")}
    assert found["order:000000002"].severity is Severity.CRITICAL


def test_an_amended_order_may_total_the_grand_total_less_refunds() -> None:
    orders = [order(1, grand_total="24.00", tax="4.00", refunded="12.00")]
    sale_orders = [sale_order(inc(1), so_line("l1", "A", 2, cancelled=1), total="12.00", tax="4.00")]
    assert run(orders, sale_orders) == []


def test_recent_and_unmatched_orders_are_skipped() -> None:
    orders = [order(1, grand_total="5", age=5 * MINUTE), order(2, grand_total="5")]
    assert run(orders, [sale_order(inc(1)), sale_order("000000404", total="9")]) == []
