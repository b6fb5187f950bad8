"""The app grant: ``POST /v1/grant`` and bearer-token checks (reference section 3).

``signature`` must be the lowercase hex HMAC-SHA256 of the client id keyed with the client
secret. Tokens are JWT-shaped strings that this simulator remembers with their expiry; an
expired one is answered 401 ``{"message": "jwt expired"}``, a revoked one (``revoke_all``, as after
a restart or a key rotation) 401 ``{"message": "invalid token"}``. ``rotate_secret`` changes the
client secret the grant accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from watchdog.simulators.stokly.base import Clock
from watchdog.simulators.stokly.settings import StoklySimSettings
from watchdog.simulators.stokly.web import ApiError
from watchdog.stokly_assumed import (
    MSG_GRANT_REJECTED,
    MSG_JWT_EXPIRED,
    MSG_JWT_INVALID,
    MSG_JWT_MISSING,
    STATUS_UNAUTHORISED,
)

__all__ = ["Token", "TokenBook", "sign"]


def sign(client_id: str, client_secret: str) -> str:
    """The grant signature: lowercase hex HMAC-SHA256(key=secret, msg=clientId)."""
    return hmac.new(client_secret.encode(), client_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Token:
    value: str = ""
    account_key: str = ""
    expiry: datetime | None = None

    def __repr__(self) -> str:
        return f"Token(account_key={self.account_key!r}, expiry={self.expiry!r})"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenBook:
    """Issued tokens and their expiry; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self._secret: str | None = None  # a rotated client secret, in place of the settings' one
        self.grants = 0  # how many grants were issued (tests count refreshes)

    def grant(self, settings: StoklySimSettings, account_key: str, client_id: str, signature: str) -> Token:
        """Issue a token for valid credentials; raises ApiError 401 otherwise."""
        expected = sign(settings.client_id, self._secret or settings.client_secret)
        valid = (account_key == settings.account_key and client_id == settings.client_id
                 and hmac.compare_digest(signature.encode(), expected.encode()))
        if not valid:
            raise ApiError(STATUS_UNAUTHORISED, MSG_GRANT_REJECTED)
        expiry = self._clock() + timedelta(seconds=settings.token_lifetime_s)
        token = Token(self._jwt(account_key, client_id, expiry), account_key, expiry)
        with self._lock:
            self._tokens[token.value] = token
            self.grants += 1
        return token

    @staticmethod
    def _jwt(account_key: str, client_id: str, expiry: datetime) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"accountkey": account_key, "sub": client_id, "exp": int(expiry.timestamp()),
                  "jti": secrets.token_hex(8)}
        return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(secrets.token_bytes(32))}"

    def check(self, authorization: str | None) -> Token:
        """The token named by an ``Authorization: Bearer`` header; raises ApiError 401."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(STATUS_UNAUTHORISED, MSG_JWT_MISSING)
        with self._lock:
            token = self._tokens.get(value.strip())
        if token is None:
            raise ApiError(STATUS_UNAUTHORISED, MSG_JWT_INVALID)
        if token.expiry is not None and token.expiry <= self._clock():
            raise ApiError(STATUS_UNAUTHORISED, MSG_JWT_EXPIRED)
        return token

    def expire_all(self) -> int:
        """Make every issued token expired now; returns how many."""
        now = self._clock()
        with self._lock:
            self._tokens = {k: Token(t.value, t.account_key, now) for k, t in self._tokens.items()}
            return len(self._tokens)

    def revoke_all(self) -> int:
        """Forget every issued token (they are answered ``invalid token`` from now on); returns how many."""
        with self._lock:
            revoked, self._tokens = len(self._tokens), {}
            return revoked

    def rotate_secret(self, client_secret: str) -> int:
        """Accept only ``client_secret`` in grants from now on and revoke every token; returns how many."""
        if not client_secret:
            raise ValueError("the client secret must not be empty")
        with self._lock:
            self._secret = client_secret
        return self.revoke_all()
