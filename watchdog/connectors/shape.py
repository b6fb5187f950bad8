"""Tolerant reading: what a read could not take from an answer, recorded instead of failing.

A snapshot reads inside ``collecting(log)``. While a ``ShapeLog`` is current, a list read sets
aside a record it cannot parse (``read_rows``), and a reader that meets an optional field of
another type or missing notes it (``note_field``) and goes on with that field unknown. Each
(system, route, field) becomes one ``ShapeProblem`` with a count and a sample record id. A read
fails only when most of its records could not be read. Outside ``collecting`` (the sync
worker's reads, check-before-create look-ups) nothing is set aside: a bad record fails the read,
so a record is never skipped past a cursor nor created twice. See docs/architecture.md.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from watchdog.connectors.http import ErrorKind, MalformedResponse
from watchdog.model import ShapeProblem

__all__ = [
    "ABSENT",
    "ShapeLog",
    "collecting",
    "describe",
    "fail_if_mostly_unreadable",
    "note_field",
    "read_rows",
    "record_id",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
ID_KEYS = ("saleOrderId", "shipmentId", "creditNoteId", "saleInvoiceId", "itemId", "lineId", "locationId",
           "channelId", "listingId", "customerId", "binId", "niceId", "sourceReferenceId", "increment_id", "entity_id",
           "sku", "source_code", "id")


@dataclass
class _Tally:
    expected: str
    got: str
    records: int
    sample_id: str


class ShapeLog:
    """The shape problems of the reads made while it is current (one per system, route and field)."""

    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str, str, bool], _Tally] = {}
        self._read: dict[tuple[str, str], int] = {}

    def note(self, system: str, route: str, field: str, expected: str, got: str, record: Any,
             *, set_aside: bool = False) -> None:
        """Count one record whose ``field`` was ``got`` where ``expected`` was read."""
        key = (system, route, field, set_aside)
        tally = self._tallies.get(key)
        if tally is None:
            self._tallies[key] = _Tally(expected, got, 1, record_id(record))
            log.log(logging.WARNING if set_aside else logging.INFO, "%s %s: field %r %s (expected %s)%s", system,
                    route, field, got, expected, "; record set aside" if set_aside else "; read without it")
        else:
            tally.records += 1

    def count_read(self, system: str, route: str, records: int) -> None:
        """Add ``records`` to how many records ``route`` answered with."""
        self._read[(system, route)] = self._read.get((system, route), 0) + records

    def problems(self) -> tuple[ShapeProblem, ...]:
        """Every problem so far, set-aside ones first, then by system, route and field."""
        found = [ShapeProblem(system, route, field, t.expected, t.got, t.records,
                              max(self._read.get((system, route), 0), t.records), t.sample_id, aside)
                 for (system, route, field, aside), t in self._tallies.items()]
        return tuple(sorted(found, key=lambda p: (not p.set_aside, p.system, p.route, p.field)))


_current: ContextVar[ShapeLog | None] = ContextVar("watchdog_shape_log", default=None)


@contextmanager
def collecting(shape_log: ShapeLog) -> Iterator[ShapeLog]:
    """Make ``shape_log`` current for the reads (and the tasks they start) inside the block."""
    token = _current.set(shape_log)
    try:
        yield shape_log
    finally:
        _current.reset(token)


def note_field(system: str, route: str, field: str, expected: str, value: Any, record: Any) -> None:
    """Record that an optional ``field`` held ``value`` (``ABSENT``: no such key) where ``expected`` was read."""
    current = _current.get()
    if current is not None:
        current.note(system, route, field, expected, describe(value), record)


def describe(value: Any) -> str:
    """What came, in a few words: ``absent``, ``null``, ``a string``, ``a list``..."""
    if value is ABSENT:
        return "absent"
    if value is None:
        return "null"
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list",
             dict: "an object"}
    return names.get(type(value), f"a {type(value).__name__}")


class _Absent:
    """The value read for a key the record does not have (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


def read_rows(rows: Iterable[Any], parse: Callable[[Any], T], system: str, route: str) -> tuple[list[T], int]:
    """Each row through ``parse``: (parsed rows, rows set aside).

    With a ``ShapeLog`` current, a row that raises MalformedResponse is set aside and noted;
    without one, the error propagates (strict reading).
    """
    current = _current.get()
    if current is None:
        return [parse(row) for row in rows], 0
    parsed: list[T] = []
    aside = 0
    for row in rows:
        try:
            parsed.append(parse(row))
        except MalformedResponse as exc:
            aside += 1
            field, why = _field_and_why(exc)
            current.note(system, route, field, "a readable record", why, row, set_aside=True)
    current.count_read(system, route, len(parsed) + aside)
    return parsed, aside


_FIELD = re.compile(r"field '([^']*)' (.*)", re.DOTALL)
_INDEX = re.compile(r"\[\d+\]")  # items[3].sku -> items[].sku: one problem per field, not per element


def _field_and_why(exc: MalformedResponse) -> tuple[str, str]:
    """The field a MalformedResponse names and what was wrong with it."""
    found = _FIELD.search(exc.message)
    return (_INDEX.sub("[]", found[1]), found[2]) if found else ("(record)", exc.message)


def fail_if_mostly_unreadable(system: str, route: str, read: int, aside: int) -> None:
    """Raises MalformedResponse when more than half of a read's ``read`` records were set aside."""
    if read and aside * 2 > read:
        raise MalformedResponse(system, route, f"{aside} of {read} records could not be read "
                                "(see the upstream_shape findings for the fields)", kind=ErrorKind.PERMANENT)


def record_id(record: Any) -> str:
    """The record's id, by the first id-like key it has, for a person to look it up; "" if none."""
    if not isinstance(record, Mapping):
        return ""
    for key in ID_KEYS:
        value = record.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return f"{key}={value}"[:120]
    return ""
