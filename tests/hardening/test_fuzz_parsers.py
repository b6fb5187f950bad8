"""Every connector parser, fuzzed: whatever an upstream sends, a record or one typed, clear error.

Three kinds of input for each parser of ``magento_parse``, ``magento_json`` and ``stokly_parse``:
arbitrary JSON (hypothesis); the simulators' real records with every field replaced by every
kind of wrong value; and hostile strings (very long, control characters, a fake token) in every
string field. Allowed outcomes: a value, or ``MalformedResponse`` whose message is one line,
short, carries the route and never echoes the damaged value. Anything else (KeyError,
TypeError, AttributeError, InvalidOperation, RecursionError...) fails.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchdog.connectors import magento_json as mj
from watchdog.connectors import magento_parse as mp
from watchdog.connectors import stokly_parse as sp
from watchdog.connectors.http import ErrorKind, MalformedResponse, to_decimal
from watchdog.simulators.magento.views_catalog import product_json, source_item_json
from watchdog.simulators.merchant import build_merchant
from watchdog.simulators.scenario import Injection, ScenarioSpec
from watchdog.simulators.stokly import views_catalog as svc
from watchdog.simulators.stokly import views_sales as svs

ROUTE = "GET /fuzzed/{id}"
CANARY = "xoxb-CANARY-" + "Z" * 400  # a hostile value: an error may quote it, never whole
SCALAR = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
          | st.sampled_from(["", "0", "-1", "1e999", "NaN", "2026-13-45 25:61:61", "Infinity", CANARY]))
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=20)
BAD_VALUES: list[Any] = [None, 0, -1, 10**30, -2.5, float("nan"), float("inf"), True, "", "x", CANARY, "1e999",
                         "9" * 5000, "\u00b2", "2026-02-30T25:00:00Z", [], [None], [CANARY], {}, {"a": CANARY}]

MAGENTO: dict[str, Callable[[Any, str], Any]] = {
    "order": mp.parse_order, "shipment": mp.parse_shipment, "memo": mp.parse_credit_memo,
    "invoice": mp.parse_invoice, "track": mp.parse_track, "source": mp.parse_source,
    "source_item": mp.parse_source_item, "bulk_status": mp.parse_bulk_status, "page": mp.parse_page,
    "product": mp.parse_product, "id": mp.parse_id,
}
STOKLY: dict[str, Callable[[Any, str], Any]] = {
    "list_envelope": sp.list_envelope, "single_record": sp.single_record, "created_id": sp.created_id,
    "grant_result": sp.grant_result, "item": sp.parse_item, "component": sp.parse_component,
    "child_id": sp.parse_child_id, "location": sp.parse_location, "bin": sp.parse_bin,
    "stock_level": sp.parse_stock_level, "channel": sp.parse_channel, "listing": sp.parse_listing,
    "customer": sp.parse_customer, "sale_order": sp.parse_sale_order, "line": sp.parse_line,
    "invoice": sp.parse_invoice, "dispatch": sp.parse_dispatch, "credit_note": sp.parse_credit_note,
}
CTX = mj.Ctx(ROUTE, "items[0]")
PRIMITIVES: dict[str, Callable[[Any, str], Any]] = {
    "obj": lambda v, r: mj.obj(v, CTX), "seq": lambda v, r: mj.seq(v, CTX), "integer": lambda v, r: mj.integer(v, CTX),
    "req": lambda v, r: mj.req({"k": v}, "k", CTX), "text": lambda v, r: mj.text({"k": v}, "k", CTX),
    "int_of": lambda v, r: mj.int_of({"k": v}, "k", CTX), "opt_int": lambda v, r: mj.opt_int({"k": v}, "k", CTX),
    "dec": lambda v, r: mj.dec({"k": v}, "k", CTX), "timestamp": lambda v, r: mj.timestamp({"k": v}, "k", CTX),
    "items_of": lambda v, r: mj.items_of({"k": v}, "k", CTX, lambda x, c: mj.obj(x, c)),
}
EVERY_PARSER = {**{f"magento.{k}": v for k, v in MAGENTO.items()}, **{f"stokly.{k}": v for k, v in STOKLY.items()},
                **{f"magento_json.{k}": v for k, v in PRIMITIVES.items()}}


def outcome(parser: Callable[[Any, str], Any], value: Any) -> MalformedResponse | None:
    """None when ``value`` parsed; the error when it was refused clearly. Fails on anything else."""
    error: MalformedResponse | None = None
    try:
        parser(value, ROUTE)
    except MalformedResponse as exc:
        error = exc
    if error is not None:
        message = str(error)
        assert error.route == ROUTE
        assert ROUTE in message
        assert error.system in ("magento", "stokly")
        assert isinstance(error.kind, ErrorKind)
        assert "\n" not in message
        assert len(message) < 300, message
        assert CANARY not in message, message  # quoted at most in part
        assert CANARY not in repr(error)
    return error


# --------------------------------------------------------------------------- arbitrary JSON


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_arbitrary_json_parses_or_is_refused_clearly(value: Any) -> None:
    for parser in EVERY_PARSER.values():
        outcome(parser, value)
    message = mp.render_error(value)
    assert isinstance(message, str)
    assert "\n" not in message


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["items", "total_count", "data", "metadata", "count", "id"]), JSON,
                       max_size=4))
def test_envelopes_with_the_right_keys_and_wrong_values(value: dict[str, Any]) -> None:
    for parser in (mp.parse_page, sp.list_envelope, sp.single_record, sp.created_id):
        outcome(parser, value)
        outcome(parser, {"data": value, "metadata": value})


@settings(max_examples=80, deadline=None)
@given(st.integers() | st.floats() | st.text(max_size=20) | st.decimals(allow_nan=True).map(str))
def test_numbers_become_exact_decimals_or_are_refused(value: Any) -> None:
    """``to_decimal`` (and its cache of made Decimals) gives exactly ``Decimal(str(value))``."""
    try:
        first = to_decimal(value, "qty", system="stokly", route=ROUTE)
    except MalformedResponse as exc:
        refused = str(exc)
    else:
        refused = ""
    if refused:
        assert "'qty'" in refused
        assert CANARY not in refused
        return
    again = to_decimal(value, "qty", system="stokly", route=ROUTE)
    expected = Decimal(str(value))
    assert first.is_finite()
    assert first == expected
    assert str(first) == str(expected) == str(again)


def test_equal_numbers_of_different_types_keep_their_own_form() -> None:
    """1, 1.0 and "1.00" are equal as dict keys but are different Decimals (exponents matter in money)."""
    forms = [str(to_decimal(v, "x", system="magento", route=ROUTE)) for v in (1, 1.0, "1.00", 1, 1.0, "1.00")]
    assert forms == ["1", "1.0", "1.00", "1", "1.0", "1.00"]


# --------------------------------------------------------------------------- real records, damaged


@functools.cache
def samples() -> dict[str, tuple[Callable[[Any, str], Any], Any]]:
    """Real records rendered by both simulators for a small merchant, with the parser of each."""
    spec = ScenarioSpec(simple_skus=8, configurables=1, variants=2, bundles=1, orders=6, shipped_share=1.0,
                        refunded_share=0.5, injections=(Injection("missing_credit_notes"),))
    m = build_merchant(spec, datetime(2026, 11, 26, 12, tzinfo=UTC))
    g, s = m.magento, m.stokly
    stock = svc.StockIndex.read(s)
    order_id = next(iter(g.orders))
    out: dict[str, tuple[Callable[[Any, str], Any], Any]] = {
        "magento.order": (mp.parse_order, g.order_json(order_id)),
        "magento.shipment": (mp.parse_shipment, g.shipments_json()[0]),
        "magento.memo": (mp.parse_credit_memo, g.credit_memos_json()[0]),
        "magento.invoice": (mp.parse_invoice, g.invoices_json()[0]),
        "magento.product": (mp.parse_product, product_json(g.products["KIT-1"], g, with_stock_item=False)),
        "magento.source_item": (mp.parse_source_item, source_item_json(next(iter(g.source_items.values())))),
        "stokly.item": (sp.parse_item, svc.item_json(s, s.items()[0], stock)),
        "stokly.stock_level": (sp.parse_stock_level, next(r for r in svc.inventory_rows(s, stock)
                                                           if r["binId"] == "UNASSIGNED")),
        "stokly.channel": (sp.parse_channel, svc.channel_json(s.channels()[0])),
        "stokly.listing": (sp.parse_listing, svc.listing_json(s, s.listings()[0])),
        "stokly.sale_order": (sp.parse_sale_order, svs.sale_order_json(s, s.sale_orders()[0])),
        "stokly.line": (sp.parse_line, svs.line_json(s, s.sale_orders()[0].lines[0])),
        "stokly.invoice": (sp.parse_invoice, svs.invoice_json(s.invoices()[0])),
        "stokly.dispatch": (sp.parse_dispatch, svs.shipment_json(s.dispatches()[0])),
        "stokly.credit_note": (sp.parse_credit_note, svs.credit_note_json(s.credit_notes()[0])),
    }
    return out


def paths(record: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every member of ``record`` (the first two of each list), depth first."""
    yield path
    if isinstance(record, dict):
        for key, value in record.items():
            yield from paths(value, (*path, key))
    elif isinstance(record, list):
        for index, value in enumerate(record[:2]):
            yield from paths(value, (*path, index))


def replaced(record: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy: Any = dict(record) if isinstance(record, dict) else list(record)
    copy[path[0]] = replaced(record[path[0]], path[1:], value)
    return copy


def removed(record: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        copy: Any = dict(record) if isinstance(record, dict) else list(record)
        del copy[path[0]]
        return copy
    copy = dict(record) if isinstance(record, dict) else list(record)
    copy[path[0]] = removed(record[path[0]], path[1:])
    return copy


@pytest.mark.parametrize("name", sorted(samples()))
def test_every_field_of_a_real_record_damaged_every_way(name: str) -> None:
    parser, record = samples()[name]
    assert outcome(parser, record) is None, "the undamaged record parses"
    refused = 0
    for path in paths(record):
        for bad in BAD_VALUES:
            refused += outcome(parser, replaced(record, path, bad)) is not None
        if path:
            refused += outcome(parser, removed(record, path)) is not None
    assert refused > 0, "some damage is refused (the parser does validate)"


@pytest.mark.parametrize("name", sorted(samples()))
def test_a_refused_field_is_named(name: str) -> None:
    """Removing a required top-level member gives an error naming that member."""
    parser, record = samples()[name]
    for key in record:
        error = outcome(parser, removed(record, (key,)))
        if error is not None:
            assert key in str(error) or "body" in str(error), str(error)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(samples())), st.text(min_size=0, max_size=3000))
def test_hostile_strings_in_every_string_field(name: str, text: str) -> None:
    """Control characters, markup, right-to-left marks and 3 kB strings: parsed as data, or refused."""
    parser, record = samples()[name]
    for path in paths(record):
        if path and isinstance(_at(record, path), str):
            outcome(parser, replaced(record, path, text + CANARY))


def _at(record: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        record = record[key]
    return record
