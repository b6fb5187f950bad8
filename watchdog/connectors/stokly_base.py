"""Plumbing of the Stokly connector: auth wiring, rate-limit header, paging, writes, filter text.

- rate limit: ``x-ratelimit-remaining`` <= 3 drains the client's limiter; 429 is transient
  (the base honours ``Retry-After``);
- paging: loops on ``metadata.count`` with pages of 1000; an empty page before the count is
  reached raises a transient error (the listing changed underneath), never a short list;
- writes: a 500/502/504 answering a POST is AMBIGUOUS (the write may have happened), as are a
  timeout and a truncated answer (the base): the caller reads back before trying again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from watchdog.connectors import stokly_parse as p
from watchdog.connectors.http import ApiClient, ErrorKind, RequestObserver, RetryPolicy, UpstreamError, gather_all
from watchdog.connectors.shape import fail_if_mostly_unreadable, read_rows
from watchdog.connectors.stokly_auth import StoklyAuth, StoklyCredentials
from watchdog.connectors.stokly_drafts import iso
from watchdog.stokly_assumed import STATUS_UNAUTHORISED

__all__ = [
    "FILTER_BATCH",
    "LOW_REMAINING",
    "PAGE_SIZE",
    "StoklyBase",
    "all_of",
    "any_of",
    "batches",
    "eq",
    "literal",
    "time_filter",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE_SIZE = 1000
FILTER_BATCH = 200  # values OR-ed in one filter (confirmed practice)
LOW_REMAINING = 3  # x-ratelimit-remaining at or below this pauses the client (confirmed practice)
AMBIGUOUS_WRITE_STATUSES = frozenset({500, 502, 504})
REMAINING_HEADER = "x-ratelimit-remaining"


# --------------------------------------------------------------------------- filter text


def literal(value: str) -> str:
    """A value safe inside ``{...}``; raises ValueError for one containing ``}`` (no escape exists)."""
    if "}" in value:
        raise ValueError(f"cannot filter on a value containing '}}': {value!r}")
    return value


def eq(name: str, value: str) -> str:
    """``[name]=={@string;value}``: exact string comparison."""
    return f"[{name}]=={{@string;{literal(value)}}}"


def any_of(name: str, values: Sequence[str]) -> str:
    """``([name]=={@string;a}||[name]=={@string;b}...)``."""
    return "(" + "||".join(eq(name, v) for v in values) + ")"


def time_filter(name: str, when: datetime, op: str = ">=") -> str:
    """``[name]>={<ISO timestamp>}`` (or another comparison)."""
    return f"[{name}]{op}{{{iso(when)}}}"


def all_of(*parts: str | None) -> str | None:
    """The present parts joined with ``&&`` (None when there are none)."""
    present = [part for part in parts if part]
    return "&&".join(present) if present else None


def batches(values: Iterable[str], size: int = FILTER_BATCH) -> list[list[str]]:
    """Distinct values (first occurrence order) in batches of ``size``."""
    unique = list(dict.fromkeys(values))
    return [unique[i:i + size] for i in range(0, len(unique), size)]


def _as_is(record: p.Record) -> p.Record:
    return record


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StoklyBase(ApiClient):
    """``ApiClient`` with Stokly's auth, rate-limit header, paging and write conventions."""

    system = "stokly"

    def __init__(
        self,
        base_url: str,
        credentials: StoklyCredentials,
        *,
        timeout_s: float = 15.0,
        concurrency: int = 4,
        rate_per_s: float = 4.0,
        burst: int = 10,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        observer: RequestObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int | None = None,
        clock: Callable[[], datetime] = _utc_now,
        refresh_margin_s: float = 90.0,
        integration: str = "",
    ) -> None:
        self.auth = StoklyAuth(credentials, base_url, transport=transport, timeout_s=timeout_s,
                               margin_s=refresh_margin_s, clock=clock, on_response=self.on_response)
        self.clock = clock
        super().__init__(base_url, timeout_s=timeout_s, concurrency=concurrency, rate_per_s=rate_per_s,
                         burst=burst, retry=retry, auth=self.auth, transport=transport, observer=observer,
                         sleep=sleep, seed=seed, integration=integration)

    async def aclose(self) -> None:
        await super().aclose()
        await self.auth.aclose()

    # ------------------------------------------------------------------ ApiClient hooks

    def on_response(self, response: httpx.Response) -> None:
        """Pause the client when Stokly says few requests remain in its window."""
        raw = (response.headers.get(REMAINING_HEADER) or "").strip()
        if raw.lstrip("-").isdigit() and int(raw) <= LOW_REMAINING:
            log.info("stokly rate limit nearly spent (%s left); pausing", raw)
            self.limiter.pause_until_refilled()

    def error_for(self, route: str, status: int, body: Any, response: httpx.Response) -> UpstreamError:
        """As the base, but a 500/502/504 answering a POST is ambiguous: the write may have happened.

        A 401 here has already had its fresh grant and one retry (``StoklyAuth``): it is permanent.
        """
        error = super().error_for(route, status, body, response)
        if response.request.method == "POST" and status in AMBIGUOUS_WRITE_STATUSES:
            error.kind = ErrorKind.AMBIGUOUS
        if status == STATUS_UNAUTHORISED:
            error.message += " (refused again with a fresh grant: check the app's access in Stokly)"
        return error

    # ------------------------------------------------------------------ reads and writes

    async def get_all(self, path: str, route: str, *, filter: str | None = None,
                      sort: str | None = None) -> list[p.Record]:
        """Every record of a list route, page by page until ``metadata.count`` rows are in.

        Raises UpstreamError (transient when the listing shrank while paging) or MalformedResponse.
        """
        return await self.get_parsed(path, route, _as_is, filter=filter, sort=sort)

    async def get_parsed(self, path: str, route: str, parse: Callable[[p.Record], T], *,
                         filter: str | None = None, sort: str | None = None) -> list[T]:
        """``get_all`` with each record through ``parse`` as its page arrives.

        Page 0 gives ``metadata.count``; the other pages it implies are read concurrently (the
        client's ``concurrency`` bounds how many at once), then taken in order exactly as a
        page-by-page loop would: done once ``count`` rows are in, a transient error on an empty
        page before that, and further pages read one by one if the listing grew meanwhile.
        Inside a snapshot (``shape.collecting``) a record ``parse`` refuses is set aside and
        noted; the read fails (MalformedResponse) only when most of its records were set aside.
        """
        pages = [await self._list_page(path, route, parse, filter, sort, 0)]
        planned = -(-pages[0][2] // PAGE_SIZE)
        pages += await gather_all(self._list_page(path, route, parse, filter, sort, n) for n in range(1, planned))
        rows: list[T] = []
        seen = 0
        for number in itertools.count():
            if number == len(pages):
                pages.append(await self._list_page(path, route, parse, filter, sort, number))
            parsed, size, count = pages[number]
            rows += parsed
            seen += size
            if seen >= count:
                fail_if_mostly_unreadable(self.system, route, seen, seen - len(rows))
                return rows
            if not size:
                raise UpstreamError(self.system, route, f"listing ended at {seen} of {count} records "
                                    "(it changed while paging)", kind=ErrorKind.TRANSIENT)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _list_page(self, path: str, route: str, parse: Callable[[p.Record], T], filter: str | None,
                         sort: str | None, page: int) -> tuple[list[T], int, int]:
        params: dict[str, Any] = {"page": page, "size": PAGE_SIZE}
        if filter:
            params["filter"] = filter
        if sort:
            params.update(sortField=sort, sortDirection="ASC")
        data, count = p.list_envelope(await self.request("GET", path, route=route, params=params), route)
        return read_rows(data, parse, self.system, route)[0], len(data), count

    async def get_one(self, path: str, route: str) -> p.Record:
        """The ``data`` record of a single read."""
        return p.single_record(await self.request("GET", path, route=route), route)

    async def write(self, method: str, path: str, route: str, body: Any, *, idempotent: bool = False) -> Any:
        """A write (202 expected); non-idempotent unless said otherwise."""
        return await self.request(method, path, route=route, json_body=body, idempotent=idempotent,
                                  expect=(200, 201, 202))

    async def create(self, path: str, route: str, body: Any) -> str:
        """POST a new resource; returns ``data.id``. Never retried blindly (see module docstring)."""
        return p.created_id(await self.write("POST", path, route, body), route)
