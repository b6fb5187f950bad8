"""The filter language of the Stokly simulator (reference section 4)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchdog.simulators.stokly.filters import And, Compare, FilterError, Literal, Node, Op, Or, matches, parse, render

ROW = {
    "sku": "ABC-1", "niceId": 42, "status": 0, "stage": "order", "binId": "UNASSIGNED", "parentId": None,
    "itemStatuses": ["unprocessed", "collected"], "tags": ["magento"], "createdAt": "2025-05-12T09:14:03.000Z",
    "name": "Merino Crew - Navy", "zero": "007", "flag": True,
}


@pytest.mark.parametrize(("text", "expected"), [
    ("[sku]=={ABC-1}", True),
    ("[sku]=={abc-1}", False),  # case-sensitive (assumed)
    ("[sku]=={@string;ABC-1}", True),
    ("[sku]!={ABC-1}", False),
    ("[niceId]=={42}", True),
    ("[niceId]=={42.0}", True),
    ("[niceId]=={@string;42}", True),
    ("[zero]=={@string;007}", True),
    ("[zero]=={7}", False),  # a string field compares as text
    ("[status]=*{1,0,2}", True),
    ("[stage]=*{quote, removed}", False),
    ("[itemStatuses]::{unprocessed}", True),
    ("[itemStatuses]!:{cancelled}", True),
    ("[tags]::{magento}", True),
    ("[name]::{Navy}", True),
    ("[name]!:{Navy}", False),
    ("[niceId]>>{41}", True),
    ("[niceId]<<{41}", False),
    ("[niceId]>={42}", True),
    ("[niceId]<={41.5}", False),
    ("[createdAt]>={2025-05-12T09:00}", True),
    ("[createdAt]<<{2025-05-12T09:14:03.001Z}", True),
    ("[createdAt]>>{2025-05-12T10:14:03+01:00}", False),  # same instant, other offset
    ("[parentId]=={@null;}", True),
    ("[parentId]!={@null;}", False),
    ("[missing]=={@null;}", True),
    ("[missing]!={x}", False),
    ("[binId]=={UNASSIGNED}", True),
    ("[flag]=={true}", True),
    ("[stage]=={order}&&[status]=={0}", True),
    ("[stage]=={order}&&[status]=={1}", False),
    ("[stage]=={quote}||[status]=={0}", True),
    ("[stage]=={quote}||[status]=={1}&&[sku]=={ABC-1}", False),  # && binds tighter (assumed)
    ("([stage]=={quote}||[status]=={0})&&[sku]=={ABC-1}", True),
    ("(([stage]=={order}&&[itemStatuses]::{unprocessed}))&&([stage]!={removed})", True),
    (" ( [sku] == {ABC-1} ) ", True),
])
def test_matches(text: str, expected: bool) -> None:
    assert matches(parse(text), ROW) is expected


@pytest.mark.parametrize(("text", "position"), [
    ("", 0),
    ("[sku]", 5),
    ("[sku]=={ABC", 11),
    ("[sku]~={ABC}", 5),
    ("sku=={ABC}", 0),
    ("{sku}==[ABC]", 0),  # the 2021 syntax is refused
    ("[sku]=={A}&&", 12),
    ("([sku]=={A}", 11),
    ("[sku]=={A})", 10),
    ("[sku]=={@null;x}", 8),
    ("[sku]=={@number;1}", 8),
    ("[sku]=={@string}", 8),
    ("[]=={1}", 1),
])
def test_bad_filters_raise_a_typed_error_with_position(text: str, position: int) -> None:
    with pytest.raises(FilterError) as caught:
        parse(text)
    assert caught.value.position == position
    assert "position" in str(caught.value)


def test_deep_nesting_is_refused_not_crashed() -> None:
    with pytest.raises(FilterError, match="nests too deeply"):
        parse("(" * 500 + "[a]=={1}" + ")" * 500)


FILTER_ALPHABET = st.sampled_from([*list("[]{}()=!*:<>&|@;, ab01.-Znulstrig"), "&&", "||", "@null;", "@string;"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(FILTER_ALPHABET, max_size=40).map("".join)))
def test_parser_never_raises_anything_but_its_own_error(text: str) -> None:
    try:
        node = parse(text)
    except FilterError:
        return
    matches(node, ROW)


names = st.text(st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), min_size=1,
                max_size=8).filter(lambda s: s.strip() != "")
plain = st.text(st.characters(blacklist_characters="}", blacklist_categories=("Cs",)), max_size=8).filter(
    lambda s: not s.startswith("@"))
literals = st.one_of(plain.map(Literal), plain.map(lambda s: Literal(s, "string")), st.just(Literal("", "null")))
compares = st.builds(Compare, names, st.sampled_from(list(Op)), literals)
nodes: st.SearchStrategy[Node] = st.recursive(
    compares,
    lambda kids: st.one_of(st.lists(kids, min_size=2, max_size=3).map(lambda k: And(tuple(k))),
                           st.lists(kids, min_size=2, max_size=3).map(lambda k: Or(tuple(k)))),
    max_leaves=8,
)
json_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=10), st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=200, deadline=None)
@given(nodes, st.dictionaries(names, json_values, max_size=4))
def test_render_parse_round_trip_and_total_evaluation(node: Node, record: dict[str, Any]) -> None:
    assert parse(render(node)) == node
    assert isinstance(matches(node, record), bool)
