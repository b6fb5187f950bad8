"""Read-shape rules of the Stokly simulator: serve only the confirmed fields of ``READ_SHAPES``, or drop
and rename chosen ones, on GET responses, so that the simulator can disagree with our assumptions.

Only what is served changes: request bodies, write answers and the account's state keep every field.
``shaped_routes`` wraps each GET route whose records ``READ_SHAPES`` lists; ``shape_routes`` is
``GET``/``POST /_sim/shape``, whose JSON is ``ShapeRules.to_json`` / ``parse_rules``::

    {"confirmed_only": false,
     "drop": [{"route": "/v2/saleorders", "field": "tax"}],
     "rename": [{"route": "/v2/shipments", "field": "trackingNumber", "to": "tracking_no"}]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from watchdog.stokly_assumed import (
    ACCOUNT_SHIPMENTS_PATH,
    READ_SHAPES,
    SHIPMENTS_PATH,
    Evidence,
)

__all__ = [
    "SAME_RECORDS",
    "RouteField",
    "ShapeError",
    "ShapeHolder",
    "ShapeRules",
    "parse_rules",
    "shape_key",
    "shape_records",
    "shape_routes",
    "shaped_routes",
]

#: (route template as in READ_SHAPES, field path as in READ_SHAPES).
RouteField = tuple[str, str]
Endpoint = Callable[[Request], Awaitable[Response]]

#: Read routes (placeholders as ``{id}``) serving the same records as a READ_SHAPES route that
#: ``read_shape`` does not map: they are shaped by that route's rules.
SAME_RECORDS: Mapping[str, str] = MappingProxyType({
    re.sub(r"\{[^}]+\}", "{id}", SHIPMENTS_PATH): ACCOUNT_SHIPMENTS_PATH,
    "/v2/saleorders/{id}/invoices": "/v0/invoices",
    "/v0/variable-items": "/v0/items",
})

_Op = tuple[tuple[str, ...], str | None]  # (path segments, new key name or None to drop)


class ShapeError(ValueError):
    """A shape rule names an unknown route or field, or is malformed; ``key`` says which."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


@dataclass(frozen=True)
class ShapeRules:
    """Which ``READ_SHAPES`` fields the simulator withholds on read responses (default: none).

    ``confirmed_only`` drops every field whose evidence on that route is not ``CONFIRMED``:
    inferred and assumed fields are both dropped. ``drop`` removes a field path (for ``a.b`` the
    member of the object, for ``items[].x`` the member of every element); ``rename`` moves its
    value to another key name at the same place, and wins over ``confirmed_only``. Routes and
    paths are spelled exactly as in ``READ_SHAPES``; fields it does not list are served as they
    are. Raises ShapeError for an unknown route or field, or a field both dropped and renamed.
    """

    confirmed_only: bool = False
    drop: frozenset[RouteField] = frozenset()
    rename: Mapping[RouteField, str] = field(default_factory=lambda: MappingProxyType({}))
    _plans: Mapping[str, tuple[_Op, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "drop", frozenset(self.drop))
        object.__setattr__(self, "rename", MappingProxyType(dict(self.rename)))
        for i, pair in enumerate(sorted(self.drop)):
            _check_field(pair, f"drop[{i}]")
        for i, (pair, to) in enumerate(sorted(self.rename.items())):
            _check_field(pair, f"rename[{i}]")
            _check_rename(pair, to, f"rename[{i}]", self.drop)
        object.__setattr__(self, "_plans", MappingProxyType({r: self._plan(r) for r in READ_SHAPES}))

    def __hash__(self) -> int:
        return hash((self.confirmed_only, self.drop, frozenset(self.rename.items())))

    @property
    def active(self) -> bool:
        """Whether any served record changes."""
        return any(self._plans.values())

    def withheld(self) -> frozenset[RouteField]:
        """Every (route, field) not served under its own name: dropped, renamed or not confirmed."""
        return frozenset((route, path) for route, ops in self._plans.items() for path in _paths(ops))

    def ops(self, route: str) -> tuple[_Op, ...]:
        """What to do to each record of a READ_SHAPES route, deepest paths first."""
        return self._plans.get(route, ())

    def to_json(self) -> dict[str, Any]:
        """The rules in the control route's JSON form (``parse_rules`` reads it back)."""
        return {"confirmed_only": self.confirmed_only,
                "drop": [{"route": r, "field": f} for r, f in sorted(self.drop)],
                "rename": [{"route": r, "field": f, "to": to} for (r, f), to in sorted(self.rename.items())]}

    def _plan(self, route: str) -> tuple[_Op, ...]:
        ops: list[_Op] = []
        for f in READ_SHAPES[route]:
            to = self.rename.get((route, f.path))
            if to is not None:
                ops.append((_segments(f.path), to))
            elif (route, f.path) in self.drop or (self.confirmed_only and f.evidence is not Evidence.CONFIRMED):
                ops.append((_segments(f.path), None))
        return tuple(sorted(ops, key=lambda op: -len(op[0])))


def _check_field(pair: RouteField, key: str) -> None:
    route, path = pair
    if route not in READ_SHAPES:
        raise ShapeError(f"{key}.route", f"unknown route {route!r}; one of {', '.join(READ_SHAPES)}")
    known = [f.path for f in READ_SHAPES[route]]
    if path not in known:
        raise ShapeError(f"{key}.field", f"{path!r} is not read on {route}; one of {', '.join(known)}")


def _check_rename(pair: RouteField, to: str, key: str, drop: frozenset[RouteField]) -> None:
    if not isinstance(to, str) or not to or "." in to or "[" in to:
        raise ShapeError(f"{key}.to", "must be a non-empty key name (no '.' or '[]')")
    if pair in drop:
        raise ShapeError(f"{key}.field", f"{pair[1]!r} on {pair[0]} is both dropped and renamed")


def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _paths(ops: tuple[_Op, ...]) -> list[str]:
    return [".".join(segments) for segments, _ in ops]


# --------------------------------------------------------------------------- JSON form


def parse_rules(raw: Any) -> ShapeRules:
    """Rules from their JSON (or TOML table) form; raises ShapeError naming the bad key."""
    if not isinstance(raw, Mapping):
        raise ShapeError("shape", "must be an object")
    unknown = sorted(set(raw) - {"confirmed_only", "drop", "rename"})
    if unknown:
        raise ShapeError(unknown[0], "unknown key; expected confirmed_only, drop, rename")
    confirmed_only = raw.get("confirmed_only", False)
    if not isinstance(confirmed_only, bool):
        raise ShapeError("confirmed_only", "must be true or false")
    drop = [_entry(e, f"drop[{i}]", ("route", "field")) for i, e in enumerate(_entries(raw, "drop"))]
    rename = [_entry(e, f"rename[{i}]", ("route", "field", "to")) for i, e in enumerate(_entries(raw, "rename"))]
    return ShapeRules(confirmed_only, frozenset((r, f) for r, f in drop), _renames(rename))


def _entries(raw: Mapping[str, Any], name: str) -> list[Any]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        raise ShapeError(name, "must be an array of {route, field" + (", to}" if name == "rename" else "}"))
    return value


def _entry(entry: Any, key: str, names: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(entry, Mapping) or set(entry) != set(names):
        raise ShapeError(key, f"expected exactly {', '.join(names)}")
    for name in names:
        if not isinstance(entry[name], str):
            raise ShapeError(f"{key}.{name}", "must be a string")
    values = tuple(entry[name] for name in names)
    _check_field((values[0], values[1]), key)
    return values


def _renames(entries: Iterable[tuple[str, ...]]) -> dict[RouteField, str]:
    renames: dict[RouteField, str] = {}
    for i, (route, path, to) in enumerate(entries):
        if (route, path) in renames:
            raise ShapeError(f"rename[{i}].field", f"{path!r} on {route} is renamed twice")
        renames[(route, path)] = to
    return renames


# --------------------------------------------------------------------------- transformation


def shape_key(template: str) -> str | None:
    """The READ_SHAPES route whose records a route template serves (single-record twins and
    ``SAME_RECORDS`` included), or None when READ_SHAPES lists none."""
    route = re.sub(r"\{[^}]+\}", "{id}", template)
    route = SAME_RECORDS.get(route, route)
    if route not in READ_SHAPES:
        route = route.removesuffix("/{id}")
    return route if route in READ_SHAPES else None


def shape_records(rules: ShapeRules, route: str, records: Iterable[Any]) -> None:
    """Apply the rules of a READ_SHAPES route to each record (a JSON object), in place."""
    ops = rules.ops(route)
    for record in records:
        for segments, to in ops:
            _apply(record, segments, to)


def _apply(node: Any, segments: tuple[str, ...], to: str | None) -> None:
    if not isinstance(node, dict):
        return
    head, rest = segments[0], segments[1:]
    if not rest:
        if head in node:
            value = node.pop(head)
            if to is not None:
                node[to] = value
        return
    children = node.get(head[:-2]) if head.endswith("[]") else [node.get(head)]
    for child in children if isinstance(children, list) else ():
        _apply(child, rest, to)


# --------------------------------------------------------------------------- routes


class ShapeHolder(Protocol):
    """Where a running app keeps its active rules (``SettingsBox``)."""

    @property
    def shape(self) -> ShapeRules: ...

    def set_shape(self, rules: ShapeRules) -> ShapeRules: ...


def shaped_routes(routes: Iterable[BaseRoute], holder: ShapeHolder) -> list[BaseRoute]:
    """The routes, each GET route of a READ_SHAPES route serving its records through the active rules."""
    return [_shaped(route, holder) for route in routes]


def _shaped(route: BaseRoute, holder: ShapeHolder) -> BaseRoute:
    if not isinstance(route, Route) or "GET" not in (route.methods or ()):
        return route
    key = shape_key(route.path)
    if key is None:
        return route
    return Route(route.path, _serve(cast(Endpoint, route.endpoint), key, holder), methods=route.methods,
                 name=route.name)


def _serve(endpoint: Endpoint, key: str, holder: ShapeHolder) -> Endpoint:
    async def serve(request: Request) -> Response:
        response, rules = await endpoint(request), holder.shape
        if not rules.ops(key) or response.status_code != 200 or not isinstance(response, JSONResponse):
            return response
        body = json.loads(bytes(response.body))
        data = body.get("data")
        shape_records(rules, key, data if isinstance(data, list) else [data])
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
        return JSONResponse(body, headers=headers)

    return serve


def shape_routes(holder: ShapeHolder) -> list[Route]:
    """``GET /_sim/shape`` (the active rules) and ``POST /_sim/shape`` (replace them; 400 names a bad key)."""

    async def shape(request: Request) -> Response:
        if request.method == "POST":
            try:
                holder.set_shape(parse_rules(json.loads(await request.body() or b"{}")))
            except ValueError as exc:  # ShapeError, or a body that is not JSON
                return JSONResponse({"message": str(exc)}, status_code=400)
        return JSONResponse(holder.shape.to_json())

    return [Route("/_sim/shape", shape, methods=["GET", "POST"])]
