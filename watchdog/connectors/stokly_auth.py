"""Stokly's app grant as an ``httpx.Auth`` flow.

The flow obtains a token with ``POST /v1/grant`` (signature = lowercase hex HMAC-SHA256 of the
client id keyed with the client secret), refreshes it shortly before ``expiry``, and when a
call is answered 401 (``jwt expired``, or ``invalid token`` after Stokly revoked or rotated its
tokens) drops the token, grants a new one and resends that call once; a second 401 is the
caller's failure (permanent), never a loop. The grant itself
goes through a small client of its own, so its failures surface as ``UpstreamError`` on the
``/v1/grant`` route (transient for network errors, 429 and 5xx; permanent when refused) and
never as an ambiguous data write. No token, signature or secret appears in an error or log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from watchdog.connectors.http import TRANSIENT_STATUSES, ErrorKind, UpstreamError, parse_retry_after
from watchdog.connectors.stokly_parse import SYSTEM, grant_result
from watchdog.secret import Secret
from watchdog.stokly_assumed import STATUS_UNAUTHORISED

__all__ = ["GRANT_ROUTE", "StoklyAuth", "StoklyCredentials", "grant_signature"]

log = logging.getLogger(__name__)
GRANT_ROUTE = "/v1/grant"


@dataclass(frozen=True)
class StoklyCredentials:
    """An app grant's three strings; the repr never shows the secret."""

    account_key: str
    client_id: str
    client_secret: Secret = field(repr=False)


def grant_signature(client_id: str, client_secret: Secret) -> str:
    """Lowercase hex HMAC-SHA256(key=secret, msg=clientId)."""
    return hmac.new(client_secret.reveal().encode(), client_id.encode(), hashlib.sha256).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StoklyAuth(httpx.Auth):
    """Bearer auth from Stokly's app grant, refreshed before expiry and once after any 401."""

    def __init__(
        self,
        credentials: StoklyCredentials,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 15.0,
        margin_s: float = 90.0,
        clock: Callable[[], datetime] = _utc_now,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        self._credentials = credentials
        self._margin = timedelta(seconds=max(60.0, margin_s))
        self._clock = clock
        self._on_response = on_response
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._refresh_at: datetime | None = None
        self.grants = 0  # how many grants this auth has made
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), transport=transport,
                                       timeout=httpx.Timeout(timeout_s), follow_redirects=False)

    def __repr__(self) -> str:
        return f"StoklyAuth(account_key={self._credentials.account_key!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Not supported: the grant is asynchronous. Raises RuntimeError."""
        raise RuntimeError("StoklyAuth works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == STATUS_UNAUTHORISED:
            said = _message(await response.aread()) or "no message"
            log.info("stokly refused the token (%s); granting a new one and retrying once", said)
            token = await self.token(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    async def token(self, *, stale: str | None = None) -> str:
        """A valid access token: the cached one unless near expiry (or equal to ``stale``)."""
        async with self._lock:
            fresh = self._refresh_at is not None and self._clock() < self._refresh_at
            if self._token is not None and fresh and self._token != stale:
                return self._token
            if stale is not None and self._token == stale:
                self.forget()  # refused: never sent again, even if the grant below fails
            token, expiry = await self._grant()
            now = self._clock()
            margin = min(self._margin, max(timedelta(0), (expiry - now) / 2))
            self._token, self._refresh_at = token, expiry - margin
            return token

    def forget(self) -> None:
        """Drop the cached token (the next call grants a new one)."""
        self._token, self._refresh_at = None, None

    async def _grant(self) -> tuple[str, datetime]:
        creds = self._credentials
        body = {"accountkey": creds.account_key, "clientId": creds.client_id,
                "signature": grant_signature(creds.client_id, creds.client_secret)}
        try:
            response = await self._http.post(GRANT_ROUTE, json=body, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            raise UpstreamError(SYSTEM, GRANT_ROUTE, "timed out", kind=ErrorKind.TRANSIENT) from None
        except httpx.TransportError as exc:
            raise UpstreamError(SYSTEM, GRANT_ROUTE, f"network error: {type(exc).__name__}",
                                kind=ErrorKind.TRANSIENT) from None
        if self._on_response is not None:
            self._on_response(response)
        if response.status_code != 200:
            raise _grant_error(response)
        try:
            decoded = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise UpstreamError(SYSTEM, GRANT_ROUTE, "grant answer is not valid JSON",
                                kind=ErrorKind.TRANSIENT, status=200) from None
        self.grants += 1
        return grant_result(decoded, GRANT_ROUTE)


def _message(content: bytes) -> str | None:
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def _grant_error(response: httpx.Response) -> UpstreamError:
    status = response.status_code
    kind = ErrorKind.TRANSIENT if status in TRANSIENT_STATUSES else ErrorKind.PERMANENT
    message = _message(response.content) or "grant refused"
    return UpstreamError(SYSTEM, GRANT_ROUTE, f"grant failed: {message}", kind=kind, status=status,
                         retry_after=parse_retry_after(response))
