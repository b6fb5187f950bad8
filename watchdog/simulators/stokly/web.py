"""HTTP helpers of the Stokly simulator: error bodies, request-body reading, envelopes, list queries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from watchdog.simulators.stokly.filters import FilterError, Node, matches, parse
from watchdog.simulators.stokly.settings import StoklySimSettings
from watchdog.stokly_assumed import (
    MSG_NOT_FOUND,
    MSG_RATE_LIMITED,
    STATUS_INVALID,
    json_number,
    msg_invalid,
    msg_required,
)

__all__ = [
    "ApiError",
    "ListQuery",
    "accepted",
    "error_response",
    "iso",
    "json_body",
    "list_query",
    "listing",
    "num",
    "opt_number",
    "opt_str",
    "parse_time",
    "render_error",
    "req_list",
    "req_number",
    "req_obj",
    "req_str",
    "single",
]


class ApiError(Exception):
    """Answer with Stokly's error body ``{"message": ...}`` and this status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=dict(headers or {}))


def render_error(status: int) -> tuple[bytes, str]:
    """Stokly's error body for an injected fault of this status (``FaultMiddleware``'s renderer)."""
    if status in (429, 404):
        message = MSG_RATE_LIMITED if status == 429 else MSG_NOT_FOUND
    elif status < 500:
        message = "Request rejected"
    else:
        message = "Internal server error"
    return json.dumps({"message": message}).encode(), "application/json"


# --------------------------------------------------------------------------- values


num = json_number


def iso(when: datetime) -> str:
    """Stokly's timestamp form: UTC with milliseconds and ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_time(text: str, name: str) -> datetime:
    """An ISO-8601 timestamp (naive means UTC); raises ApiError 400."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(STATUS_INVALID, msg_invalid(name, "is not an ISO-8601 date")) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; raises ApiError 400 when it is not one."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ApiError(STATUS_INVALID, "body is not valid JSON") from None
    except ClientDisconnect:
        raise ApiError(STATUS_INVALID, "client disconnected before sending its body") from None
    if not isinstance(body, dict):
        raise ApiError(STATUS_INVALID, "body must be a JSON object")
    return body


def req_obj(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if value is None:
        raise ApiError(STATUS_INVALID, msg_required(name))
    if not isinstance(value, Mapping):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be an object"))
    return value


def req_str(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ApiError(STATUS_INVALID, msg_required(name))
    if not isinstance(value, str):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be a string"))
    return value


def opt_str(body: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be a string"))
    return value


def req_number(body: Mapping[str, Any], name: str) -> Decimal:
    value = body.get(name)
    if value is None:
        raise ApiError(STATUS_INVALID, msg_required(name))
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be a number"))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be a number")) from None
    if not number.is_finite():
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be a number"))
    return number


def opt_number(body: Mapping[str, Any], name: str, default: Decimal = Decimal(0)) -> Decimal:
    return default if body.get(name) is None else req_number(body, name)


def req_list(body: Mapping[str, Any], name: str) -> Sequence[Any]:
    value = body.get(name)
    if value is None:
        raise ApiError(STATUS_INVALID, msg_required(name))
    if not isinstance(value, list):
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be an array"))
    return value


# --------------------------------------------------------------------------- envelopes


def single(data: Mapping[str, Any]) -> JSONResponse:
    """``{"data": {...}}``."""
    return JSONResponse({"data": data})


def accepted(resource_id: str) -> JSONResponse:
    """A write accepted for asynchronous processing: ``202 {"data": {"id": ...}}``."""
    return JSONResponse({"data": {"id": resource_id}}, status_code=202)


@dataclass(frozen=True, slots=True)
class ListQuery:
    page: int
    size: int
    sort_field: str | None
    descending: bool
    filter: Node | None


def list_query(request: Request, settings: StoklySimSettings) -> ListQuery:
    """``page``, ``size`` (clamped to the maximum), ``sortField``, ``sortDirection`` and ``filter``."""
    params = request.query_params
    page = _int_param(params.get("page"), "page", 0, 0)
    size = min(_int_param(params.get("size"), "size", settings.default_page_size, 1), settings.max_page_size)
    direction = (params.get("sortDirection") or "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise ApiError(STATUS_INVALID, msg_invalid("sortDirection", "must be ASC or DESC"))
    raw_filter = params.get("filter")
    try:
        node = parse(raw_filter) if raw_filter else None
    except FilterError as exc:
        raise ApiError(STATUS_INVALID, f"invalid filter: {exc}") from None
    return ListQuery(page, size, params.get("sortField") or None, direction == "DESC", node)


def _int_param(raw: str | None, name: str, default: int, minimum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(STATUS_INVALID, msg_invalid(name, "must be an integer")) from None
    if value < minimum:
        raise ApiError(STATUS_INVALID, msg_invalid(name, f"must be at least {minimum}"))
    return value


def listing(rows: Sequence[Mapping[str, Any]], query: ListQuery) -> JSONResponse:
    """Filter, sort and page rows: ``{"data": [...], "metadata": {"count": <total matches>}}``."""
    chosen = [r for r in rows if query.filter is None or matches(query.filter, r)]
    if query.sort_field is not None:
        field_name = query.sort_field
        chosen.sort(key=lambda r: _sort_key(r.get(field_name)), reverse=query.descending)
    start = query.page * query.size
    return JSONResponse({"data": chosen[start:start + query.size], "metadata": {"count": len(chosen)}})


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True))
