"""JSON rendering the way Magento's ``ServiceOutputProcessor`` does it.

- ``compact(required, **fields)`` drops ``None`` fields unless the getter is "required"
  (non-nullable in Adobe's schema): those stay as ``null``;
- ``Decimal`` is rendered as a JSON number (``2``, ``18.18``), never a string;
- a void result renders as ``[]``; scalars render bare (``3``, ``true``);
- timestamps are ``YYYY-MM-DD HH:MM:SS`` in UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response

__all__ = ["compact", "dumps", "json_response", "num", "ts"]

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def compact(required: Iterable[str] = (), **fields: Any) -> dict[str, Any]:
    """``fields`` without the ``None`` values, except keys in ``required`` (kept as null)."""
    keep = set(required)
    return {k: v for k, v in fields.items() if v is not None or k in keep}


def num(value: Decimal | int | float | None) -> int | float | None:
    """A Decimal as the JSON number Magento prints: integral values without a fraction."""
    if value is None:
        return None
    d = Decimal(value)
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def ts(value: datetime | None) -> str | None:
    """A datetime as Magento's UTC ``YYYY-MM-DD HH:MM:SS`` (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(TS_FORMAT)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return num(value)
    if isinstance(value, datetime):
        return ts(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def dumps(data: Any) -> bytes:
    """``data`` as compact JSON bytes (``None`` -> ``[]``, the void rendering)."""
    if data is None:
        data = []
    return json.dumps(data, default=_default, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A Starlette response carrying ``data`` rendered by ``dumps``."""
    return Response(dumps(data), status_code=status, headers=headers,
                    media_type="application/json; charset=utf-8")
