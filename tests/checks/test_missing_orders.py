"""missing_orders as a pure function."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checks.missing_orders import MissingOrders
from tests.checks.factories import (
    HOUR,
    MINUTE,
    D,
    ctx_of,
    entry,
    inc,
    line,
    magento_snapshot,
    order,
    sale_order,
    stokly_snapshot,
)
from watchdog.findings import NotEvaluated, Severity
from watchdog.model import LedgerView


def run(orders: list, sale_orders: list, **kw: object) -> list:
    ctx = ctx_of(magento_snapshot(orders=orders), stokly_snapshot(sale_orders=sale_orders), **kw)  # type: ignore[arg-type]
    return list(MissingOrders().run(ctx))


def test_imported_orders_give_nothing() -> None:
    assert run([order(1, line(1, "A", 1))], [sale_order(inc(1))]) == []


def test_an_unimported_order_after_settle_is_a_warning_with_money() -> None:
    [f] = run([order(7, line(1, "A", 1), grand_total="24.00", tax="4.00", age=30 * MINUTE)], [])
    assert (f.subject, f.severity) == ("order:000000007", Severity.WARNING)
    assert f.measures == {"grand_total": D("24.00"), "tax": D("4.00")}
    assert f.links["magento"].endswith("/sales/order/view/order_id/7/")


def test_it_turns_critical_after_critical_after() -> None:
    [f] = run([order(7, age=3 * HOUR)], [])
    assert f.severity is Severity.CRITICAL


def test_orders_in_flight_or_not_importable_are_skipped() -> None:
    orders = [order(1, age=5 * MINUTE), order(2, state="pending_payment"), order(3, state="canceled")]
    assert run(orders, []) == []


def test_import_states_and_settle_come_from_config() -> None:
    orders = [order(1, age=5 * MINUTE), order(2, state="new")]
    found = run(orders, [], config={"settle": "1m", "import_states": ["processing", "new"]})
    assert sorted(f.subject for f in found) == ["order:000000001", "order:000000002"]


def test_a_removed_sale_order_does_not_count_as_imported() -> None:
    [f] = run([order(1)], [sale_order(inc(1), stage="removed")])
    assert f.subject == "order:000000001"


def test_the_sync_workers_error_is_named() -> None:
    ledger = LedgerView(entries=(entry("orders", "1", "quarantined", error="unknown SKU 'ZZ'"),))
    [f] = run([order(1)], [], ledger=ledger)
    assert "unknown SKU 'ZZ'" in f.summary


def test_a_stokly_order_without_magento_order_is_reported_inside_the_window() -> None:
    orders = [order(1, age=10 * HOUR)]
    sale_orders = [sale_order(inc(1)), sale_order("000000999", total="50", tax="8", age=2 * HOUR),
                   sale_order("000000998", age=20 * HOUR)]  # older than anything read from Magento: not judged
    [f] = run(orders, sale_orders)
    assert (f.subject, f.measures) == ("order:000000999", {"grand_total": D("50"), "tax": D("8")})
    assert "does not exist in Magento" in f.summary


def test_other_channels_orders_are_ignored() -> None:
    assert run([order(1, age=10 * HOUR)], [sale_order(inc(1)), sale_order("POS-1", channel="ch-pos")]) == []


def test_without_magento_orders_the_reverse_is_not_judged() -> None:
    assert run([], [sale_order("000000999", age=timedelta(hours=2))]) == []


def test_missing_parts_are_not_evaluated() -> None:
    ctx = ctx_of(magento_snapshot(orders=None))
    with pytest.raises(NotEvaluated, match=r"magento\.orders"):
        list(MissingOrders().run(ctx))
