"""Digests, once per period across restarts and replicas: Slack per team, email for managers.

Periods are local to each integration's time zone (Europe/London by default):

- ``email``: one per local calendar day, due from ``[schedule] email_digest`` (e.g.
  07:30); period ``"2026-11-26"``, audience ``"managers"``.
- ``slack``: one per team with a route, at each ``[schedule] slack_digest`` time;
  period ``"2026-11-26T08:00"``, audience the team.

Only the latest slot of the current local day is ever due: a restart catches up
once, a day the service was down is skipped, never replayed. Each digest is
claimed before sending (``digest`` row, ``INSERT ... ON CONFLICT DO NOTHING``; a
failed or abandoned claim is taken over with a conditional UPDATE) and marked
``sent`` after. A transient failure is retried with backoff within the period; a
permanent one marks the channel broken (platform finding) and is probed again
every ``probe_interval``. A crash between the SMTP server accepting the email and
the row being marked could repeat it once; the fixed Message-ID lets mail
clients recognise the twin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from watchdog import digest_data as data
from watchdog.config import Config, IntegrationConfig
from watchdog.dispatch_channels import mark_broken, mark_working
from watchdog.dispatch_rules import DispatchObserver, DispatchPolicy, backoff, channel_key
from watchdog.notify import DeliveryError, Figure, ManagerDigest, Notifier, TeamDigest
from watchdog.store.db import Store
from watchdog.store.models_alerts import DigestRow
from watchdog.store.queries import insert_if_absent

__all__ = ["DigestKey", "DigestOutcome", "DigestSummary", "Digests", "PlannedDigest", "due_period"]

log = logging.getLogger(__name__)
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class DigestKey:
    """One digest: kind (slack, email), integration, audience (a team or "managers"), period."""

    kind: str
    integration: str
    audience: str
    period: str


@dataclass(frozen=True)
class PlannedDigest:
    """A digest and the message that says it."""

    key: DigestKey
    message: TeamDigest | ManagerDigest


@dataclass(frozen=True)
class DigestOutcome:
    """What happened to one due digest: sent, already_sent, in_progress, retry, failed or skipped."""

    key: DigestKey
    status: str
    ref: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class DigestSummary:
    """Every due digest and what happened to it."""

    outcomes: tuple[DigestOutcome, ...] = ()

    @property
    def sent(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "sent")


def due_period(now: datetime, timezone: str, times: Sequence[str], *, daily: bool) -> tuple[str, datetime] | None:
    """The period due at ``now`` and its slot start (UTC), or None before today's first slot."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    passed = sorted(t for t in times if t <= local.strftime("%H:%M"))
    if not passed:
        return None
    hour, minute = (int(x) for x in passed[-1].split(":"))
    start = datetime.combine(local.date(), time(hour, minute), tzinfo=zone).astimezone(UTC)
    day = local.date().isoformat()
    return (day if daily else f"{day}T{passed[-1]}"), start


class Digests:
    """Plans, claims and sends digests (``Dispatcher.send_digests`` and ``watchdog digest`` use it)."""

    def __init__(self, store: Store, config: Config, notifiers: Mapping[str, Notifier], *, owner: str,
                 observer: DispatchObserver, policy: DispatchPolicy, checks: Sequence[str] = (),
                 limit: int = 15) -> None:
        self.store = store
        self.config = config
        self.notifiers = notifiers
        self.owner = owner
        self.observer = observer
        self.policy = policy
        self.checks = tuple(checks)
        self.limit = limit

    def plan(self, now: datetime, kind: str, *, due_only: bool = True) -> list[PlannedDigest]:
        """Every digest of ``kind`` (only those due now if ``due_only``), built from the store."""
        planned = []
        for key, build in self._targets(now, kind, due_only):
            with self.store.session() as s:
                planned.append(PlannedDigest(key, build(s)))
        return planned

    def send(self, now: datetime, kind: str) -> DigestSummary:
        """Claim and send every digest of ``kind`` due at ``now``. Returns what happened to each."""
        notifier = self.notifiers.get(kind)
        outcomes = []
        for key, build in self._targets(now, kind, True):
            if notifier is None:
                outcomes.append(DigestOutcome(key, "skipped", error=f"no {kind} notifier configured"))
                continue
            outcomes.append(self._send_one(key, build, notifier, now))
        return DigestSummary(tuple(outcomes))

    # ------------------------------------------------------------------ targets

    def _targets(self, now: datetime, kind: str,
                 due_only: bool) -> Iterable[tuple[DigestKey, Callable[[Session], TeamDigest | ManagerDigest]]]:
        if kind not in ("slack", "email"):
            raise ValueError(f"unknown digest kind {kind!r}: expected 'slack' or 'email'")
        for integration in self.config.integrations:
            times = [self.config.schedule.email_digest] if kind == "email" else self.config.schedule.slack_digest
            due = due_period(now, integration.timezone, times, daily=kind == "email")
            if due is None and due_only:
                continue
            period = due[0] if due else now.astimezone(ZoneInfo(integration.timezone)).date().isoformat()
            if kind == "email":
                yield DigestKey("email", integration.name, "managers", period), self._email_builder(integration, now)
                continue
            for team, channel in sorted(integration.routes.items()):
                key = DigestKey("slack", integration.name, team, period)
                yield key, self._slack_builder(integration, team, channel, key, now)

    def _email_builder(self, integration: IntegrationConfig,
                       now: datetime) -> Callable[[Session], ManagerDigest]:
        def build(s: Session) -> ManagerDigest:
            name, since = integration.name, now - DAY
            open_now = data.open_alerts(s, name)
            new, new_total = data.changes(s, name, "opened", since, now, limit=self.limit)
            resolved, resolved_total = data.changes(s, name, "resolved", since, now, limit=self.limit)
            sender = self.config.email.sender
            day = now.astimezone(ZoneInfo(integration.timezone)).date()
            return ManagerDigest(
                integration=name, day=day, generated_at=now, since=since, currency=integration.currency,
                timezone=integration.timezone, sender=sender, recipients=tuple(self.config.email.to),
                message_id=f"<watchdog-digest.{name}.{day.isoformat()}@{sender.rpartition('@')[2] or 'watchdog'}>",
                figures=data.figures(s, name, now, since, [f for f in data.FIGURES if f.email]),
                by_check=data.by_check(s, name, open_now, since, now), new=new, new_total=new_total,
                resolved=resolved, resolved_total=resolved_total, oldest=data.oldest(open_now, self.limit),
                open_total=len(open_now), coverage=data.coverage(s, name, since, now, self.checks))
        return build

    def _slack_builder(self, integration: IntegrationConfig, team: str, channel: str, key: DigestKey,
                       now: datetime) -> Callable[[Session], TeamDigest]:
        def build(s: Session) -> TeamDigest:
            name = integration.name
            since = _last_sent(s, key) or now - DAY
            open_now = data.open_alerts(s, name, owner=team)
            return TeamDigest(
                destination=channel, integration=name, team=team, slot=key.period, generated_at=now, since=since,
                currency=integration.currency, timezone=integration.timezone,
                figures=data.figures(s, name, now, since, [f for f in data.FIGURES if f.team == team]),
                by_check=data.by_check(s, name, open_now, since, now, owner=team),
                oldest=data.oldest(open_now, 5), open_total=len(open_now),
                coverage=data.coverage(s, name, now - DAY, now, self.checks))
        return build

    # ------------------------------------------------------------------ sending

    def _send_one(self, key: DigestKey, build: Callable[[Session], TeamDigest | ManagerDigest], notifier: Notifier,
                  now: datetime) -> DigestOutcome:
        with self.store.session() as s:
            attempts = _claim(s, key, self.owner, now, self.policy.lease)
            if attempts is None:
                return DigestOutcome(key, _status(s, key))
            message = build(s)
        try:
            receipt = notifier.send(message)
        except DeliveryError as exc:
            return self._failed(key, message, attempts + 1, exc, now)
        with self.store.session() as s:
            _finish(s, key, status="sent", sent_at=now, message_ref=receipt.ref, attempts=attempts + 1,
                    figures=_figures_json(message.figures), last_error=None)
            mark_working(s, self._channel(key, message), now)
        self.observer.notification(self._channel(key, message), "sent")
        self.observer.digest_sent(key.kind, now)
        return DigestOutcome(key, "sent", ref=receipt.ref)

    def _failed(self, key: DigestKey, message: TeamDigest | ManagerDigest, attempts: int, exc: DeliveryError,
                now: datetime) -> DigestOutcome:
        wait = self.policy.probe_interval if exc.permanent else backoff(attempts, exc.retry_after, self.policy)
        error = (f"{exc.code}: {exc}" if exc.code else str(exc))[:1000]
        status = "failed" if exc.permanent else "retry"
        log.warning("%s digest for %s (%s) failed: %s", key.kind, key.integration, key.audience, error)
        with self.store.session() as s:
            _finish(s, key, status=status, attempts=attempts, next_attempt_at=now + wait, last_error=error)
            if exc.permanent:
                mark_broken(s, self._channel(key, message), key.integration, exc.code or "permanent failure", now,
                            now + wait)
        self.observer.notification(self._channel(key, message), "failed" if exc.permanent else "retry")
        return DigestOutcome(key, status, error=error)

    @staticmethod
    def _channel(key: DigestKey, message: TeamDigest | ManagerDigest) -> str:
        return channel_key("slack", message.destination) if isinstance(message, TeamDigest) else "email"


def _where(key: DigestKey) -> tuple[Any, ...]:
    return (DigestRow.kind == key.kind, DigestRow.integration == key.integration,
            DigestRow.audience == key.audience, DigestRow.period == key.period)


def _claim(s: Session, key: DigestKey, owner: str, now: datetime, lease: timedelta) -> int | None:
    """Claim the digest; the attempts made so far, or None if sent or held by another dispatcher."""
    if insert_if_absent(s, DigestRow, {
        "kind": key.kind, "integration": key.integration, "audience": key.audience, "period": key.period,
        "status": "claimed", "claimed_by": owner, "claimed_at": now, "lease_until": now + lease, "attempts": 0,
        "figures": {},
    }, ["kind", "integration", "audience", "period"]):
        return 0
    row = s.execute(update(DigestRow).where(*_where(key), or_(
        and_(DigestRow.status.in_(("retry", "failed")), DigestRow.next_attempt_at <= now),
        and_(DigestRow.status == "claimed", DigestRow.lease_until < now)))
        .values(status="claimed", claimed_by=owner, claimed_at=now, lease_until=now + lease)
        .returning(DigestRow.attempts)).first()
    return None if row is None else int(row[0])


def _status(s: Session, key: DigestKey) -> str:
    status = s.execute(select(DigestRow.status).where(*_where(key))).scalar_one()
    return {"sent": "already_sent", "claimed": "in_progress"}.get(status, "waiting")


def _finish(s: Session, key: DigestKey, **values: Any) -> None:
    s.execute(update(DigestRow).where(*_where(key)).values(lease_until=None, **values))


def _last_sent(s: Session, key: DigestKey) -> datetime | None:
    return s.execute(select(func.max(DigestRow.sent_at)).where(
        DigestRow.kind == key.kind, DigestRow.integration == key.integration, DigestRow.audience == key.audience,
        DigestRow.status == "sent", DigestRow.period != key.period)).scalar()


def _figures_json(figures: Iterable[Figure]) -> dict[str, str]:
    return {f.key: str(f.value) for f in figures}
