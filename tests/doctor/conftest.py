"""Both simulators over real HTTP on loopback, each behind a recorder of the requests it receives,
and a config file pointing ``watchdog doctor`` at them (as in ``tests/e2e/test_check_command.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from watchdog.simulators.embedded import DEFAULT_CREDENTIALS
from watchdog.simulators.faults import FaultInjector
from watchdog.simulators.magento.app import create_app as magento_app
from watchdog.simulators.magento.specs import IntegrationCredentials
from watchdog.simulators.merchant import Merchant, build_merchant
from watchdog.simulators.scenario import SimClock, builtin_scenario
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly.app import create_app as stokly_app
from watchdog.simulators.stokly.settings import StoklySimSettings

CANARY = "canary-5e1f0c9d-never-print-me"


class Recorder:
    """ASGI middleware keeping (method, path) of every HTTP request that reaches the app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@dataclass
class Sims:
    merchant: Merchant
    magento_url: str
    stokly_url: str
    magento_log: Recorder
    stokly_log: Recorder

    def shape(self, rules: dict[str, Any]) -> None:
        """Change which fields the Stokly simulator serves (``POST /_sim/shape``)."""
        httpx.post(f"{self.stokly_url}/_sim/shape", json=rules, timeout=5).raise_for_status()

    def forget_requests(self) -> None:
        self.magento_log.requests.clear()
        self.stokly_log.requests.clear()


@pytest.fixture
def sims() -> Iterator[Sims]:
    now = datetime.now(UTC)
    clock = SimClock(now)
    merchant = build_merchant(builtin_scenario("demo"), now, clock=clock)
    clock.follow_real_time()
    c = DEFAULT_CREDENTIALS
    merchant.magento.add_integration("stokly-watchdog", credentials=IntegrationCredentials(
        "stokly-watchdog", c.magento_consumer_key, c.magento_consumer_secret, c.magento_access_token,
        c.magento_token_secret))
    settings = StoklySimSettings(account_key=c.stokly_account, client_id=c.stokly_client_id,
                                 client_secret=c.stokly_client_secret, rate_limit=0)
    magento = Recorder(magento_app(merchant.magento, injector=FaultInjector(seed=1)))
    stokly = Recorder(stokly_app(merchant.stokly, settings=settings, faults=FaultInjector(seed=2)))
    with ServedApp(magento, name="magento") as m, ServedApp(stokly, name="stokly") as s:
        yield Sims(merchant, m.url, s.url, magento, stokly)


ConfigWriter = Callable[..., Path]


@pytest.fixture
def write_config(sims: Sims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConfigWriter:
    """``write_config(**overrides)``: a config for the simulators; overrides change env values or keys."""
    c = DEFAULT_CREDENTIALS
    monkeypatch.setenv("DOCTOR_TEST_CANARY", CANARY)  # in the environment, referenced by nothing

    def write(*, magento_token: str = c.magento_access_token, stokly_secret: str = c.stokly_client_secret,
              channel_id: str | None = None, location_id: str = "", magento: str | None = None,
              import_states: str = '["processing"]') -> Path:
        for var, value in {"T_MAGENTO": magento_token, "T_ACCOUNT": c.stokly_account,
                           "T_CLIENT": c.stokly_client_id, "T_SECRET": stokly_secret}.items():
            monkeypatch.setenv(var, value)
        magento_auth = magento or 'auth = "bearer"\n  token_env = "T_MAGENTO"'
        path = tmp_path / "watchdog.toml"
        path.write_text(f"""
[database]
url = "sqlite:///{tmp_path}/w.db"
[[integrations]]
name = "sim"
  [integrations.magento]
  base_url = "{sims.magento_url}"
  {magento_auth}
  source_code = "{sims.merchant.source_code}"
  stock_id = {sims.merchant.stock_id}
  [integrations.stokly]
  base_url = "{sims.stokly_url}"
  account_key_env = "T_ACCOUNT"
  client_id_env = "T_CLIENT"
  client_secret_env = "T_SECRET"
  channel_id = "{channel_id or sims.merchant.channel_id}"
  location_id = "{location_id}"
  rate_per_s = 0
  [integrations.sync]
  import_states = {import_states}
""")
        return path

    return write
