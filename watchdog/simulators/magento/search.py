"""``searchCriteria``: parse the query string, evaluate against rows, echo in snake_case.

Grammar (``reference/magento-api.md`` section 5): ``searchCriteria[filter_groups][G][filters][F]
[field|value|condition_type]``, ``[sortOrders][S][field|direction]``, ``[pageSize]``,
``[currentPage]``; camelCase and snake_case spellings both work. Filters inside a group are OR,
groups are AND. String comparisons follow MySQL's default case-insensitive collation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cmp_to_key
from typing import Any

from .errors import MAX_PAGE_SIZE, REQUIRED_FIELD, TYPE_INVALID, MagentoError, Phrase, bad_request
from .settings import SimSettings

__all__ = ["Filter", "FilterGroup", "SearchCriteria", "SortOrder", "apply", "parse_search_criteria"]

PREFIX = "searchCriteria"
_ALIASES = {
    "filterGroups": "filter_groups", "conditionType": "condition_type", "sortOrders": "sort_orders",
    "pageSize": "page_size", "currentPage": "current_page",
}
_KEY = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True, slots=True)
class Filter:
    field: str | None
    value: str | None
    condition_type: str | None = None


@dataclass(frozen=True, slots=True)
class FilterGroup:
    filters: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class SortOrder:
    field: str | None
    direction: str | None


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    groups: tuple[FilterGroup, ...] = ()
    sort_orders: tuple[SortOrder, ...] = ()
    page_size: int | None = None
    current_page: int | None = None

    def echo(self) -> dict[str, Any]:
        """The ``search_criteria`` echo: snake_case, null fields omitted (sort fields are required)."""
        body: dict[str, Any] = {"filter_groups": [
            {"filters": [_echo_filter(f) for f in g.filters]} for g in self.groups]}
        if self.sort_orders:
            body["sort_orders"] = [{"field": s.field, "direction": s.direction} for s in self.sort_orders]
        if self.page_size is not None:
            body["page_size"] = self.page_size
        if self.current_page is not None:
            body["current_page"] = self.current_page
        return body


def _echo_filter(f: Filter) -> dict[str, Any]:
    body: dict[str, Any] = {"field": f.field, "value": f.value}
    if f.condition_type is not None:
        body["condition_type"] = f.condition_type
    return body


# ------------------------------------------------------------------ parsing


def parse_search_criteria(query: Sequence[tuple[str, str]], *, required: bool,
                          settings: SimSettings, name: str = PREFIX) -> SearchCriteria | None:
    """The criteria in ``query``; None when absent and optional.

    Raises MagentoError 400: missing required argument, non-integer page values, or (input limits
    on) a page size above the maximum.
    """
    tree: dict[str, Any] = {}
    present = False
    for key, value in query:
        if key == name or key.startswith(name + "["):
            present = True
            _insert(tree, [_ALIASES.get(p, p) for p in _KEY.findall(key[len(name):])], value)
    if not present:
        if required:
            raise bad_request(REQUIRED_FIELD, {"fieldName": name})
        return None
    criteria = _build(tree)
    return _apply_limits(criteria, settings)


def _insert(tree: dict[str, Any], path: list[str], value: str) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if path:
        node[path[-1]] = value


def _indexed(node: Any) -> list[Any]:
    if not isinstance(node, dict):
        return []
    return [node[k] for k in sorted(node, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))]


def _int(node: Mapping[str, Any], key: str) -> int | None:
    raw = node.get(key)
    if raw is None or isinstance(raw, dict):
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        raise bad_request(TYPE_INVALID.format(value=raw, type="int")) from None


def _text(node: Any, key: str) -> str | None:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, str) else None


def _build(tree: dict[str, Any]) -> SearchCriteria:
    groups = tuple(
        FilterGroup(tuple(Filter(_text(f, "field"), _text(f, "value"), _text(f, "condition_type"))
                          for f in _indexed(g.get("filters")) if isinstance(f, dict)))
        for g in _indexed(tree.get("filter_groups")) if isinstance(g, dict)
    )
    sorts = tuple(SortOrder(_text(s, "field"), _text(s, "direction"))
                  for s in _indexed(tree.get("sort_orders")) if isinstance(s, dict))
    return SearchCriteria(groups, sorts, _int(tree, "page_size"), _int(tree, "current_page"))


def _apply_limits(criteria: SearchCriteria, settings: SimSettings) -> SearchCriteria:
    if not settings.input_limits:
        return criteria
    if criteria.page_size is not None and criteria.page_size > settings.max_page_size:
        raise MagentoError(400, Phrase(MAX_PAGE_SIZE.replace("%max", str(settings.max_page_size))))
    if criteria.page_size is None:
        return SearchCriteria(criteria.groups, criteria.sort_orders, settings.default_page_size,
                              criteria.current_page)
    return criteria


# ------------------------------------------------------------------ evaluation

Row = Mapping[str, Any]


class UnknownColumn(Exception):
    """A filter or sort names a column the collection does not have (SQL error -> HTTP 500)."""


def apply(rows: Sequence[Row], criteria: SearchCriteria | None) -> tuple[list[int], int]:
    """Indexes of ``rows`` on the requested page (in order) and the unpaged total.

    Raises UnknownColumn when a filter or sort field is not a column of the rows.
    """
    if criteria is None:
        return list(range(len(rows))), len(rows)
    matched = [i for i, row in enumerate(rows) if all(_group_matches(row, g) for g in criteria.groups)]
    for order in reversed(criteria.sort_orders):
        _sort(matched, rows, order)
    total = len(matched)
    size = criteria.page_size or 0
    if size <= 0:
        return matched, total
    page = max(1, criteria.current_page or 1)
    return matched[(page - 1) * size: page * size], total


def _group_matches(row: Row, group: FilterGroup) -> bool:
    usable = [f for f in group.filters if f.field]
    return not usable or any(_matches(row, f) for f in usable)


def _column(row: Row, name: str) -> Any:
    if name not in row:
        raise UnknownColumn(name)
    return row[name]


def _sort(matched: list[int], rows: Sequence[Row], order: SortOrder) -> None:
    """Stable sort of ``matched`` by one order, exactly as ``_sorter`` compares.

    A column of only numbers (or only strings), NULLs aside, sorts by a key: the same order
    as the pairwise comparison, in O(n log n) key comparisons instead of Decimal conversions.
    """
    name = order.field or ""
    values = [_column(rows[i], name) for i in matched]
    present = [v for v in values if v is not None]
    if all(isinstance(v, int | float | Decimal) for v in present):
        keys: list[Any] = [(0, 0) if v is None else (1, _as_number(v) if isinstance(v, float) else v)
                           for v in values]
    elif all(isinstance(v, str) for v in present):
        keys = [(0, "") if v is None else (1, _fold(v)) for v in values]
    else:
        matched.sort(key=cmp_to_key(_sorter(rows, order)))
        return
    descending = (order.direction or "DESC").upper() != "ASC"
    ranked = sorted(range(len(matched)), key=keys.__getitem__, reverse=descending)
    matched[:] = [matched[k] for k in ranked]


def _sorter(rows: Sequence[Row], order: SortOrder) -> Callable[[int, int], int]:
    descending = (order.direction or "DESC").upper() != "ASC"
    name = order.field or ""

    def compare(a: int, b: int) -> int:
        result = _compare_nullable(_column(rows[a], name), _column(rows[b], name))
        return -result if descending else result

    return compare


def _compare_nullable(a: Any, b: Any) -> int:
    if a is None or b is None:
        return (a is not None) - (b is not None)  # NULL sorts first ascending (MySQL)
    return _compare(a, b)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    return None


def _compare(a: Any, b: Any) -> int:
    na = _as_number(a)
    nb = _coerce_number(b) if na is not None else None
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    sa, sb = _fold(a), _fold(b)
    return (sa > sb) - (sa < sb)


def _coerce_number(value: Any) -> Decimal | None:
    number = _as_number(value)
    if number is not None:
        return number
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _fold(value: Any) -> str:
    return str(value).casefold().rstrip(" ")


def _matches(row: Row, f: Filter) -> bool:
    column = _column(row, f.field or "")
    condition = (f.condition_type or "eq").lower()
    if condition in ("null", "notnull"):
        return (column is None) == (condition == "null")
    if column is None:
        return condition in ("neq", "nin", "nlike", "nfinset")
    value = f.value if f.value is not None else ""
    test = _CONDITIONS.get(condition, _CONDITIONS["eq"])  # Magento treats an unknown type as eq
    return test(column, value)


def _like(column: Any, pattern: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.casefold())
    return re.fullmatch(regex, str(column).casefold(), flags=re.DOTALL) is not None


def _in(column: Any, value: str) -> bool:
    return any(_compare(column, v) == 0 for v in value.split(","))


def _finset(column: Any, value: str) -> bool:
    return _fold(value) in [_fold(v) for v in str(column).split(",")]


_CONDITIONS: dict[str, Callable[[Any, str], bool]] = {
    "eq": lambda c, v: _compare(c, v) == 0,
    "neq": lambda c, v: _compare(c, v) != 0,
    "gt": lambda c, v: _compare(c, v) > 0,
    "gteq": lambda c, v: _compare(c, v) >= 0,
    "moreq": lambda c, v: _compare(c, v) >= 0,
    "from": lambda c, v: _compare(c, v) >= 0,
    "lt": lambda c, v: _compare(c, v) < 0,
    "lteq": lambda c, v: _compare(c, v) <= 0,
    "to": lambda c, v: _compare(c, v) <= 0,
    "in": _in,
    "nin": lambda c, v: not _in(c, v),
    "like": _like,
    "nlike": lambda c, v: not _like(c, v),
    "finset": _finset,
    "nfinset": lambda c, v: not _finset(c, v),
}
