"""HTTP machinery shared by the Magento and Stokly connectors.

Every request has a timeout, passes a client-side rate limit and a concurrency
bound, and is retried with exponential backoff and jitter when the failure is
transient (network error, timeout, 429, 5xx, a body that is not JSON), honouring
``Retry-After``. Non-idempotent writes are never retried blindly: a write that may
have reached the server raises ``UpstreamError`` with kind AMBIGUOUS so the caller
reads the target back before trying again.

Every attempt is told to the ``RequestObserver`` (``ok``; ``retry`` when another attempt follows;
``error`` when it was the last); an ``OutcomeObserver`` also hears how each request finally ended.
A request that finally fails is logged once at WARNING (integration, system, route, reason).

Exceptions (one type per boundary)::

    UpstreamError                 kind: TRANSIENT | PERMANENT | AMBIGUOUS; system, route, status
     └── MalformedResponse        the body or a field in it is not what the API promises (route + field)

No error message, log line or repr carries a header, a token or a request body.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx
import orjson

__all__ = [
    "ApiClient",
    "ErrorKind",
    "MalformedResponse",
    "OutcomeObserver",
    "RateLimiter",
    "RequestObserver",
    "RetryPolicy",
    "UpstreamError",
    "field",
    "gather_all",
    "known_decimal",
    "opt_field",
    "parse_retry_after",
    "to_decimal",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ErrorKind(StrEnum):
    TRANSIENT = "transient"  # retry later
    PERMANENT = "permanent"  # a person must act (bad credentials, validation, not found)
    AMBIGUOUS = "ambiguous"  # a write may or may not have happened: read back before retrying


class UpstreamError(Exception):
    """A call to Magento or Stokly failed. Says whether to retry; never carries a secret."""

    def __init__(
        self,
        system: str,
        route: str,
        message: str,
        *,
        kind: ErrorKind,
        status: int | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.system = system
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503)
        self.route = route
        self.message = message
        self.kind = kind
        self.status = status
        self.body = body  # the decoded error body (the API's own words), for callers that match texts
        super().__init__(str(self))

    @property
    def transient(self) -> bool:
        return self.kind is ErrorKind.TRANSIENT

    @property
    def source_down(self) -> bool:
        """True when the system is unreachable or refuses us: network error, timeout, 5xx, 429, 401.

        A 4xx about the request itself (400, 404, 422) or a body of the wrong shape is not an outage.
        """
        if self.status is None:
            return not isinstance(self, MalformedResponse)
        return self.status >= 500 or self.status in (401, 429)

    def __str__(self) -> str:
        status = f" HTTP {self.status}" if self.status is not None else ""
        return f"{self.system} {self.route}{status} ({self.kind.value}): {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self!s})"


class MalformedResponse(UpstreamError):
    """The response (or a record in it) does not have the shape the API promises (naming route and field)."""


# ------------------------------------------------------------------ parsing helpers


def field(record: Mapping[str, Any], name: str, kind: type | tuple[type, ...], *, system: str, route: str) -> Any:
    """``record[name]`` checked against ``kind``; raises MalformedResponse naming the route and field."""
    if type(record) is dict:  # the common case, decided without the ABC machinery (a snapshot asks millions)
        value = record.get(name)
        if type(value) is kind or (type(kind) is tuple and type(value) in kind):
            return value  # an exact type: never a bool where an int is asked (bool is its own type)
    if not isinstance(record, Mapping):
        raise MalformedResponse(system, route, f"expected an object, got {type(record).__name__}",
                                kind=ErrorKind.PERMANENT)
    if name not in record or record[name] is None:
        raise MalformedResponse(system, route, f"field {name!r} is missing", kind=ErrorKind.PERMANENT)
    value = record[name]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise MalformedResponse(system, route, f"field {name!r} is a boolean", kind=ErrorKind.PERMANENT)
    if not isinstance(value, kind):
        raise MalformedResponse(
            system, route, f"field {name!r} has type {type(value).__name__}", kind=ErrorKind.PERMANENT
        )
    return value


def opt_field(record: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any,
              *, system: str, route: str) -> Any:
    """Like ``field`` but absent or null gives ``default`` (Magento omits null fields)."""
    if not isinstance(record, Mapping) or record.get(name) is None:
        return default
    return field(record, name, kind, system=system, route=route)


#: Decimals already made, by (type, JSON value): a snapshot holds hundreds of thousands of quantities
#: and prices, most of them a few distinct values; Decimal is immutable, so one instance serves all.
_DECIMALS: dict[tuple[type, Any], Decimal] = {}
_MAX_DECIMALS = 4096


def known_decimal(value: Any) -> Decimal | None:
    """The Decimal already made for this JSON number, if any (``to_decimal`` makes and keeps them)."""
    try:
        return _DECIMALS.get((type(value), value))
    except TypeError:  # unhashable: not a number, and ``to_decimal`` says so
        return None


def to_decimal(value: Any, name: str, *, system: str, route: str) -> Decimal:
    """A JSON number (or numeric string, as Magento sometimes sends) as an exact Decimal."""
    if isinstance(value, bool) or value is None:
        raise MalformedResponse(system, route, f"field {name!r} is not a number", kind=ErrorKind.PERMANENT)
    known = known_decimal(value)
    if known is not None:
        return known
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MalformedResponse(system, route, f"field {name!r} is not a number",
                                kind=ErrorKind.PERMANENT) from None
    if not number.is_finite():
        raise MalformedResponse(system, route, f"field {name!r} is not finite", kind=ErrorKind.PERMANENT)
    if len(_DECIMALS) >= _MAX_DECIMALS:
        _DECIMALS.clear()
    _DECIMALS[(type(value), value)] = number
    return number


async def gather_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Every result, in order, once all have finished; then raises the first failure, if any.

    Used to read the pages of a list concurrently (the client's semaphore bounds how many at once).
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


# ------------------------------------------------------------------ policies


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; ``attempts`` counts the first try."""

    attempts: int = 5
    base_s: float = 0.2
    cap_s: float = 20.0
    max_retry_after_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(0.0, retry_after), self.max_retry_after_s)
        return float(rng.uniform(0, min(self.cap_s, self.base_s * (2 ** (attempt - 1)))))


class RateLimiter:
    """Async token bucket: ``rate`` requests per second with a ``burst``. ``rate<=0`` disables it."""

    def __init__(self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._clock = clock
        self._last = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)

    def pause_until_refilled(self) -> None:
        """Drain the bucket (the server said we are close to its limit)."""
        self._tokens = 0.0
        self._last = self._clock()


#: Called after every attempt: (system, route, outcome, seconds). outcome: ok | retry (another attempt
#: follows) | error (the request failed for good with this attempt)
RequestObserver = Callable[[str, str, str, float], None]


@runtime_checkable
class OutcomeObserver(Protocol):
    """A ``RequestObserver`` that also hears how each request ended, once, after its retries."""

    def __call__(self, system: str, route: str, outcome: str, seconds: float, /) -> None: ...

    def finished(self, system: str, route: str, error: UpstreamError | None) -> None:
        """``error`` is None when the request succeeded, else the failure the caller gets."""


class ApiClient:
    """Base for the connectors: one ``httpx.AsyncClient`` with timeouts, limits, retries."""

    system = "api"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 15.0,
        concurrency: int = 8,
        rate_per_s: float = 0.0,
        burst: int = 10,
        retry: RetryPolicy | None = None,
        auth: httpx.Auth | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        observer: RequestObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int | None = None,
        integration: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.integration = integration  # named in the log line of a failed request
        self.retry = retry or RetryPolicy()
        self.limiter = RateLimiter(rate_per_s, burst)
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._observer = observer
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s),
            auth=auth,
            transport=transport,
            limits=httpx.Limits(max_connections=max(1, concurrency), max_keepalive_connections=max(1, concurrency)),
            headers={"Accept": "application/json", "User-Agent": "stokly-magento-watchdog"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # -------------------------------------------------------------- request

    async def request(
        self,
        method: str,
        path: str,
        *,
        route: str,
        params: Any = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> Any:
        """Send a request and return the decoded JSON body.

        ``route`` is the path template used in errors and metrics (never an id or a SKU).
        ``idempotent`` defaults to True for GET, False otherwise. Raises UpstreamError.
        """
        safe = method == "GET" if idempotent is None else idempotent
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                body = await self._attempt(method, path, route, params, json_body, safe, expect)
            except UpstreamError as exc:
                final = not exc.transient or attempt >= self.retry.attempts
                self._observe(route, "error" if final else "retry", started)
                if final:
                    self._failed(route, exc, attempt)
                    raise
                delay = self.retry.delay(attempt, exc.retry_after, self._rng)
                log.info("%s; retry %d/%d in %.2fs", exc, attempt, self.retry.attempts - 1, delay)
                await self._sleep(delay)
            else:
                self._finished(route, None)
                return body

    async def _attempt(
        self, method: str, path: str, route: str, params: Any, json_body: Any, safe: bool,
        expect: tuple[int, ...],
    ) -> Any:
        await self.limiter.acquire()
        started = time.monotonic()
        async with self._semaphore:
            try:
                response = await self._http.request(method, path, params=params, json=json_body)
            except httpx.TimeoutException:
                kind = ErrorKind.TRANSIENT if safe else ErrorKind.AMBIGUOUS
                raise UpstreamError(self.system, route, "timed out", kind=kind) from None
            except httpx.TransportError as exc:
                # A connect error never reached the server; anything later might have.
                sent = not isinstance(exc, httpx.ConnectError)
                kind = ErrorKind.AMBIGUOUS if sent and not safe else ErrorKind.TRANSIENT
                raise UpstreamError(self.system, route, f"network error: {type(exc).__name__}",
                                    kind=kind) from None
        self.on_response(response)
        body = self._decode(response, route, safe)
        if response.status_code not in expect:
            raise self.error_for(route, response.status_code, body, response)
        self._observe(route, "ok", started)
        return body

    def _decode(self, response: httpx.Response, route: str, safe: bool) -> Any:
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)  # as json.loads, several times faster on catalogue pages
        except (ValueError, UnicodeDecodeError):
            if response.status_code >= 500 or response.status_code == 429:
                return None  # the status already tells; proxies answer these in HTML
            kind = ErrorKind.TRANSIENT if safe else ErrorKind.AMBIGUOUS
            raise MalformedResponse(
                self.system, route, f"HTTP {response.status_code} body is not valid JSON "
                f"({len(response.content)} bytes)", kind=kind, status=response.status_code,
            ) from None

    def on_response(self, response: httpx.Response) -> None:
        """Hook for subclasses (Stokly reads ``x-ratelimit-remaining``)."""

    def error_for(self, route: str, status: int, body: Any, response: httpx.Response) -> UpstreamError:
        """Translate a non-expected status into an UpstreamError; subclasses render messages."""
        kind = ErrorKind.TRANSIENT if status in TRANSIENT_STATUSES else ErrorKind.PERMANENT
        message = body.get("message") if isinstance(body, dict) else None
        return UpstreamError(self.system, route, str(message or "unexpected status"), kind=kind,
                             status=status, body=body, retry_after=parse_retry_after(response))

    def _observe(self, route: str, outcome: str, started: float) -> None:
        if self._observer is not None:
            self._observer(self.system, route, outcome, time.monotonic() - started)

    def _finished(self, route: str, error: UpstreamError | None) -> None:
        if isinstance(self._observer, OutcomeObserver):
            self._observer.finished(self.system, route, error)

    def _failed(self, route: str, exc: UpstreamError, attempts: int) -> None:
        """Log a request that failed for good, once (a 404 is an answer callers expect: INFO)."""
        level = logging.INFO if exc.status == 404 else logging.WARNING
        during = f" (requesting {route})" if exc.route != route else ""
        log.log(level, "%s: %s%s; gave up after %d attempt(s)", self.integration or "-", exc, during, attempts,
                extra={"event": "upstream.failed", "integration": self.integration, "system": self.system,
                       "route": route, "reason": exc.message, "status": exc.status, "kind": exc.kind.value})
        self._finished(route, exc)


def parse_retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delta form; an HTTP date counts as unknown)."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None
