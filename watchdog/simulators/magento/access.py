"""Who may call the API: integrations (OAuth 1.0a credentials), admin users and admin tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from .core import locked
from .errors import ADMIN_SIGN_IN, TFA_REQUIRED, MagentoError, Phrase, unauthorized
from .records import AdminTokenRec, AdminUserRec, IntegrationRec
from .refunds import RefundOps
from .specs import IntegrationCredentials

__all__ = ["AccessOps", "Principal"]

ALL = "Magento_Backend::all"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: ``kind`` is ``integration`` or ``admin``; ``resources`` None = all."""

    kind: str
    user_id: int
    resources: frozenset[str] | None

    def allowed(self, resource: str) -> bool:
        """True when the caller holds ``resource`` (or all resources)."""
        return self.resources is None or resource in self.resources or ALL in self.resources


class AccessOps(RefundOps):
    """Integrations, admin users and tokens."""

    @locked
    def add_integration(self, name: str = "stokly", *, resources: Iterable[str] | None = None,
                        credentials: IntegrationCredentials | None = None) -> IntegrationCredentials:
        """Create and activate an integration; returns its four credentials (seeded, 32 chars each).

        ``resources=None`` grants every ACL resource (the "All" choice in the admin);
        ``credentials`` fixes the four values instead (``watchdog simulate`` documents its defaults).
        """
        keys = ((credentials.consumer_key, credentials.consumer_secret, credentials.access_token,
                 credentials.access_token_secret) if credentials is not None else
                (self.random_token(), self.random_token(), self.random_token(), self.random_token()))
        rec = IntegrationRec(self.next_id("integration"), name, *keys,
                             frozenset(resources) if resources is not None else None)
        self.integrations[rec.id] = rec
        return IntegrationCredentials(name, rec.consumer_key, rec.consumer_secret, rec.access_token,
                                      rec.access_token_secret)

    @locked
    def add_admin_user(self, username: str, password: str, *, resources: Iterable[str] | None = None) -> None:
        """Create an admin user who can obtain admin tokens."""
        self.admin_users[username] = AdminUserRec(self.next_id("admin_user"), username, password,
                                                  frozenset(resources) if resources is not None else None)

    @locked
    def issue_admin_token(self, username: str, password: str) -> str:
        """``POST /V1/integration/admin/token``: a JWT-looking string valid ``admin_token_ttl_s``.

        Raises MagentoError 401 (wrong credentials) or 400 (two-factor auth enabled).
        """
        user = self.admin_users.get(username)
        if user is None or user.password != password:
            raise unauthorized(ADMIN_SIGN_IN)
        if self.settings.two_factor_auth:
            raise MagentoError(400, Phrase(TFA_REQUIRED, {"active_providers": ["google"]}))
        token = "eyJraWQiOiIxIiwiYWxnIjoiSFMyNTYifQ." + self.random_token(48)
        expires = self.now() + timedelta(seconds=self.settings.admin_token_ttl_s)
        self.admin_tokens[token] = AdminTokenRec(token, user.id, expires)
        return token

    def bearer_principal(self, token: str) -> Principal | None:
        """The caller a Bearer token stands for, or None (treated as a guest)."""
        admin = self.admin_tokens.get(token)
        if admin is not None and admin.expires_at > self.now():
            user = next((u for u in self.admin_users.values() if u.id == admin.user_id), None)
            return Principal("admin", admin.user_id, user.resources) if user else None
        if not self.settings.integration_as_bearer:
            return None
        rec = next((i for i in self.integrations.values() if i.access_token == token), None)
        return Principal("integration", rec.id, rec.resources) if rec else None

    def consumer_by_key(self, key: str) -> IntegrationRec | None:
        """The integration whose consumer key is ``key``."""
        return next((i for i in self.integrations.values() if i.consumer_key == key), None)

    def integration_by_token(self, token: str) -> IntegrationRec | None:
        """The integration whose access token is ``token``."""
        return next((i for i in self.integrations.values() if i.access_token == token), None)

    def use_nonce(self, consumer_id: int, nonce: str) -> bool:
        """Record a nonce; False when the consumer already used it."""
        key = (consumer_id, nonce)
        if key in self.nonces:
            return False
        self.nonces.add(key)
        return True

