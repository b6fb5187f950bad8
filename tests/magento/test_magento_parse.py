"""Parsers never let a KeyError or TypeError escape: any JSON either parses or raises MalformedResponse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchdog.connectors.http import MalformedResponse
from watchdog.connectors.magento_parse import (
    parse_bulk_status,
    parse_credit_memo,
    parse_invoice,
    parse_order,
    parse_page,
    parse_product,
    parse_shipment,
    parse_source,
    parse_source_item,
    parse_track,
    render_error,
)
from watchdog.simulators.magento import BundleOptionSpec, MagentoState, OrderItemSpec, TrackSpec
from watchdog.simulators.magento.views_catalog import product_json

SCALAR = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    SCALAR | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
PARSERS: list[Callable[[Any, str], Any]] = [
    parse_order, parse_shipment, parse_credit_memo, parse_invoice, parse_track, parse_source, parse_source_item,
    parse_bulk_status, parse_page, parse_product,
]


def _samples() -> dict[str, dict[str, Any]]:
    state = MagentoState(seed=1)
    for sku in ("A", "B", "C"):
        state.add_simple(sku)
        state.set_source_item(sku, "default", 10)
    state.add_configurable("CONF", ["A", "B"])
    state.add_bundle("BUN", [BundleOptionSpec("x", ("C",))])
    order_id = state.place_order([OrderItemSpec("CONF", child_sku="A"), OrderItemSpec("BUN", selections=("C",))])
    state.ship(order_id, tracks=[TrackSpec("T1")])
    state.refund(order_id)
    return {"order": state.order_json(order_id), "shipment": state.shipments_json()[0],
            "memo": state.credit_memos_json()[0], "invoice": state.invoices_json()[0],
            "product": product_json(state.products["BUN"], state, with_stock_item=True)}


SAMPLES = _samples()


def _parses_or_reports(parser: Callable[[Any, str], Any], value: Any) -> None:
    """Either a record comes back or a MalformedResponse naming the route; anything else fails the test."""
    route = None
    try:
        parser(value, "GET /V1/x")
    except MalformedResponse as exc:
        route = exc.route
    assert route in (None, "GET /V1/x")


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_arbitrary_json(value: Any) -> None:
    for parser in PARSERS:
        _parses_or_reports(parser, value)
    assert isinstance(render_error(value), str)


def _mutations(record: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [path]
    if isinstance(record, dict):
        for key, value in record.items():
            paths += _mutations(value, (*path, key))
    elif isinstance(record, list):
        for index, value in enumerate(record[:2]):
            paths += _mutations(value, (*path, index))
    return paths


def _replace(record: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(record) if isinstance(record, dict) else list(record)
    copy[path[0]] = _replace(record[path[0]], path[1:], value)
    return copy


BAD_VALUES: list[Any] = [None, 7, -1.5, "x", "", True, [], [1], {}, {"a": None}]


@pytest.mark.parametrize(("name", "parser"), [("order", parse_order), ("shipment", parse_shipment),
                                              ("memo", parse_credit_memo), ("invoice", parse_invoice),
                                              ("product", parse_product)])
def test_every_field_of_real_records_damaged_every_way(name: str, parser: Callable[[Any, str], Any]) -> None:
    record = SAMPLES[name]
    parser(record, "GET /V1/x")  # the undamaged record parses
    for path in _mutations(record):
        for bad in BAD_VALUES:
            _parses_or_reports(parser, _replace(record, path, bad))
