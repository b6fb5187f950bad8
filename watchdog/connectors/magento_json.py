"""Typed readers for Magento JSON: each raises ``MalformedResponse`` naming the route and the path
of the offending field (``items[3].qty_ordered``), never KeyError or TypeError."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from watchdog.connectors.http import ErrorKind, MalformedResponse, known_decimal, to_decimal

__all__ = ["ZERO", "Ctx", "dec", "int_of", "integer", "items_of", "obj", "opt_int", "req", "seq", "text", "timestamp"]

SYSTEM = "magento"
T = TypeVar("T")
ZERO = Decimal(0)


class Ctx:
    """Where we are while parsing: the route template and the path of the current object.

    The path (``items[3].sku``) is spelled out only when asked for, by an error: a catalogue
    read makes millions of contexts and, normally, fails on none of them.
    """

    __slots__ = ("_key", "_parent", "_path", "route")

    def __init__(self, route: str, path: str = "", *, parent: Ctx | None = None, key: str | int = "") -> None:
        self.route = route
        self._path: str | None = path if parent is None else None
        self._parent = parent
        self._key = key

    @property
    def path(self) -> str:
        if self._path is None:
            assert self._parent is not None
            base, key = self._parent.path, self._key
            self._path = f"{base}[{key}]" if isinstance(key, int) else f"{base}.{key}" if base else key
        return self._path

    def at(self, key: str | int) -> Ctx:
        """The context of a member (``items[3]`` or ``items[3].sku``)."""
        return Ctx(self.route, parent=self, key=key)

    def fail(self, problem: str) -> MalformedResponse:
        """A MalformedResponse naming the route and this path."""
        where = f"field {self.path!r}" if self.path else "body"
        return MalformedResponse(SYSTEM, self.route, f"{where} {problem}", kind=ErrorKind.PERMANENT)

    def __repr__(self) -> str:
        return f"Ctx({self.route!r}, {self.path!r})"


# ------------------------------------------------------------------ primitives


def obj(value: Any, ctx: Ctx) -> Mapping[str, Any]:
    """``value`` as a JSON object, or MalformedResponse."""
    if not isinstance(value, Mapping):
        raise ctx.fail(f"is {_kind(value)}, expected an object")
    return value


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"


def req(rec: Mapping[str, Any], key: str, ctx: Ctx) -> Any:
    """A present, non-null member."""
    value = rec.get(key)
    if value is None:
        raise ctx.at(key).fail("is missing")
    return value


def text(rec: Mapping[str, Any], key: str, ctx: Ctx, default: str | None = None) -> str:
    """A string member; ``default`` when absent (None default = required)."""
    value = rec.get(key)
    if type(value) is str:
        return sys.intern(value)  # SKUs, codes and names recur across records: one string each
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise ctx.at(key).fail(f"is {_kind(value)}, expected a string")
    return sys.intern(str(value))


def integer(value: Any, ctx: Ctx) -> int:
    """An integer given as a JSON number or a numeric string (ids may come either way)."""
    if isinstance(value, bool) or value is None:
        raise ctx.fail(f"is {_kind(value)}, expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value.strip())
        except ValueError:  # digits int() refuses: superscripts, or more than Python converts
            pass
    raise ctx.fail(f"is {_shown(value)}, expected an integer")


def _shown(value: Any) -> str:
    """``repr(value)``, cut short: an upstream value never floods a message or a log line."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def int_of(rec: Mapping[str, Any], key: str, ctx: Ctx, default: int | None = None) -> int:
    """An integer member; ``default`` when absent (None default = required)."""
    value = rec.get(key)
    if type(value) is int:
        return value
    if value is None and default is not None:
        return default
    return integer(value, ctx.at(key))


def opt_int(rec: Mapping[str, Any], key: str, ctx: Ctx) -> int | None:
    """An optional integer member."""
    return None if rec.get(key) is None else integer(rec[key], ctx.at(key))


def dec(rec: Mapping[str, Any], key: str, ctx: Ctx, default: Decimal | None = ZERO) -> Decimal:
    """A number member as Decimal; ``default`` when absent (None default = required)."""
    value = rec.get(key)
    if value is None:
        if default is None:
            raise ctx.at(key).fail("is missing")
        return default
    known = known_decimal(value)
    return known if known is not None else to_decimal(value, ctx.at(key).path, system=SYSTEM, route=ctx.route)


def timestamp(rec: Mapping[str, Any], key: str, ctx: Ctx) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) as an aware datetime."""
    raw = text(rec, key, ctx)
    try:
        parsed = datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        raise ctx.at(key).fail(f"is {_shown(raw)}, expected a timestamp") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def items_of(rec: Mapping[str, Any], key: str, ctx: Ctx, parse: Callable[[Any, Ctx], T],
             *, required: bool = False) -> tuple[T, ...]:
    """A list member parsed element by element (absent -> empty unless ``required``)."""
    value = rec.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list):
        raise ctx.at(key).fail(f"is {_kind(value)}, expected a list")
    return tuple(parse(element, ctx.at(key).at(i)) for i, element in enumerate(value))


def seq(value: Any, ctx: Ctx) -> list[Any]:
    """A list (absent -> empty), or MalformedResponse."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ctx.fail(f"is {_kind(value)}, expected a list")
    return value
