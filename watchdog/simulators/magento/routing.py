"""Magento's REST router in miniature: route templates with ``:param`` segments, ACL resources,
and the per-request ``Call`` a handler receives."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from .access import Principal
from .errors import REQUIRED_FIELD, TYPE_INVALID, bad_request
from .search import SearchCriteria, UnknownColumn, apply, parse_search_criteria
from .state import MagentoState

__all__ = ["ApiRoute", "Call", "Handler", "UnknownColumn", "decimal_arg", "int_arg", "route"]


@dataclass(frozen=True)
class Call:
    """One API request as a handler sees it (JSON body already decoded)."""

    state: MagentoState
    method: str
    params: dict[str, str]
    query: list[tuple[str, str]]
    body: Any
    principal: Principal | None

    def int_param(self, name: str) -> int:
        """A path parameter declared ``int``; raises 400 with Magento's type error text."""
        raw = self.params[name]
        try:
            return int(raw)
        except ValueError:
            raise bad_request(TYPE_INVALID.format(value=raw, type="int")) from None

    def arg(self, name: str, *, required: bool = True) -> Any:
        """A top-level body argument; raises 400 ``"%fieldName" is required...`` when missing."""
        value = self.body.get(name) if isinstance(self.body, dict) else None
        if value is None and required:
            raise bad_request(REQUIRED_FIELD, {"fieldName": name})
        return value

    def search(self, rows: Sequence[dict[str, Any]], render: Callable[[int], dict[str, Any]], *,
               required: bool = True) -> dict[str, Any]:
        """A search-results envelope over ``rows``; ``render(i)`` gives item ``i``'s JSON.

        Raises MagentoError 400 for bad criteria and UnknownColumn for an unknown field.
        """
        criteria = parse_search_criteria(self.query, required=required, settings=self.state.settings)
        indexes, total = apply(rows, criteria)
        return {"items": [render(i) for i in indexes],
                "search_criteria": (criteria or SearchCriteria()).echo(), "total_count": total}


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class ApiRoute:
    """``method`` + ``template`` (``/V1/orders/:id``) -> ``handler``, guarded by ``acl``."""

    method: str
    template: str
    handler: Handler
    acl: str | None
    status: int = 200
    is_async: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r":(\w+)", r"(?P<\1>[^/]+)", self.template.rstrip("/"))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}/?$"))

    def match(self, method: str, path: str, is_async: bool) -> dict[str, str] | None:
        """The decoded path parameters when this route serves the request, else None."""
        if method != self.method or is_async != self.is_async:
            return None
        found = self.pattern.match(path)
        return {k: unquote(v) for k, v in found.groupdict().items()} if found else None


def route(method: str, template: str, acl: str | None, *, status: int = 200,
          is_async: bool = False) -> Callable[[Handler], ApiRoute]:
    """Decorator turning a handler into an ``ApiRoute``."""

    def wrap(handler: Handler) -> ApiRoute:
        return ApiRoute(method, template, handler, acl, status, is_async)

    return wrap


def decimal_arg(value: Any, name: str) -> Decimal:
    """A numeric body value; raises 400 with Magento's type error naming ``float``."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise bad_request(TYPE_INVALID.format(value=value, type="float")) from None
    if isinstance(value, bool) or not number.is_finite():
        raise bad_request(TYPE_INVALID.format(value=value, type="float"))
    return number


def int_arg(value: Any) -> int:
    """An integer body value; raises 400 with Magento's type error naming ``int``."""
    if isinstance(value, bool):
        raise bad_request(TYPE_INVALID.format(value=value, type="int"))
    try:
        return int(str(value))
    except ValueError:
        raise bad_request(TYPE_INVALID.format(value=value, type="int")) from None


