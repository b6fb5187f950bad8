"""Helpers for the alert tests: a config, a store written as the engine writes it, recording fakes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from sqlalchemy import select

from watchdog.config import (
    Config,
    EmailConfig,
    IntegrationConfig,
    MagentoConfig,
    ScheduleConfig,
    SlackConfig,
    StoklyConfig,
)
from watchdog.dispatch import Dispatcher, DispatchPolicy
from watchdog.findings import fingerprint
from watchdog.notify import Message, Notifier, Receipt, Secret
from watchdog.store.db import Store
from watchdog.store.models import CheckRunRow, FindingRow, SilenceRow, TransitionRow
from watchdog.store.models_alerts import DeliveryRow

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 12:00 in London (GMT in November)
SLACK_TOKEN = "xoxb-test-secret-token-123"
ROUTES = {"operations": "#ops-alerts", "finance": "#finance-alerts", "platform": "#platform"}
FAST = DispatchPolicy(group_wait=timedelta(seconds=30), group_interval=timedelta(minutes=5),
                      repeat_interval=timedelta(hours=4), retry_base=timedelta(seconds=30),
                      retry_cap=timedelta(minutes=15))


def integration(name: str = "acme", *, routes: Mapping[str, str] | None = None, tz: str = "Europe/London",
                currency: str = "GBP") -> IntegrationConfig:
    return IntegrationConfig(
        name=name, currency=currency, timezone=tz,
        magento=MagentoConfig(base_url="http://magento.test", auth="bearer", source_code="stokly_main",
                              bearer_token=Secret("m")),
        stokly=StoklyConfig(base_url="http://stokly.test", account_key=Secret("a"), client_id=Secret("c"),
                            client_secret=Secret("s"), channel_id="ch"),
        routes=MappingProxyType(dict(ROUTES if routes is None else routes)))


def config(*integrations: IntegrationConfig, slack_url: str = "http://127.0.0.1:9/api/", smtp_port: int = 25,
           to: tuple[str, ...] = ("manager@example.com",), email_digest: str = "07:30",
           slack_digest: tuple[str, ...] = ("08:00", "16:00")) -> Config:
    return Config(
        source="test.toml", integrations=integrations or (integration(),),
        slack=SlackConfig(token=Secret(SLACK_TOKEN), base_url=slack_url),
        email=EmailConfig(smtp_host="127.0.0.1", smtp_port=smtp_port, starttls=False, sender="watchdog@acme.test",
                          to=to),
        schedule=ScheduleConfig(email_digest=email_digest, slack_digest=slack_digest))


def _encode(measures: Mapping[str, Decimal | int]) -> dict[str, Any]:
    return {k: v if isinstance(v, int) else str(v) for k, v in measures.items()}


def open_finding(store: Store, subject: str, *, at: datetime = NOW, check: str = "stock_divergence",
                 integration: str = "acme", severity: str = "warning", owner: str = "operations",
                 summary: str | None = None, measures: Mapping[str, Decimal | int] | None = None,
                 links: Mapping[str, str] | None = None, kind: str = "opened", muted_by: str | None = None) -> str:
    """Write (or update) a finding and one transition, as the engine does. Returns the fingerprint."""
    fp = fingerprint(integration, check, subject)
    text = summary or f"{subject} diverges"
    with store.session() as s:
        row = s.get(FindingRow, fp)
        if row is None:
            row = FindingRow(fingerprint=fp, integration=integration, check=check, subject=subject,
                             runbook=f"docs/runbooks/{check}.md", first_seen=at, absent_runs=0)
            s.add(row)
        row.severity, row.owner, row.status, row.summary = severity, owner, "open", text
        row.measures, row.links, row.last_seen, row.resolved_at = _encode(measures or {}), dict(links or {}), at, None
        if kind == "opened":
            row.first_seen, row.acked_by = at, None
        s.add(TransitionRow(fingerprint=fp, integration=integration, check=check, kind=kind, at=at,
                            severity=severity, previous_severity=None, summary=text,
                            measures=_encode(measures or {}), muted_by=muted_by))
    return fp


def resolve(store: Store, fp: str, at: datetime) -> None:
    with store.session() as s:
        row = s.get(FindingRow, fp)
        assert row is not None
        row.status, row.resolved_at = "resolved", at
        s.add(TransitionRow(fingerprint=fp, integration=row.integration, check=row.check, kind="resolved", at=at,
                            severity=row.severity, previous_severity=None, summary=row.summary,
                            measures=dict(row.measures)))


def ack(store: Store, fp: str, by: str, at: datetime) -> None:
    with store.session() as s:
        row = s.get(FindingRow, fp)
        assert row is not None
        row.acked_by, row.acked_at = by, at
        s.add(TransitionRow(fingerprint=fp, integration=row.integration, check=row.check, kind="acked", at=at,
                            severity=row.severity, previous_severity=None, summary=row.summary, measures={}))


def silence(store: Store, *, check: str | None = None, subject: str | None = None, at: datetime = NOW,
            hours: int = 4) -> None:
    with store.session() as s:
        s.add(SilenceRow(integration=None, check=check, subject=subject, author="alice", comment="known",
                         created_at=at - timedelta(minutes=1), expires_at=at + timedelta(hours=hours)))


def check_run(store: Store, check: str, outcome: str, at: datetime, *, integration: str = "acme",
              error: str | None = None) -> None:
    with store.session() as s:
        s.add(CheckRunRow(integration=integration, check=check, started_at=at - timedelta(seconds=5),
                          finished_at=at, outcome=outcome, findings=0, error=error))


def deliveries(store: Store) -> list[DeliveryRow]:
    with store.session() as s:
        return list(s.execute(select(DeliveryRow).order_by(DeliveryRow.transition_id)).scalars())


@dataclass
class RecordingNotifier:
    """A notifier that keeps every message; ``failures`` are raised first, one per send."""

    kind: str = "slack"
    sent: list[Message] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def send(self, message: Message) -> Receipt:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return Receipt(f"C1/{len(self.sent)}")


@dataclass
class RecordingObserver:
    notifications: list[tuple[str, str]] = field(default_factory=list)
    digests: list[tuple[str, datetime]] = field(default_factory=list)

    def notification(self, channel: str, outcome: str) -> None:
        self.notifications.append((channel, outcome))

    def digest_sent(self, kind: str, at: datetime) -> None:
        self.digests.append((kind, at))


def dispatcher(store: Store, cfg: Config, notifiers: Mapping[str, Notifier], *, owner: str = "d1",
               policy: DispatchPolicy = FAST, observer: RecordingObserver | None = None,
               checks: tuple[str, ...] = ()) -> Dispatcher:
    return Dispatcher(store, cfg, notifiers, owner=owner, policy=policy, observer=observer, checks=checks)
