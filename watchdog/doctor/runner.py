"""Run every doctor check of one integration and gather them in a ``Report``.

Both clients are built by ``watchdog.clients`` exactly as the service builds them, but send
through a ``ReadOnlyTransport`` each (GET only, plus the token requests: Stokly's grant, and
Magento's admin sign-in when ``auth = "admin"``) and retry a failed
read once rather than five times: doctor reports, it does not wait out an outage.
"""

from __future__ import annotations

import asyncio

import httpx

from watchdog.clients import ClientOptions, magento_auth, open_clients, tls_context
from watchdog.config import IntegrationConfig
from watchdog.connectors.http import RetryPolicy
from watchdog.connectors.magento_oauth import require_secure_transport
from watchdog.connectors.stokly import GRANT_ROUTE
from watchdog.doctor.magento_checks import magento_checks
from watchdog.doctor.stokly_checks import stokly_checks
from watchdog.doctor.transport import ReadOnlyTransport
from watchdog.doctor.verdicts import Check, Report
from watchdog.doctor.wire_checks import clock_check, rate_limit_check

__all__ = ["AREAS", "examine", "usable"]

MAGENTO_SIGN_IN = "/V1/integration/admin/token"  # the only Magento POST, and only for auth = "admin"
RETRY = RetryPolicy(attempts=2, base_s=0.2, cap_s=2.0, max_retry_after_s=10.0)
AREAS = ("credentials", "clock", "route", "mapping", "rate limit", "shape")


def _wire(inner: httpx.AsyncBaseTransport | None, concurrency: int, token_paths: tuple[str, ...] = ()
          ) -> ReadOnlyTransport:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return ReadOnlyTransport(inner or httpx.AsyncHTTPTransport(verify=tls_context(), limits=limits),
                             token_paths=token_paths)


def _ordered(checks: list[Check | None]) -> tuple[Check, ...]:
    present = [c for c in checks if c is not None]
    return tuple(sorted(present, key=lambda c: AREAS.index(c.area)))


def usable(integration: IntegrationConfig) -> None:
    """Raise ValueError when the clients of ``integration`` cannot be built (missing credentials, OAuth over http)."""
    magento_auth(integration.magento)
    if integration.magento.auth == "oauth1":
        require_secure_transport(integration.magento.base_url)


async def examine(integration: IntegrationConfig, *, magento_transport: httpx.AsyncBaseTransport | None = None,
                  stokly_transport: httpx.AsyncBaseTransport | None = None) -> Report:
    """Every check of ``integration`` (call ``usable`` first: this raises ValueError where it would)."""
    sign_in = (MAGENTO_SIGN_IN,) if integration.magento.auth == "admin" else ()
    magento_wire = _wire(magento_transport, integration.magento.concurrency, sign_in)
    stokly_wire = _wire(stokly_transport, integration.stokly.concurrency, (GRANT_ROUTE,))
    options = ClientOptions(magento_transport=magento_wire, stokly_transport=stokly_wire, retry=RETRY)
    async with open_clients(integration, options=options) as clients:
        magento, stokly = await asyncio.gather(
            magento_checks(integration.magento, integration.sync, clients.magento),
            stokly_checks(integration.stokly, clients.stokly))
    checks = [*magento, clock_check("magento", magento_wire.exchanges), *stokly.checks,
              clock_check("stokly", stokly_wire.exchanges), rate_limit_check(stokly_wire.exchanges)]
    return Report(integration.name, integration.magento.base_url, integration.stokly.base_url, _ordered(checks),
                  tuple(stokly.calibration), tuple(stokly.sampled))
