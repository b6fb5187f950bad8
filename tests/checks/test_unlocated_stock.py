"""unlocated_stock as a pure function."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checks.unlocated_stock import UnlocatedStock
from tests.checks.factories import (
    CHANNEL,
    LOC,
    MINUTE,
    D,
    channel,
    ctx_of,
    level,
    location,
    sale_order,
    so_line,
    stokly_snapshot,
)
from watchdog.findings import NotEvaluated, Severity


def run(**stokly: object) -> list:
    config = stokly.pop("config", None)
    return list(UnlocatedStock().run(ctx_of(stokly=stokly_snapshot(**stokly), config=config)))  # type: ignore[arg-type]


def test_stock_at_the_designated_location_and_allocated_orders_give_nothing() -> None:
    assert run(stock_levels=[level("A", 5)], sale_orders=[sale_order("000000001", so_line("l1", "A", 1))]) == []


def test_no_designated_location_is_one_critical_finding_for_the_channel() -> None:
    levels = [level("A", 5, location="wh2"), level("B", 3, location="wh3"), level("C", 0, location="wh3")]
    [f] = run(channel=channel(None), locations=[location("wh2"), location("wh3")], stock_levels=levels)
    assert (f.subject, f.severity) == (f"channel:{CHANNEL}", Severity.CRITICAL)
    assert f.measures == {"units": D(8), "locations": 2}
    assert "no designated Stokly location" in f.summary


@pytest.mark.parametrize(("locations", "words"), [([], "does not exist"), ([location(LOC, status=1)], "inactive")])
def test_a_designated_location_that_is_gone_or_inactive(locations: list, words: str) -> None:
    [f] = run(locations=locations)
    assert f.severity is Severity.CRITICAL
    assert words in f.summary


def test_stock_elsewhere_is_one_warning_per_location_unless_ignored() -> None:
    levels = [level("A", 5), level("A", 2, location="wh2"), level("B", 1, location="wh2"),
              level("A", 9, location="shop")]
    [f] = run(locations=[location(LOC), location("wh2"), location("shop")], stock_levels=levels,
              config={"ignore_locations": ["shop"]})
    assert (f.subject, f.measures) == ("location:wh2", {"units": D(3), "skus": 2})


def test_a_configured_location_that_differs_from_allocate_sold_is_a_warning() -> None:
    [f] = run(location_id="wh2", locations=[location(LOC), location("wh2")])
    assert (f.subject, f.severity) == (f"channel:{CHANNEL}", Severity.WARNING)


def test_an_unallocated_order_with_open_lines_after_settle() -> None:
    orders = [sale_order("000000001", so_line("l1", "A", 2), so_line("l2", "B", 1, cancelled=1), location=None),
              sale_order("000000002", so_line("l1", "A", 1), location=None, age=5 * MINUTE),
              sale_order("000000003", so_line("l1", "A", 1, status="dispatched"), location=None)]
    [f] = run(sale_orders=orders)
    assert (f.subject, f.measures) == ("order:000000001", {"units": D(2)})


def test_without_the_channel_and_no_configured_location_it_cannot_say() -> None:
    with pytest.raises(NotEvaluated, match=r"stokly\.channel"):
        run(channel=None)


def test_a_configured_location_works_without_the_channel() -> None:
    assert run(channel=None, location_id=LOC, sale_orders=[sale_order("1", age=timedelta(hours=1))]) == []
