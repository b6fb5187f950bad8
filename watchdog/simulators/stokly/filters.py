"""Stokly's ``filter=`` expression language: a small parser and an evaluator over JSON records.

Grammar (reference section 4; ``&&`` binding tighter than ``||`` is assumed)::

    expr       := and ( "||" and )*
    and        := primary ( "&&" primary )*
    primary    := "(" expr ")" | comparison
    comparison := "[" field "]" op "{" literal "}"
    op         := "==" | "!=" | "=*" | "::" | "!:" | ">>" | "<<" | ">=" | "<="
    literal    := "@null;" | "@string;" text | text          (text: anything but "}")

``=*`` takes a comma list; ``::``/``!:`` test containment (list element or substring);
``>> << >= <=`` compare numbers as numbers, ISO timestamps as instants, else strings.
``UNASSIGNED`` needs no special casing: inventory records carry it as a value.
Every malformed filter raises ``FilterError`` (and nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from watchdog.stokly_assumed import FILTER_CASE_SENSITIVE

__all__ = ["And", "Compare", "FilterError", "Literal", "Node", "Op", "Or", "matches", "parse", "render"]

MAX_DEPTH = 32
MAX_LENGTH = 200_000


class FilterError(ValueError):
    """A filter that does not parse; ``position`` is the offending character's index."""

    def __init__(self, message: str, position: int) -> None:
        self.message = message
        self.position = position
        super().__init__(f"{message} at position {position}")


class Op(StrEnum):
    EQ = "=="
    NE = "!="
    IN = "=*"
    CONTAINS = "::"
    NOT_CONTAINS = "!:"
    GT = ">>"
    LT = "<<"
    GE = ">="
    LE = "<="


@dataclass(frozen=True, slots=True)
class Literal:
    text: str
    kind: str = "plain"  # plain | string | null


@dataclass(frozen=True, slots=True)
class Compare:
    field: str
    op: Op
    value: Literal


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]


Node = Compare | And | Or


# --------------------------------------------------------------------------- parsing


def parse(text: str) -> Node:
    """Parse a filter expression; raises FilterError naming what and where."""
    if len(text) > MAX_LENGTH:
        raise FilterError("filter is too long", MAX_LENGTH)
    parser = _Parser(text)
    node = parser.expr(0)
    parser.skip_space()
    if parser.pos != len(text):
        raise FilterError(f"unexpected {text[parser.pos]!r}", parser.pos)
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, token: str) -> bool:
        self.skip_space()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FilterError("filter nests too deeply", self.pos)
        parts = [self.conjunction(depth)]
        while self.take("||"):
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self, depth: int) -> Node:
        parts = [self.primary(depth)]
        while self.take("&&"):
            parts.append(self.primary(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def primary(self, depth: int) -> Node:
        if self.take("("):
            node = self.expr(depth + 1)
            if not self.take(")"):
                raise FilterError("expected ')'", self.pos)
            return node
        return self.comparison()

    def comparison(self) -> Compare:
        if not self.take("["):
            raise FilterError("expected '[' or '('", self.pos)
        name = self.until("]", "field name")
        self.skip_space()
        op = next((o for o in Op if self.text.startswith(o.value, self.pos)), None)
        if op is None:
            raise FilterError("expected an operator (== != =* :: !: >> << >= <=)", self.pos)
        self.pos += 2
        if not self.take("{"):
            raise FilterError("expected '{'", self.pos)
        start = self.pos
        return Compare(name, op, _literal(self.until("}", "value"), start))

    def until(self, close: str, what: str) -> str:
        end = self.text.find(close, self.pos)
        if end < 0:
            raise FilterError(f"unterminated {what}: expected {close!r}", len(self.text))
        value = self.text[self.pos:end]
        if what == "field name" and (not value.strip() or "[" in value):
            raise FilterError("bad field name", self.pos)
        self.pos = end + 1
        return value


def _literal(raw: str, position: int) -> Literal:
    if not raw.startswith("@"):
        return Literal(raw)
    kind, sep, rest = raw[1:].partition(";")
    if not sep:
        raise FilterError("typed literal needs ';' (e.g. {@string;ABC})", position)
    if kind == "null":
        if rest:
            raise FilterError("{@null;} takes no value", position)
        return Literal("", "null")
    if kind == "string":
        return Literal(rest, "string")
    raise FilterError(f"unknown literal type @{kind}", position)


def render(node: Node) -> str:
    """The filter text for a node (the inverse of ``parse``)."""
    if isinstance(node, Compare):
        value = {"null": "@null;", "string": f"@string;{node.value.text}"}.get(node.value.kind, node.value.text)
        return f"[{node.field}]{node.op.value}{{{value}}}"
    joiner = "&&" if isinstance(node, And) else "||"
    return "(" + joiner.join(render(p) for p in node.parts) + ")"


# --------------------------------------------------------------------------- evaluation


def matches(node: Node, record: Mapping[str, Any]) -> bool:
    """Whether a JSON record satisfies the filter. Missing fields count as null."""
    if isinstance(node, And):
        return all(matches(p, record) for p in node.parts)
    if isinstance(node, Or):
        return any(matches(p, record) for p in node.parts)
    return _compare(record.get(node.field), node.op, node.value)


def _compare(value: Any, op: Op, lit: Literal) -> bool:
    if lit.kind == "null":
        return {Op.EQ: value is None, Op.NE: value is not None}.get(op, False)
    if op in (Op.EQ, Op.IN, Op.CONTAINS):
        return _has(value, op, lit)
    if op in (Op.NE, Op.NOT_CONTAINS):
        return value is not None and not _has(value, Op.EQ if op is Op.NE else Op.CONTAINS, lit)
    order = _order(value, lit)
    if order is None:
        return False
    return {Op.GT: order > 0, Op.LT: order < 0, Op.GE: order >= 0, Op.LE: order <= 0}[op]


def _has(value: Any, op: Op, lit: Literal) -> bool:
    """Equality (``==``), membership (``=*``) or containment (``::``); lists match on any element."""
    if isinstance(value, list):
        return any(_has(v, Op.EQ if op is Op.CONTAINS else op, lit) for v in value)
    if op is Op.IN:
        return any(_equals(value, Literal(part.strip(), lit.kind)) for part in lit.text.split(","))
    if op is Op.CONTAINS and isinstance(value, str):
        return _fold(lit.text) in _fold(value)
    return _equals(value, lit)


def _equals(value: Any, lit: Literal) -> bool:
    if value is None or isinstance(value, (dict, list)):
        return False
    if isinstance(value, bool):
        return lit.text.lower() in (("true", "1") if value else ("false", "0"))
    if isinstance(value, (int, float, Decimal)) and lit.kind != "string":
        number = _number(lit.text)
        return number is not None and number == _number(str(value))
    return _fold(_as_text(value)) == _fold(lit.text)


def _order(value: Any, lit: Literal) -> int | None:
    """-1/0/1 comparing ``value`` with the literal, or None when they cannot be compared."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    if isinstance(value, (int, float, Decimal)):
        left, right = _number(str(value)), _number(lit.text)
        if left is None or right is None:
            return None
        return (left > right) - (left < right)
    text = _as_text(value)
    when_left, when_right = _instant(text), _instant(lit.text)
    if when_left is not None and when_right is not None:
        return (when_left > when_right) - (when_left < when_right)
    return (text > lit.text) - (text < lit.text)


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _instant(text: str) -> datetime | None:
    if len(text) < 10 or not text[:4].isdigit():
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _fold(text: str) -> str:
    return text if FILTER_CASE_SENSITIVE else text.casefold()
