"""Build the Magento and Stokly clients of an integration from its configuration.

Credentials come as ``Secret`` from ``watchdog.config`` (Magento: a bearer token, the four
OAuth 1.0a values or an admin's name and password; Stokly: account key, client id and secret);
timeouts, concurrency and rate limits from the same config. ``observer`` (e.g.
``Metrics.observer(name)``) sees every request attempt and, being an ``OutcomeObserver``, how each
request ended (that is what keeps ``watchdog_source_up`` current between checks). Each client names
its integration in the log line of a request that failed for good. Transports and retry policies
can be injected (tests, simulators in-process).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from watchdog.config import IntegrationConfig, MagentoConfig, StoklyConfig
from watchdog.connectors.http import RequestObserver, RetryPolicy
from watchdog.connectors.magento import AdminLogin, BearerToken, MagentoAuth, MagentoClient, OAuth1Credentials
from watchdog.connectors.stokly import StoklyClient, StoklyCredentials

__all__ = ["ClientOptions", "Clients", "magento_auth", "magento_client", "open_clients", "stokly_client",
           "tls_context"]


@dataclass(frozen=True)
class ClientOptions:
    """What tests and embedded setups inject; production leaves everything at None."""

    magento_transport: httpx.AsyncBaseTransport | None = None
    stokly_transport: httpx.AsyncBaseTransport | None = None
    retry: RetryPolicy | None = None
    magento_page_size: int = 100  # a changed-since feed is worked through as it is read: no need for 300


@dataclass(frozen=True)
class Clients:
    magento: MagentoClient
    stokly: StoklyClient


def magento_auth(config: MagentoConfig) -> MagentoAuth:
    """The Magento credentials of ``config``. Raises ValueError when the config lacks them."""
    if config.auth == "bearer":
        if config.bearer_token is None:
            raise ValueError("Magento auth is 'bearer' but no token is configured")
        return BearerToken(config.bearer_token)
    if config.auth == "admin":
        if config.username is None or config.password is None:
            raise ValueError("Magento auth is 'admin' but the username or password is not configured")
        return AdminLogin(config.username, config.password)
    key, secret = config.consumer_key, config.consumer_secret
    token, token_secret = config.access_token, config.access_token_secret
    if key is None or secret is None or token is None or token_secret is None:
        raise ValueError("Magento auth is 'oauth1' but not all four OAuth values are configured")
    return OAuth1Credentials(key, secret, token, token_secret)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (building one costs ~50 ms: every client shares it)."""
    return httpx.create_ssl_context()


def _transport(concurrency: int) -> httpx.AsyncBaseTransport:
    limit = max(1, concurrency)
    return httpx.AsyncHTTPTransport(verify=tls_context(), limits=httpx.Limits(max_connections=limit,
                                                                              max_keepalive_connections=limit))


def magento_client(config: MagentoConfig, *, observer: RequestObserver | None = None,
                   options: ClientOptions | None = None, integration: str = "") -> MagentoClient:
    """A Magento client for ``config``. Raises ValueError (missing credentials, OAuth over plain http)."""
    options = options or ClientOptions()
    return MagentoClient(config.base_url, magento_auth(config), timeout_s=config.timeout_s,
                         concurrency=config.concurrency, rate_per_s=config.rate_per_s, retry=options.retry,
                         transport=options.magento_transport or _transport(config.concurrency), observer=observer,
                         page_size=options.magento_page_size, integration=integration)


def stokly_client(config: StoklyConfig, *, observer: RequestObserver | None = None,
                  options: ClientOptions | None = None, integration: str = "") -> StoklyClient:
    """A Stokly client for ``config`` (its token requests share the API's connection pool)."""
    options = options or ClientOptions()
    credentials = StoklyCredentials(config.account_key.reveal(), config.client_id.reveal(), config.client_secret)
    return StoklyClient(config.base_url, credentials, timeout_s=config.timeout_s, concurrency=config.concurrency,
                        rate_per_s=config.rate_per_s, retry=options.retry,
                        transport=options.stokly_transport or _transport(config.concurrency), observer=observer,
                        integration=integration)


@asynccontextmanager
async def open_clients(integration: IntegrationConfig, *, observer: RequestObserver | None = None,
                       options: ClientOptions | None = None) -> AsyncIterator[Clients]:
    """Both clients of ``integration``, closed on exit."""
    name = integration.name
    magento = magento_client(integration.magento, observer=observer, options=options, integration=name)
    stokly = stokly_client(integration.stokly, observer=observer, options=options, integration=name)
    try:
        yield Clients(magento, stokly)
    finally:
        await magento.aclose()
        await stokly.aclose()
