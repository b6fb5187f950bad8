"""searchCriteria on the simulator: grammar, evaluation, paging, echo, input limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from watchdog.simulators.magento import MagentoState, OrderItemSpec
from watchdog.simulators.magento.fields import parse_fields
from watchdog.simulators.magento.search import apply, parse_search_criteria
from watchdog.simulators.magento.settings import SimSettings


def sc(*filters: tuple[int, int, str, str, str | None], page_size: int | None = None, page: int | None = None,
       sort: tuple[tuple[str, str | None], ...] = (), camel: bool = False) -> list[tuple[str, str]]:
    groups, cond = ("filterGroups", "conditionType") if camel else ("filter_groups", "condition_type")
    params: list[tuple[str, str]] = []
    for g, f, field, value, condition in filters:
        prefix = f"searchCriteria[{groups}][{g}][filters][{f}]"
        params += [(f"{prefix}[field]", field), (f"{prefix}[value]", value)]
        if condition:
            params.append((f"{prefix}[{cond}]", condition))
    for i, (field, direction) in enumerate(sort):
        params.append((f"searchCriteria[sortOrders][{i}][field]", field))
        if direction:
            params.append((f"searchCriteria[sortOrders][{i}][direction]", direction))
    if page_size is not None:
        params.append(("searchCriteria[pageSize]", str(page_size)))
    if page is not None:
        params.append(("searchCriteria[currentPage]", str(page)))
    return params


ROWS = [
    {"id": 1, "sku": "ABC-1", "qty": 5, "tags": "red,blue", "note": None, "at": "2024-05-01 09:00:00"},
    {"id": 2, "sku": "abc-2", "qty": 0, "tags": "green", "note": "x", "at": "2024-05-01 10:00:00"},
    {"id": 3, "sku": "XYZ-3", "qty": 12, "tags": "blue", "note": None, "at": "2024-05-02 09:00:00"},
    {"id": 4, "sku": "XYZ-4", "qty": 7, "tags": "", "note": "y", "at": "2024-05-03 09:00:00"},
]


def ids(query: list[tuple[str, str]], settings: SimSettings | None = None) -> list[int]:
    criteria = parse_search_criteria(query, required=True, settings=settings or SimSettings())
    indexes, _ = apply(ROWS, criteria)
    return [ROWS[i]["id"] for i in indexes]


@pytest.mark.parametrize(("condition", "value", "expected"), [
    ("eq", "abc-1", [1]),  # MySQL's case-insensitive collation
    (None, "XYZ-3", [3]),  # no condition_type means eq
    ("neq", "XYZ-3", [1, 2, 4]),
    ("like", "abc%", [1, 2]),
    ("nlike", "%-3", [1, 2, 4]),
    ("in", "ABC-1,XYZ-4", [1, 4]),
    ("nin", "ABC-1,XYZ-4", [2, 3]),
    ("bogus", "XYZ-4", [4]),  # an unknown condition falls back to eq
])
def test_string_conditions(condition: str | None, value: str, expected: list[int]) -> None:
    assert ids(sc((0, 0, "sku", value, condition))) == expected


@pytest.mark.parametrize(("condition", "value", "expected"), [
    ("gt", "5", [3, 4]), ("gteq", "5", [1, 3, 4]), ("moreq", "7", [3, 4]), ("lt", "5", [2]),
    ("lteq", "5", [1, 2]), ("from", "6", [3, 4]), ("to", "6", [1, 2]),
])
def test_numeric_conditions_compare_numbers_not_strings(condition: str, value: str, expected: list[int]) -> None:
    assert ids(sc((0, 0, "qty", value, condition))) == expected


def test_null_notnull_finset_nfinset_and_dates() -> None:
    assert ids(sc((0, 0, "note", "", "null"))) == [1, 3]
    assert ids(sc((0, 0, "note", "", "notnull"))) == [2, 4]
    assert ids(sc((0, 0, "tags", "blue", "finset"))) == [1, 3]
    assert ids(sc((0, 0, "tags", "blue", "nfinset"))) == [2, 4]
    assert ids(sc((0, 0, "at", "2024-05-01 10:00:00", "gteq"), (1, 0, "at", "2024-05-02 23:59:59", "lteq"))) == [2, 3]


def test_or_inside_a_group_and_across_groups() -> None:
    either = sc((0, 0, "sku", "ABC-1", "eq"), (0, 1, "sku", "XYZ-3", "eq"))
    assert ids(either) == [1, 3]
    both = sc((0, 0, "sku", "ABC-1", "eq"), (0, 1, "sku", "XYZ-3", "eq"), (1, 0, "qty", "10", "gt"))
    assert ids(both) == [3]


def test_camel_case_spelling_is_accepted() -> None:
    assert ids(sc((0, 0, "qty", "5", "gt"), camel=True)) == [3, 4]


def test_sort_defaults_to_descending_and_sorts_stably() -> None:
    assert ids(sc(sort=(("qty", None),))) == [3, 4, 1, 2]
    assert ids(sc(sort=(("qty", "ASC"),))) == [2, 1, 4, 3]
    assert ids(sc(sort=(("note", "ASC"), ("id", "DESC")))) == [3, 1, 2, 4]  # NULL first ascending


def test_paging_is_one_based_and_zero_means_first_page() -> None:
    assert ids(sc(page_size=3, page=1)) == [1, 2, 3]
    assert ids(sc(page_size=3, page=0)) == [1, 2, 3]
    assert ids(sc(page_size=3, page=2)) == [4]
    assert ids(sc(page_size=3, page=9)) == []


def test_without_page_size_everything_comes_back_unless_limits_are_on() -> None:
    bare = [("searchCriteria", "all")]  # a scalar (as some client libraries send) is an empty criteria
    assert ids(bare) == [1, 2, 3, 4]
    assert ids(bare, SimSettings(input_limits=True, default_page_size=2)) == [1, 2]


async def _orders_page(api: httpx.AsyncClient, params: list[tuple[str, str]]) -> httpx.Response:
    return await api.get("/rest/V1/orders", params=params)


@pytest.fixture
def five_orders(state: MagentoState) -> list[int]:
    return [state.place_order([OrderItemSpec("MUG", n)]) for n in range(1, 6)]


async def test_envelope_total_is_unpaged_and_page_past_the_end_is_empty(api: httpx.AsyncClient,
                                                                       five_orders: list[int]) -> None:
    response = await _orders_page(api, sc(page_size=2, page=3))
    body = response.json()
    assert [o["entity_id"] for o in body["items"]] == [5]
    assert body["total_count"] == 5
    past = (await _orders_page(api, sc(page_size=2, page=4))).json()
    assert past["items"] == []
    assert past["total_count"] == 5


async def test_search_criteria_is_echoed_in_snake_case_without_nulls(api: httpx.AsyncClient,
                                                                     five_orders: list[int]) -> None:
    body = (await _orders_page(api, sc((0, 0, "state", "processing", None), sort=(("entity_id", "ASC"),),
                                       camel=True))).json()
    assert body["search_criteria"] == {
        "filter_groups": [{"filters": [{"field": "state", "value": "processing"}]}],
        "sort_orders": [{"field": "entity_id", "direction": "ASC"}],
    }
    assert "page_size" not in body["search_criteria"]


async def test_missing_search_criteria_is_the_exact_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/rest/V1/orders")
    assert response.status_code == 400
    assert response.json() == {"message": '"%fieldName" is required. Enter and try again.',
                               "parameters": {"fieldName": "searchCriteria"}}


async def test_optional_criteria_may_be_absent(api: httpx.AsyncClient) -> None:
    body = (await api.get("/rest/V1/inventory/stocks")).json()
    assert body["search_criteria"] == {"filter_groups": []}
    assert body["items"][0] == {"stock_id": 1, "name": "Default Stock",
                                "extension_attributes": {"sales_channels": [{"type": "website", "code": "base"}]}}


async def test_unknown_filter_column_is_a_masked_500(api: httpx.AsyncClient, five_orders: list[int]) -> None:
    response = await _orders_page(api, sc((0, 0, "no_such_column", "1", None)))
    assert response.status_code == 500
    assert response.json()["message"].startswith("Internal Error. Details are available in Magento log file. "
                                                  "Report ID: webapi-")


async def test_non_numeric_page_size_is_a_type_error(api: httpx.AsyncClient) -> None:
    response = await _orders_page(api, [("searchCriteria[pageSize]", "ten")])
    assert response.status_code == 400
    assert response.json() == {"message": 'The "ten" value\'s type is invalid. The "int" type was expected. '
                                          "Verify and try again."}


class TestInputLimits:
    @pytest.fixture(autouse=True)
    def limits_on(self, state: MagentoState) -> None:
        state.configure(input_limits=True)

    async def test_page_size_above_300_is_refused(self, api: httpx.AsyncClient) -> None:
        response = await _orders_page(api, sc(page_size=301))
        assert response.status_code == 400
        assert response.json() == {"message": "Maximum SearchCriteria pageSize is 300"}
        assert (await _orders_page(api, sc(page_size=300))).status_code == 200

    async def test_default_page_size_is_applied_and_echoed(self, api: httpx.AsyncClient, state: MagentoState) -> None:
        for _ in range(21):
            state.place_order([OrderItemSpec("MUG", 1)])
        body = (await _orders_page(api, [("searchCriteria[currentPage]", "1")])).json()
        assert len(body["items"]) == 20
        assert body["total_count"] == 21
        assert body["search_criteria"]["page_size"] == 20

    async def test_more_than_20_source_items_are_refused(self, api: httpx.AsyncClient) -> None:
        items: list[dict[str, Any]] = [{"sku": f"S{i}", "source_code": "wh1", "quantity": 1, "status": 1}
                                       for i in range(21)]
        response = await api.post("/rest/V1/inventory/source-items", json={"sourceItems": items})
        assert response.status_code == 400
        assert response.json() == {"message": 'Maximum items of type "%type" is %max',
                                   "parameters": {"type": "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface",
                                                  "max": 20}}
        ok = await api.post("/rest/V1/inventory/source-items", json={"sourceItems": items[:20]})
        assert ok.status_code == 200
        assert ok.json() == []

    def test_the_limits_are_off_by_default(self) -> None:
        assert SimSettings().input_limits is False
        assert Decimal(SimSettings().max_page_size) == 300


# ------------------------------------------------------------------ ?fields=


@pytest.mark.parametrize(("spec", "tree"), [
    ("items[sku,extension_attributes[links]],total_count",
     {"items": {"sku": {}, "extension_attributes": {"links": {}}}, "total_count": {}}),
    (" a , b[ c ] ", {"a": {}, "b": {"c": {}}}),
    ("a[b]]", None), ("a[b", None), ("[a]", None), ("", None), (",", None),
])
def test_fields_grammar(spec: str, tree: dict[str, Any] | None) -> None:
    assert parse_fields(spec) == tree


async def test_fields_trim_every_item_and_keep_whole_values(api: httpx.AsyncClient, five_orders: list[int]) -> None:
    fields = "items[entity_id,items[sku],payment],total_count,no_such_field"
    body = (await api.get("/rest/V1/orders", params=[*sc(page_size=2), ("fields", fields)])).json()
    assert set(body) == {"items", "total_count"}
    assert body["total_count"] == 5
    assert all(set(order) == {"entity_id", "items", "payment"} for order in body["items"])
    assert all(list(line) == ["sku"] for order in body["items"] for line in order["items"])
    full = (await api.get("/rest/V1/orders", params=sc(page_size=2))).json()
    assert [o["payment"] for o in body["items"]] == [o["payment"] for o in full["items"]]


async def test_fields_that_do_not_parse_trim_nothing_and_errors_are_never_trimmed(api: httpx.AsyncClient,
                                                                                 five_orders: list[int]) -> None:
    unbalanced = (await api.get("/rest/V1/orders", params=[*sc(page_size=1), ("fields", "items[sku")])).json()
    assert {"items", "search_criteria", "total_count"} <= set(unbalanced)
    missing = await api.get("/rest/V1/orders", params={"fields": "message"})
    assert missing.status_code == 400
    assert missing.json()["parameters"] == {"fieldName": "searchCriteria"}
