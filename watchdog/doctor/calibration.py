"""Shape calibration: what sampled Stokly records say about every field in ``READ_SHAPES``.

Pure functions, data in and data out. For each field of a route: in how many places it was
looked for (``seen``: records, or elements of a list for an ``items[].x`` path), present with
the expected JSON type, absent (or null), or of another type; and, when it is missing, the keys
nearby that are not in ``READ_SHAPES`` and look like it (same name ignoring case, ``_`` and
``-``, or a ``difflib`` close match), so ``watchdog/stokly_assumed.py`` can be corrected from
evidence. ``shape_checks`` turns the tallies into verdicts.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from watchdog.doctor.assumed_names import constant_for
from watchdog.doctor.verdicts import FieldTally
from watchdog.stokly_assumed import JsonType, ReadField

__all__ = ["json_type", "matches", "nearby_names", "tally_route"]

Record = Mapping[str, Any]
SIMILARITY = 0.7  # difflib ratio of the normalised names above which a key "looks like" a missing field


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (``integer`` and ``number`` told apart)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _numeric_string(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except (InvalidOperation, ValueError):
        return False


def _timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def matches(value: Any, kind: JsonType) -> bool:
    """True when ``value`` is what a reader expecting ``kind`` takes (a number may be a numeric string)."""
    seen = json_type(value)
    if kind is JsonType.NUMBER:
        return seen in ("integer", "number") or (seen == "string" and _numeric_string(value))
    if kind is JsonType.TIMESTAMP:
        return seen == "string" and _timestamp(value)
    return seen == kind.value


def _normal(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _looks_like(wanted: str, key: str) -> bool:
    a, b = _normal(wanted), _normal(key)
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= SIMILARITY


def nearby_names(wanted: str, keys: Mapping[str, int], known: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """Keys (with their counts) that are not ``known`` and look like ``wanted``, most frequent first."""
    skip = set(known) | {wanted}
    found = [(k, n) for k, n in keys.items() if k not in skip and _looks_like(wanted, k)]
    return tuple(sorted(found, key=lambda kn: (-kn[1], kn[0])))


def _containers(record: Record, parents: Sequence[str]) -> list[Record]:
    """The objects in which a field under ``parents`` is looked for (a missing parent object is empty)."""
    level: list[Record] = [record]
    for segment in parents:
        name, many = segment.removesuffix("[]"), segment.endswith("[]")
        deeper: list[Record] = []
        for obj in level:
            value = obj.get(name)
            if many:
                deeper += [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
            else:
                deeper.append(value if isinstance(value, Mapping) else {})
        level = deeper
    return level


def _known_keys(fields: Sequence[ReadField], parents: Sequence[str]) -> set[str]:
    """Keys READ_SHAPES names at the level ``parents`` leads to."""
    depth = len(parents)
    return {f.path.split(".")[depth].removesuffix("[]") for f in fields
            if f.path.split(".")[:depth] == list(parents) and len(f.path.split(".")) > depth}


def _tally(route: str, records: Sequence[Record], field: ReadField, fields: Sequence[ReadField]) -> FieldTally:
    *parents, leaf = field.path.split(".")
    containers = [c for r in records for c in _containers(r, parents)]
    values = [c.get(leaf) for c in containers]
    present = sum(1 for v in values if v is not None and matches(v, field.type))
    absent = sum(1 for v in values if v is None)
    others = Counter(json_type(v) for v in values if v is not None and not matches(v, field.type))
    keys = Counter(k for c in containers for k in c)
    near = nearby_names(leaf, keys, _known_keys(fields, parents)) if absent else ()
    return FieldTally(route, field.path, field.type.value, field.evidence.value, field.required, field.used_for,
                      constant_for(route, field.path), len(values), present, absent, sum(others.values()),
                      tuple(sorted(others)), near)


def tally_route(route: str, records: Sequence[Record], fields: Sequence[ReadField]) -> list[FieldTally]:
    """One tally per field of ``fields`` over ``records`` (raw JSON objects of ``route``)."""
    return [_tally(route, records, f, fields) for f in fields]
