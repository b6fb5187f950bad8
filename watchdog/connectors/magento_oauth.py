"""Authentication for Magento: Bearer tokens and OAuth 1.0a signed the way Magento verifies.

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

import base64
import hashlib
import hmac
from collections.abc import Generator, Iterable
from functools import cmp_to_key
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
from authlib.common.security import is_secure_transport
from authlib.oauth1 import ClientAuth

from watchdog.secret import Secret

__all__ = ["BearerAuth", "MagentoOAuth1", "base_string", "require_secure_transport", "signature", "strnatcmp"]

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
