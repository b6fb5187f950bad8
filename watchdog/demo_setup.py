"""Everything ``watchdog demo`` stands up: simulators, fake Slack and SMTP, SQLite, metrics, dispatcher.

``DemoEnvironment`` is a context manager; leaving it stops every server it started.
The configuration it builds is an ordinary ``Config``: the same objects a TOML file
gives production, pointed at loopback.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from watchdog.clients import ClientOptions, Clients, open_clients
from watchdog.config import (
    Config,
    DatabaseConfig,
    EmailConfig,
    IntegrationConfig,
    ScheduleConfig,
    ServerConfig,
    SlackConfig,
    SyncConfig,
)
from watchdog.connectors.http import RetryPolicy
from watchdog.dispatch import Dispatcher
from watchdog.dispatch_rules import DispatchPolicy
from watchdog.metrics import Metrics
from watchdog.notifiers import build_notifiers
from watchdog.registry import default_registry
from watchdog.secret import Secret
from watchdog.server import create_app
from watchdog.simulators.embedded import EmbeddedSystems
from watchdog.simulators.fake_slack import FakeSlack
from watchdog.simulators.merchant import build_merchant
from watchdog.simulators.scenario import SimClock, builtin_scenario
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.smtp import FakeSmtp
from watchdog.simulators.stokly.shape import ShapeRules
from watchdog.simulators.trading import TradingSimulation
from watchdog.store.db import Store, open_store, upgrade
from watchdog.store.finding_queries import findings_json

__all__ = ["DemoEnvironment"]

INTEGRATION = "demo-uk"
SLACK_TOKEN = "xoxb-demo-not-a-real-token"  # noqa: S105 - the local fake Slack's token
SHORT = "3s"
ROUTES = {"operations": "#ops-alerts", "finance": "#finance-alerts", "ecommerce": "#ecommerce-alerts",
          "platform": "#platform-alerts"}


def _check_settings() -> dict[str, dict[str, object]]:
    """Settle windows of seconds, not minutes: the demo's whole day lasts half a minute."""
    settings: dict[str, dict[str, object]] = {check: {"settle": SHORT} for check in default_registry().ids}
    settings["stale_stock_push"] = {"max_age": "8s", "critical_after": "20s"}
    settings["missing_orders"] = {"settle": SHORT, "critical_after": "20s"}
    settings["posting_sequence"] = {"settle": SHORT, "invoice_within": "30s"}
    return settings


class DemoEnvironment:
    """The demo's servers and stores, started on enter and stopped on exit."""

    def __init__(self, out: Path, *, seed: int = 7, metrics_port: int = 0,
                 stokly_shape: ShapeRules | None = None) -> None:
        now = datetime.now(UTC)
        clock = SimClock(now)
        self.merchant = build_merchant(builtin_scenario("shop"), now, clock=clock)
        clock.follow_real_time()
        self.systems = EmbeddedSystems(self.merchant, stokly_shape=stokly_shape)
        self.slack = FakeSlack(token=SLACK_TOKEN)
        self.smtp = FakeSmtp()
        self.store: Store = open_store(f"sqlite:///{out / 'watchdog.db'}")
        self.metrics = Metrics(store=self.store, integrations={INTEGRATION: "GBP"})
        self.trading = TradingSimulation(self.merchant, magento_faults=self.systems.magento_faults,
                                         stokly_faults=self.systems.stokly_faults, seed=seed)
        self._metrics_port = metrics_port
        self._servers: list[ServedApp] = []

    def __enter__(self) -> DemoEnvironment:
        upgrade(self.store.engine)
        self.systems.start()
        slack = self.slack.serve()
        self._servers.append(slack)
        self.smtp.start()
        server = ServedApp(create_app(self.metrics, findings=lambda: findings_json(self.store)),
                           port=self._metrics_port, name="metrics")
        self._servers.append(server.start())
        self.metrics_url = server.url
        self.config = self._config(FakeSlack.api_url(slack), self.smtp.port)
        self.dispatcher = Dispatcher(self.store, self.config, build_notifiers(self.config), observer=self.metrics,
                                     policy=DispatchPolicy(group_wait=timedelta(seconds=2),
                                                           group_interval=timedelta(seconds=4)))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for server in reversed(self._servers):
            server.stop()
        self.smtp.stop()
        self.systems.stop()
        self.store.dispose()

    def _config(self, slack_url: str, smtp_port: int) -> Config:
        integration = self.systems.integration_config(
            INTEGRATION, checks=_check_settings(), routes=ROUTES,
            sync=SyncConfig(settle=timedelta(seconds=1), overlap=timedelta(minutes=5)))
        return Config(
            source="watchdog demo", integrations=(integration,),
            server=ServerConfig(listen=f"127.0.0.1:{self._metrics_port}"),
            database=DatabaseConfig(url=str(self.store.engine.url)),
            slack=SlackConfig(token=Secret(SLACK_TOKEN), base_url=slack_url),
            email=EmailConfig(smtp_host="127.0.0.1", smtp_port=smtp_port, starttls=False,
                              sender="watchdog@demo.example", to=("ops-manager@demo.example",)),
            schedule=ScheduleConfig(slack_digest=("00:00",), email_digest="00:00"),
        )

    def clients(self, integration: IntegrationConfig) -> AbstractAsyncContextManager[Clients]:
        """Both connectors for ``integration``, counting requests in the metrics."""
        options = ClientOptions(retry=RetryPolicy(attempts=3, base_s=0.1, cap_s=1.0))
        return open_clients(integration, observer=self.metrics.observer(integration.name), options=options)


