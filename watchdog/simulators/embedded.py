"""The embedded default: both simulators served on loopback, with known credentials.

``watchdog simulate``, ``watchdog demo`` and the end-to-end tests stand the two
systems up through ``EmbeddedSystems`` and get an ``IntegrationConfig`` that points
the real connectors at them, exactly as production points them at real URLs.

Default credentials (documented in the README; never use them anywhere real):

- Magento integration access token ``sim-magento-access-token`` (sent as a Bearer
  token; the simulator allows integration tokens as bearer tokens, like a store with
  ``oauth/consumer/enable_integration_as_bearer=1``), consumer key/secret
  ``sim-consumer-key``/``sim-consumer-secret``, token secret ``sim-token-secret``;
- Stokly account ``acme``, client id ``simclient0000000000000000a``, secret ``sim-secret``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import MappingProxyType, TracebackType
from typing import Any

from watchdog.config import IntegrationConfig, MagentoConfig, StoklyConfig, SyncConfig
from watchdog.secret import Secret
from watchdog.simulators.faults import FaultInjector
from watchdog.simulators.magento.app import create_app as magento_app
from watchdog.simulators.magento.specs import IntegrationCredentials
from watchdog.simulators.merchant import Merchant
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly.app import StoklySimApp
from watchdog.simulators.stokly.app import create_app as stokly_app
from watchdog.simulators.stokly.settings import StoklySimSettings
from watchdog.simulators.stokly.shape import ShapeRules

__all__ = ["DEFAULT_CREDENTIALS", "EmbeddedSystems", "SimCredentials"]


@dataclass(frozen=True)
class SimCredentials:
    magento_consumer_key: str = "sim-consumer-key"
    magento_consumer_secret: str = field(default="sim-consumer-secret", repr=False)
    magento_access_token: str = field(default="sim-magento-access-token", repr=False)
    magento_token_secret: str = field(default="sim-token-secret", repr=False)
    stokly_account: str = "acme"
    stokly_client_id: str = "simclient0000000000000000a"
    stokly_client_secret: str = field(default="sim-secret", repr=False)


DEFAULT_CREDENTIALS = SimCredentials()

#: Check settings that suit a merchant whose failures were injected hours ago.
DEMO_CHECKS: dict[str, dict[str, Any]] = {}


class EmbeddedSystems:
    """Magento and Stokly simulators for one merchant, served over real HTTP on loopback.

    ``stokly_shape`` (a scenario's ``[stokly.shape]``, ``ScenarioSpec.stokly_shape``) is what the
    Stokly simulator leaves out of its reads; ``stokly_app.settings.set_shape`` changes it live.
    """

    def __init__(self, merchant: Merchant, *, magento_port: int = 0, stokly_port: int = 0,
                 credentials: SimCredentials = DEFAULT_CREDENTIALS, stokly_rate_limit: int = 0,
                 stokly_shape: ShapeRules | None = None) -> None:
        self.merchant = merchant
        self.credentials = credentials
        merchant.magento.add_integration("stokly-watchdog", credentials=IntegrationCredentials(
            "stokly-watchdog", credentials.magento_consumer_key, credentials.magento_consumer_secret,
            credentials.magento_access_token, credentials.magento_token_secret))
        self.magento_faults = FaultInjector(seed=1)
        self.stokly_faults = FaultInjector(seed=2)
        settings = StoklySimSettings(account_key=credentials.stokly_account, client_id=credentials.stokly_client_id,
                                     client_secret=credentials.stokly_client_secret, rate_limit=stokly_rate_limit)
        self.stokly_app: StoklySimApp = stokly_app(merchant.stokly, settings=settings, faults=self.stokly_faults,
                                                   shape=stokly_shape)
        self._magento = ServedApp(magento_app(merchant.magento, injector=self.magento_faults), port=magento_port,
                                  name="magento")
        self._stokly = ServedApp(self.stokly_app, port=stokly_port, name="stokly")

    @property
    def magento_url(self) -> str:
        return self._magento.url

    @property
    def stokly_url(self) -> str:
        return self._stokly.url

    def start(self) -> EmbeddedSystems:
        self._magento.start()
        try:
            self._stokly.start()
        except Exception:
            self._magento.stop()
            raise
        return self

    def stop(self) -> None:
        self._stokly.stop()
        self._magento.stop()

    def __enter__(self) -> EmbeddedSystems:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def integration_config(self, name: str = "demo", *, checks: dict[str, dict[str, Any]] | None = None,
                           sync: SyncConfig | None = None, routes: dict[str, str] | None = None) -> IntegrationConfig:
        """An integration pointing the real connectors at the simulators (Bearer auth, no rate limit)."""
        c, m = self.credentials, self.merchant
        magento = MagentoConfig(base_url=self.magento_url, auth="bearer", source_code=m.source_code,
                                stock_id=m.stock_id, bearer_token=Secret(c.magento_access_token), rate_per_s=0.0)
        stokly = StoklyConfig(base_url=self.stokly_url, account_key=Secret(c.stokly_account),
                              client_id=Secret(c.stokly_client_id), client_secret=Secret(c.stokly_client_secret),
                              channel_id=m.channel_id, location_id=None, rate_per_s=0.0)
        frozen_checks = MappingProxyType({k: MappingProxyType(v) for k, v in (checks or DEMO_CHECKS).items()})
        return IntegrationConfig(name=name, currency="GBP", timezone="Europe/London", magento=magento,
                                 stokly=stokly, sync=sync or SyncConfig(settle=timedelta(seconds=5)),
                                 checks=frozen_checks, routes=MappingProxyType(routes or {}))

    def oauth_config(self, integration: IntegrationConfig) -> IntegrationConfig:
        """The same integration signing with OAuth 1.0a instead of a Bearer token."""
        c = self.credentials
        magento = replace(integration.magento, auth="oauth1", bearer_token=None,
                          consumer_key=Secret(c.magento_consumer_key),
                          consumer_secret=Secret(c.magento_consumer_secret),
                          access_token=Secret(c.magento_access_token),
                          access_token_secret=Secret(c.magento_token_secret))
        return replace(integration, magento=magento)
