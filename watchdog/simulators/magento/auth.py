"""Request authentication the way Magento's web API does it.

- ``Authorization: Bearer <token>``: an admin token (4 h), or an integration access token when
  ``integration_as_bearer`` is on; anything else degrades to a guest (then ACL -> 401).
- ``Authorization: OAuth ...``: verified like ``Magento\\Framework\\Oauth\\Oauth::
  validateAccessTokenRequest`` with Laminas' signer: protocol parameters from the header (values
  rawurldecoded, then rawurlencoded again by ``Helper\\Request::prepareRequest``), query
  parameters split on ``&``/``=`` and rawurldecoded, every key and value rawurlencoded, keys sorted
  with PHP ``strnatcmp`` (``uksort``), base string ``METHOD&enc(url)&enc(params)`` and key
  ``rawurlencode(cs)&rawurlencode(ts)``, HMAC-SHA256 (the only supported method).

Failures raise ``MagentoError`` with the sources' texts: ``Oauth\\Exception`` is an
``AuthenticationException`` (401), ``OauthInputException`` an ``InputException`` (400); REST
renders them as ordinary error bodies, e.g. 401 ``{"message":"The signature is invalid. Verify
and try again."}`` (as reported in magento/magento2#33940 and #37913).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import timedelta
from functools import cmp_to_key
from urllib.parse import quote, unquote, urlsplit

from .access import AccessOps, Principal
from .errors import REQUIRED_FIELD, Phrase, aggregate, bad_request, unauthorized

__all__ = ["authenticate", "base_string", "sign", "strnatcmp"]

REQUIRED = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce",
            "oauth_timestamp", "oauth_token")
TOKEN_LENGTH = 32
DIGITS = "0123456789"


def authenticate(state: AccessOps, method: str, url: str, authorization: str | None) -> Principal | None:
    """The caller of a request to ``url`` (scheme://host[:port]/raw-path?raw-query), or None (guest).

    Raises MagentoError for an OAuth header that does not verify.
    """
    header = authorization or ""
    if header[:7].lower() == "bearer ":
        return state.bearer_principal(header[7:].strip())
    if "oauth " not in header.lower():
        return None
    params = _header_params(header)
    return _verify_oauth(state, method, url, params)


def _header_params(header: str) -> dict[str, str]:
    rest = header[header.lower().index("oauth ") + 6:]
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep and name.startswith("oauth_"):
            params[unquote(name)] = unquote(value.strip('"'))
    return params


def _verify_oauth(state: AccessOps, method: str, url: str, params: dict[str, str]) -> Principal:
    _check_protocol(state, params)
    consumer = state.consumer_by_key(params["oauth_consumer_key"])
    if consumer is None:
        raise unauthorized("A consumer having the specified key does not exist")
    _check_nonce(state, consumer.id, params)
    token = state.integration_by_token(params["oauth_token"])
    if token is None:
        raise unauthorized("Specified token does not exist")
    if token.id != consumer.id:
        raise unauthorized("Token is not associated with the specified consumer")
    signed = {k: v if k == "oauth_signature" else quote(v, safe="") for k, v in params.items()}
    expected = sign(base_string(method, url, signed, state.settings.oauth_param_order),
                    consumer.consumer_secret, token.access_token_secret)
    if not hmac.compare_digest(expected, params["oauth_signature"]):
        raise unauthorized("The signature is invalid. Verify and try again.")
    return Principal("integration", consumer.id, consumer.resources)


def _check_protocol(state: AccessOps, params: dict[str, str]) -> None:
    version = params.get("oauth_version")
    if version is not None and version != "1.0":
        raise bad_request('The "%1" Oauth version isn\'t supported.', [version])
    missing = [Phrase(REQUIRED_FIELD, {"fieldName": name}) for name in REQUIRED if name not in params]
    if missing:
        raise aggregate(400, missing)
    if len(params["oauth_token"]) != TOKEN_LENGTH:
        raise bad_request("The token length is invalid. Check the length and try again.")
    if params["oauth_signature_method"] != "HMAC-SHA256":
        raise bad_request("Signature method %1 is not supported", [params["oauth_signature_method"]])
    if len(params["oauth_consumer_key"]) != TOKEN_LENGTH:
        raise unauthorized("Consumer key is not the correct length")


def _check_nonce(state: AccessOps, consumer_id: int, params: dict[str, str]) -> None:
    try:
        stamp = int(params["oauth_timestamp"])
    except ValueError:
        stamp = 0
    now = state.now()
    latest = (now + timedelta(seconds=state.settings.oauth_future_s)).timestamp()
    max_age = state.settings.oauth_max_age_s
    if stamp <= 0 or stamp > latest or (max_age is not None and stamp < now.timestamp() - max_age):
        raise bad_request("Incorrect timestamp value in the oauth_timestamp parameter")
    if not state.use_nonce(consumer_id, params["oauth_nonce"]):
        raise unauthorized("The nonce is already being used by the consumer with ID %1", [consumer_id])


# ------------------------------------------------------------------ Laminas signer


def rawurlencode(value: str) -> str:
    """PHP ``rawurlencode`` (RFC 3986: only ``A-Za-z0-9-._~`` stay as they are)."""
    return quote(value, safe="")


def base_string(method: str, url: str, oauth_params: Mapping[str, str], order: str = "natural") -> str:
    """The signature base string Magento computes for a request (``oauth_signature`` excluded)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        netloc += f":{parts.port}"
    normal_url = f"{parts.scheme.lower()}://{netloc.lower()}{parts.path}"
    params = {k: v for k, v in oauth_params.items() if k != "oauth_signature"}
    for pair in parts.query.split("&") if parts.query else []:
        pieces = pair.split("=")
        if len(pieces) == 2 and not pieces[0].startswith("oauth_"):
            params[unquote(pieces[0])] = unquote(pieces[1])
    encoded = {rawurlencode(k): rawurlencode(v) for k, v in params.items()}
    keys = sorted(encoded, key=cmp_to_key(strnatcmp)) if order == "natural" else sorted(encoded)
    normalized = "&".join(f"{k}={encoded[k]}" for k in keys)
    return "&".join([method.upper(), rawurlencode(normal_url), rawurlencode(normalized)])


def sign(base: str, consumer_secret: str, token_secret: str) -> str:
    """Base64 HMAC-SHA256 of ``base`` with key ``rawurlencode(cs)&rawurlencode(ts)``."""
    key = f"{rawurlencode(consumer_secret)}&{rawurlencode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


def strnatcmp(a: str, b: str) -> int:
    """PHP ``strnatcmp``: digit runs compare as numbers (``2`` < ``10``), other bytes as bytes."""
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] in DIGITS and b[j] in DIGITS:
            ei, ej = _digits_end(a, i), _digits_end(b, j)
            result = _compare_runs(a[i:ei], b[j:ej])
            if result:
                return result
            i, j = ei, ej
            continue
        if a[i] != b[j]:
            return -1 if a[i] < b[j] else 1
        i, j = i + 1, j + 1
    return (len(a) - i > 0) - (len(b) - j > 0)


def _digits_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] in DIGITS:
        end += 1
    return end


def _compare_runs(x: str, y: str) -> int:
    if x.startswith("0") or y.startswith("0"):  # "fractional" runs compare left-aligned
        return (x > y) - (x < y)
    if len(x) != len(y):
        return -1 if len(x) < len(y) else 1
    return (x > y) - (x < y)

