"""Authentication for Magento: Bearer tokens, admin sign-in, and OAuth 1.0a signed the way Magento verifies.

Only the admin sign-in (``MagentoAdminAuth``) can renew itself: it asks
``POST /V1/integration/admin/token`` for a token at first use and again after any 401, and resends
the refused request once. An integration token and OAuth 1.0a credentials are fixed: a 401 with
them is a credential problem for a person (the client says so), never retried.

Authlib's ``ClientAuth`` supplies nonce, timestamp and the ``Authorization: OAuth ...`` header; we
register ``HMAC-SHA256`` on a private subclass (so Authlib's own table stays untouched) with a
signer that builds Magento's base string:

- query parameters are read from the URL exactly as sent: split on ``&`` and ``=``, then
  rawurldecoded (so a ``+`` stays a ``+``, as ``Helper\\Request`` reads it);
- protocol parameter values are rawurlencoded once more (``Helper\\Request::prepareRequest``);
- every key and value is rawurlencoded and the keys are sorted with PHP ``strnatcmp`` (Laminas'
  ``uksort``), so ``filters][2]`` sorts before ``filters][10]`` (an RFC 5849 signer sorts bytes
  and fails once 11+ entries share a searchCriteria index position);
- key ``rawurlencode(consumer_secret)&rawurlencode(token_secret)``; base64 HMAC-SHA256.

Authlib's ``integrations.httpx_client.OAuth1Auth`` is not used: it drops a JSON request body
(it signs non-form bodies as empty and sends the empty body) and warns on import with httpx.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncGenerator, Generator, Iterable
from functools import cmp_to_key
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
from authlib.common.security import is_secure_transport
from authlib.oauth1 import ClientAuth

from watchdog.connectors.http import TRANSIENT_STATUSES, ErrorKind, UpstreamError, parse_retry_after
from watchdog.secret import Secret

__all__ = ["SIGN_IN_ROUTE", "BearerAuth", "MagentoAdminAuth", "MagentoOAuth1", "base_string",
           "require_secure_transport", "signature", "strnatcmp"]

log = logging.getLogger(__name__)
SIGN_IN_PATH = "/rest/V1/integration/admin/token"
SIGN_IN_ROUTE = "POST /V1/integration/admin/token"
SYSTEM = "magento"

HMAC_SHA256 = "HMAC-SHA256"
DIGITS = "0123456789"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (an integration token or an admin token)."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=**********)"


def rawurlencode(value: str) -> str:
    """PHP ``rawurlencode``: everything but ``A-Za-z0-9-._~`` percent-encoded."""
    return quote(value, safe="")


def strnatcmp(a: str, b: str) -> int:
    """PHP ``strnatcmp``: runs of digits compare as numbers, everything else byte by byte."""
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] in DIGITS and b[j] in DIGITS:
            i_end, j_end = _run_end(a, i), _run_end(b, j)
            order = _compare_digit_runs(a[i:i_end], b[j:j_end])
            if order:
                return order
            i, j = i_end, j_end
        elif a[i] != b[j]:
            return -1 if a[i] < b[j] else 1
        else:
            i, j = i + 1, j + 1
    return (i < len(a)) - (j < len(b))


def _run_end(text: str, start: int) -> int:
    while start < len(text) and text[start] in DIGITS:
        start += 1
    return start


def _compare_digit_runs(x: str, y: str) -> int:
    if x[0] == "0" or y[0] == "0":  # PHP compares runs with leading zeros left-aligned
        return (x > y) - (x < y)
    return (len(x) > len(y)) - (len(x) < len(y)) or (x > y) - (x < y)


def _query_params(query: str) -> list[tuple[str, str]]:
    pairs = []
    for piece in query.split("&") if query else []:
        parts = piece.split("=")
        if len(parts) == 2 and not parts[0].startswith("oauth_"):
            pairs.append((unquote(parts[0]), unquote(parts[1])))
    return pairs


def base_string(method: str, url: str, oauth_params: Iterable[tuple[str, str]]) -> str:
    """Magento's signature base string for ``method`` ``url`` with these protocol parameters."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if parts.port is not None and parts.port != default_port:
        host = f"{host}:{parts.port}"
    params = {k: rawurlencode(v) for k, v in oauth_params if k not in ("oauth_signature", "realm")}
    params.update(_query_params(parts.query))
    encoded = {rawurlencode(k): rawurlencode(v) for k, v in params.items()}
    normalized = "&".join(f"{k}={encoded[k]}" for k in sorted(encoded, key=cmp_to_key(strnatcmp)))
    resource = f"{parts.scheme.lower()}://{host}{parts.path or '/'}"
    return "&".join([method.upper(), rawurlencode(resource), rawurlencode(normalized)])


def signature(base: str, consumer_secret: str, token_secret: str) -> str:
    """Base64 HMAC-SHA256 of ``base`` keyed ``rawurlencode(cs)&rawurlencode(ts)``."""
    key = f"{rawurlencode(consumer_secret)}&{rawurlencode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


def _sign_magento(client: Any, request: Any) -> str:
    """Authlib signature-method hook: sign ``request`` (an ``OAuth1Request``) for Magento."""
    base = base_string(request.method, request.uri, request.auth_params)
    return signature(base, client.client_secret or "", client.token_secret or "")


class _MagentoClientAuth(ClientAuth):  # type: ignore[misc]
    """Authlib's client with a private signature-method table holding Magento's HMAC-SHA256."""

    SIGNATURE_METHODS = dict(ClientAuth.SIGNATURE_METHODS)


_MagentoClientAuth.register_signature_method(HMAC_SHA256, _sign_magento)


def require_secure_transport(base_url: str) -> None:
    """Raise ValueError unless ``base_url`` is https or a loopback host (Authlib refuses to sign otherwise)."""
    if not is_secure_transport(base_url):
        raise ValueError(f"OAuth 1.0a needs an https base URL (or a loopback host), not {base_url!r}")


class MagentoOAuth1(httpx.Auth):
    """Signs every request (each retry gets a fresh nonce) with an integration's four credentials."""

    def __init__(self, consumer_key: Secret, consumer_secret: Secret, access_token: Secret,
                 access_token_secret: Secret) -> None:
        self._client = _MagentoClientAuth(
            consumer_key.reveal(), client_secret=consumer_secret.reveal(), token=access_token.reveal(),
            token_secret=access_token_secret.reveal(), signature_method=HMAC_SHA256)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _, headers, _ = self._client.sign(request.method, str(request.url), {}, b"")
        request.headers["Authorization"] = headers["Authorization"]
        yield request

    def __repr__(self) -> str:
        return "MagentoOAuth1(credentials=**********)"


class MagentoAdminAuth(httpx.Auth):
    """``Bearer <admin token>``, signed in with an admin's name and password; renewed once after a 401.

    Magento's admin tokens expire (``oauth/access_token_lifetime/admin``, 4 h by default) and are
    revoked by a password change. The sign-in goes through a small client of its own; its failures
    raise ``UpstreamError`` on ``SIGN_IN_ROUTE`` (permanent for 400/401: wrong password, 2FA).
    """

    def __init__(self, username: str, password: Secret, base_url: str, *,
                 transport: httpx.AsyncBaseTransport | None = None, timeout_s: float = 15.0) -> None:
        self._username, self._password = username, password
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self.sign_ins = 0  # how many tokens this auth has asked for
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), transport=transport,
                                       timeout=httpx.Timeout(timeout_s), follow_redirects=False)

    def __repr__(self) -> str:
        return f"MagentoAdminAuth(username={self._username!r}, password=**********)"

    async def aclose(self) -> None:
        await self._http.aclose()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Not supported: signing in is asynchronous. Raises RuntimeError."""
        raise RuntimeError("MagentoAdminAuth works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            log.info("magento refused the admin token; signing in again and retrying once")
            request.headers["Authorization"] = f"Bearer {await self.token(stale=token)}"
            yield request

    async def token(self, *, stale: str | None = None) -> str:
        """The cached admin token, or a new one when there is none or it is ``stale``. Raises UpstreamError."""
        async with self._lock:
            if self._token == stale:
                self._token = None  # refused: never sent again, even if the sign-in below fails
            if self._token is None:
                self._token = await self._sign_in()
            return self._token

    async def _sign_in(self) -> str:
        body = {"username": self._username, "password": self._password.reveal()}
        try:
            response = await self._http.post(SIGN_IN_PATH, json=body, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            raise UpstreamError(SYSTEM, SIGN_IN_ROUTE, "timed out", kind=ErrorKind.TRANSIENT) from None
        except httpx.TransportError as exc:
            raise UpstreamError(SYSTEM, SIGN_IN_ROUTE, f"network error: {type(exc).__name__}",
                                kind=ErrorKind.TRANSIENT) from None
        token = _json(response.content)
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise _sign_in_error(response)
        self.sign_ins += 1
        return token


def _json(content: bytes) -> object:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None


def _sign_in_error(response: httpx.Response) -> UpstreamError:
    status = response.status_code
    body = _json(response.content)
    said = body.get("message") if isinstance(body, dict) else None
    kind = ErrorKind.TRANSIENT if status in TRANSIENT_STATUSES or status == 200 else ErrorKind.PERMANENT
    message = f"admin sign-in failed: {said}" if isinstance(said, str) else "admin sign-in gave no token"
    return UpstreamError(SYSTEM, SIGN_IN_ROUTE, message, kind=kind, status=status,
                         retry_after=parse_retry_after(response))
