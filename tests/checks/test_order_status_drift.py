"""order_status_drift as a pure function."""

from __future__ import annotations

from checks.order_status_drift import OrderStatusDrift
from tests.checks.factories import (
    HOUR,
    D,
    ctx_of,
    dispatch,
    inc,
    line,
    magento_snapshot,
    order,
    sale_order,
    shipment,
    so_line,
    stokly_snapshot,
)
from watchdog.findings import Severity


def run(orders: list, dispatches: list, shipments: list = (), sale_lines: tuple = ()) -> list:  # type: ignore[assignment]
    sale_orders = [sale_order(o.increment_id, *sale_lines) for o in orders]
    ctx = ctx_of(magento_snapshot(orders=orders, shipments=list(shipments)),
                 stokly_snapshot(sale_orders=sale_orders, dispatches=dispatches))
    return list(OrderStatusDrift().run(ctx))


def test_dispatched_in_stokly_but_unshipped_in_magento_after_settle() -> None:
    [f] = run([order(1, line(1, "A", 2))], [dispatch("d1", inc(1), "", ("l1", 2), age=3 * HOUR)])
    assert (f.subject, f.severity) == ("order:000000001", Severity.WARNING)
    assert f.measures == {"units": D(2), "stokly_dispatched": D(2), "magento_shipped": D(0)}


def test_shipped_complete_or_recent_orders_give_nothing() -> None:
    shipped = order(1, line(1, "A", 2, shipped=2))
    complete = order(2, line(1, "A", 2), state="complete")
    recent = order(3, line(1, "A", 1))
    dispatches = [dispatch("d1", inc(1), "", ("l1", 2)), dispatch("d2", inc(2), "", ("l1", 2)),
                  dispatch("d3", inc(3), "", ("l1", 1), age=HOUR)]
    assert run([shipped, complete, recent], dispatches) == []


def test_kit_components_are_not_counted_twice() -> None:
    lines = (so_line("kit", "KIT", 1), so_line("c1", "B", 1, parent="kit"), so_line("c2", "C", 1, parent="kit"))
    o = order(1, line(1, "KIT", 1, ptype="bundle", shipped=1), line(2, "B", 1, parent=1), line(3, "C", 1, parent=1))
    assert run([o], [dispatch("d1", inc(1), "", ("kit", 1), ("c1", 1), ("c2", 1))], sale_lines=lines) == []


def test_a_tracked_dispatch_missing_in_magento_is_left_to_rejected_tracking() -> None:
    assert run([order(1, line(1, "A", 1))], [dispatch("d1", inc(1), "RM1", ("l1", 1))]) == []


def test_a_partial_shipment_reports_the_rest() -> None:
    [f] = run([order(1, line(1, "A", 3, shipped=1))], [dispatch("d1", inc(1), "", ("l1", 3))], [shipment(9, 1)])
    assert f.measures["units"] == D(2)
