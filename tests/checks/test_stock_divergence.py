"""stock_divergence as a pure function: snapshots in, findings out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from checks.stock_divergence import StockDivergence
from tests.checks.factories import LOC, context, line, order, sale_order
from watchdog.findings import NotEvaluated, Severity
from watchdog.model import Item, SourceItem, StockLevel
from watchdog.stockmath import open_imported_quantities

D = Decimal
ITEMS = [Item(item_id="i-a", sku="A", name="A"), Item(item_id="i-b", sku="B", name="B"),
         Item(item_id="i-c", sku="C", name="C")]


def si(sku: str, qty: int, source: str = "stokly_main") -> SourceItem:
    return SourceItem(sku=sku, source_code=source, quantity=D(qty))


def lvl(item: str, sku: str, on_hand: int, allocated: int = 0, location: str = LOC) -> StockLevel:
    return StockLevel(item_id=item, sku=sku, location_id=location, on_hand=D(on_hand), allocated=D(allocated))


def test_agreeing_systems_give_nothing() -> None:
    ctx = context(source_items=[si("A", 5), si("B", 0)], levels=[lvl("i-a", "A", 5)], items=ITEMS)
    assert list(StockDivergence().run(ctx)) == []


def test_magento_higher_is_critical_oversell_with_units() -> None:
    ctx = context(source_items=[si("A", 9)], levels=[lvl("i-a", "A", 5)], items=ITEMS)
    [finding] = StockDivergence().run(ctx)
    assert finding.subject == "sku:A"
    assert finding.severity is Severity.CRITICAL
    assert finding.measures["units"] == D(4)
    assert finding.measures["difference"] == D(4)
    assert finding.measures["expected_qty"] == D(5)
    assert "oversell" in finding.summary


def test_magento_lower_is_a_warning() -> None:
    ctx = context(source_items=[si("A", 1)], levels=[lvl("i-a", "A", 5)], items=ITEMS)
    [finding] = StockDivergence().run(ctx)
    assert finding.severity is Severity.WARNING
    assert finding.measures["difference"] == D(-4)


def test_imported_unshipped_orders_are_added_back_but_not_imported_ones() -> None:
    # Stokly allocated 2 for imported order 1 (available 3); order 2 (1 unit) is not imported yet.
    orders = [order(1, line(10, "A", 2)), order(2, line(20, "A", 1))]
    ctx = context(source_items=[si("A", 5)], levels=[lvl("i-a", "A", 5, allocated=2)], items=ITEMS,
                  orders=orders, sale_orders=[sale_order("000000001")])
    assert list(StockDivergence().run(ctx)) == []


def test_configurable_parent_and_child_count_once_and_bundle_parent_not_at_all() -> None:
    o = order(1, line(10, "A", 2, ptype="configurable"), line(11, "A", 2, parent=10),
              line(12, "BUNDLE-B-C", 1, ptype="bundle"), line(13, "B", 1, parent=12), line(14, "C", 1, parent=12))
    assert open_imported_quantities([o], [sale_order("000000001")]) == {"A": D(2), "B": D(1), "C": D(1)}


def test_in_flight_skus_and_unknown_skus_and_other_sources_are_skipped() -> None:
    recent = order(3, line(30, "A", 1), age=timedelta(minutes=1))
    ctx = context(source_items=[si("A", 50), si("ZZZ", 3), si("B", 7, source="other")],
                  levels=[lvl("i-a", "A", 5)], items=ITEMS, orders=[recent])
    assert list(StockDivergence().run(ctx)) == []


def test_tolerance_is_respected() -> None:
    ctx = context(source_items=[si("A", 6)], levels=[lvl("i-a", "A", 5)], items=ITEMS,
                  config={"tolerance_units": 1})
    assert list(StockDivergence().run(ctx)) == []


def test_without_a_designated_location_it_cannot_evaluate() -> None:
    ctx = context(source_items=[si("A", 6)], items=ITEMS, location=None)
    with pytest.raises(NotEvaluated):
        list(StockDivergence().run(ctx))


def test_a_missing_snapshot_part_is_not_evaluated_rather_than_all_clear() -> None:
    ctx = context(items=ITEMS)
    ctx = type(ctx)(**{**ctx.__dict__, "magento": type(ctx.magento)(taken_at=ctx.now, source_code="stokly_main",
                                                                      stock_id=1, orders=())})
    with pytest.raises(NotEvaluated, match=r"magento\.source_items"):
        list(StockDivergence().run(ctx))
