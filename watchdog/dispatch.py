"""The dispatch core: from persisted transitions to delivered messages, exactly once per channel.

``Dispatcher(store, config, notifiers, clock=..., observer=..., policy=...)``:

- ``dispatch_once(now) -> DispatchSummary`` reads every transition not yet delivered,
  routes it by owner team per integration (``[integrations.routes]``, team -> Slack
  channel; findings below ``policy.min_severity`` reach digests only), groups it per
  integration + check + channel, and when the group is due (group wait for a new
  incident, group interval after the last message, backoff after a failure) claims
  the group (lease, compare-and-set) and each delivery (``INSERT ... ON CONFLICT DO
  NOTHING``) before calling the notifier. Acks and silences suppress; an open
  ``source_unreachable`` finding holds its integration's other alerts (inhibition)
  until it resolves. Resolved notices are sent by default. A transient failure is
  retried with exponential backoff; a permanent one marks the channel broken,
  raises a platform finding and holds the channel's alerts, probing it every
  ``probe_interval``. Unchanged open groups are reminded every ``repeat_interval``
  (a ``reminded`` transition per finding).
- ``send_digests(now, kind) -> DigestSummary`` sends the due Slack team digests
  (``kind="slack"``) or the managers' daily email (``kind="email"``); see
  ``watchdog.digests``.

The observer hears every send attempt and every transition not sent
(``notification(channel, outcome)``: channel as in the delivery log, e.g.
"slack:#ops-alerts" or "email" ("" when unrouted); outcome "sent", "retry",
"failed", "suppressed", "unrouted") and every digest delivered
(``digest_sent(kind, at)``): that is what ``watchdog_notifications_total`` and
``watchdog_digest_last_sent_timestamp_seconds`` count.

Failure bias: a crash between a message leaving and its delivery row being marked
``sent`` can repeat that one message once the lease expires (at-least-once, like
Alertmanager); every other path sends once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from watchdog.config import Config
from watchdog.digests import Digests, DigestSummary, PlannedDigest
from watchdog.dispatch_channels import CHANNEL_CHECK, broken_channels, mark_broken, mark_working
from watchdog.dispatch_reminders import write_due_reminders
from watchdog.dispatch_rules import (
    DispatchObserver,
    DispatchPolicy,
    Fold,
    GroupState,
    NullObserver,
    Pending,
    backoff,
    channel_key,
    due_at,
    fold,
    is_silenced,
    route,
)
from watchdog.dispatch_store import (
    GroupKey,
    acquire_group,
    active_silences,
    alerts_by_fingerprint,
    claim_deliveries,
    group_states,
    inhibited_integrations,
    load_pending,
    mark_deliveries,
    owners,
    record_unrouted,
    release_group,
)
from watchdog.notify import Alert, DeliveryError, GroupMessage, Notifier, severity_rank
from watchdog.store.db import Store

__all__ = [
    "DigestSummary",
    "DispatchObserver",
    "DispatchPolicy",
    "DispatchSummary",
    "Dispatcher",
    "NullObserver",
    "utc_now",
]

log = logging.getLogger(__name__)

NEVER_INHIBITED = frozenset({"source_unreachable", "check_failed", CHANNEL_CHECK})


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class DispatchSummary:
    """What one ``dispatch_once`` did, counted in transitions unless named otherwise."""

    messages: int = 0  # messages sent (cards posted or updated, with their thread replies)
    delivered: int = 0  # transitions included in those messages
    suppressed: int = 0  # silenced, acked, below the severity threshold, flapped, never notified
    unrouted: int = 0  # no channel for the owner team (or no notifier of that kind)
    held: int = 0  # waiting: group wait or interval, inhibition, broken channel, backoff, another replica
    retrying: int = 0  # the send failed transiently; retried later with backoff
    failed: int = 0  # the send failed permanently (channel marked broken) or was given up
    reminders: int = 0  # ``reminded`` transitions written
    broken: tuple[str, ...] = ()  # channels newly marked broken


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    broken: list[str] = field(default_factory=list)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def merge(self, other: _Tally, *, skip: tuple[str, ...] = ()) -> None:
        for name, n in other.counts.items():
            if name not in skip:
                self.add(name, n)
        self.broken += other.broken

    def summary(self) -> DispatchSummary:
        return DispatchSummary(broken=tuple(self.broken), **dict(self.counts))


@dataclass(frozen=True)
class _Batch:
    key: GroupKey
    items: tuple[Pending, ...]


def default_owner() -> str:
    """A dispatcher id unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Routes, groups and delivers alerts; sends digests. Thread-compatible, not thread-safe."""

    def __init__(
        self,
        store: Store,
        config: Config,
        notifiers: Mapping[str, Notifier],
        *,
        clock: Callable[[], datetime] = utc_now,
        observer: DispatchObserver | None = None,
        policy: DispatchPolicy | None = None,
        owner: str | None = None,
        checks: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.config = config
        self.notifiers = dict(notifiers)
        self.clock = clock
        self.observer: DispatchObserver = observer or NullObserver()
        self.policy = policy or DispatchPolicy()
        self.owner = owner or default_owner()
        self.checks = tuple(checks)
        self.digests = Digests(store, config, self.notifiers, owner=self.owner, observer=self.observer,
                               policy=self.policy, checks=self.checks)

    # ------------------------------------------------------------------ digests

    def send_digests(self, now: datetime | None, kind: str) -> DigestSummary:
        """Send every digest of ``kind`` ("slack" or "email") due at ``now``, once per period.

        Returns each due digest's outcome (sent, already_sent, in_progress, retry,
        failed, skipped). Raises ValueError for an unknown kind.
        """
        return self.digests.send(now or self.clock(), kind)

    def plan_digests(self, now: datetime | None, kind: str, *, due_only: bool = False) -> list[PlannedDigest]:
        """The digests of ``kind`` as they would be sent at ``now``, without claiming or sending (previews)."""
        return self.digests.plan(now or self.clock(), kind, due_only=due_only)

    # ------------------------------------------------------------------ alerts

    def dispatch_once(self, now: datetime | None = None) -> DispatchSummary:
        """Deliver every due group once; write and send due reminders. Returns what happened."""
        now = now or self.clock()
        tally = _Tally()
        busy = self._run(now, tally)
        written = write_due_reminders(self.store, self.owner, now, self.policy, busy, NEVER_INHIBITED)
        if written:
            tally.add("reminders", written)
            again = _Tally()
            self._run(now, again)
            tally.merge(again, skip=("held", "unrouted"))  # those were counted by the first pass
        return tally.summary()

    def _run(self, now: datetime, tally: _Tally) -> set[GroupKey]:
        batches, pending_keys = self._plan(now, tally)
        failed_channels: set[str] = set()
        for batch in batches:
            if batch.key.channel in failed_channels:
                tally.add("held", len(batch.items))
                continue
            if not self._deliver(batch, now, tally):
                failed_channels.add(batch.key.channel)
        return pending_keys

    def _plan(self, now: datetime, tally: _Tally) -> tuple[list[_Batch], set[GroupKey]]:
        with self.store.session() as s:
            found = load_pending(s, now, self.policy.lease, self.policy.batch_limit)
            owner_of = owners(s, [p.pending.fingerprint for p in found if p.channel is None])
            grouped: dict[GroupKey, list[Pending]] = defaultdict(list)
            for item in found:
                channel = item.channel or self._route(item.pending, owner_of.get(item.pending.fingerprint))
                if channel is None or channel.startswith("!"):
                    record_unrouted(s, item.pending, (channel or "!no_route")[1:], now)
                    tally.add("unrouted")
                    self.observer.notification("", "unrouted")
                    continue
                grouped[GroupKey(item.pending.integration, item.pending.check, channel)].append(item.pending)
            inhibited = inhibited_integrations(s, self.policy.inhibiting_check)
            groups = group_states(s)
            broken = broken_channels(s)
        batches: list[_Batch] = []
        for key, items in grouped.items():
            state = groups.get(key, GroupState())
            if self._held(key, items, state, inhibited, {c for c, h in broken.items() if h.next_probe_at > now}, now):
                tally.add("held", len(items))
            else:
                batches.append(_Batch(key, tuple(items)))
        return sorted(batches, key=lambda b: b.items[0].transition_id), set(grouped)

    def _route(self, pending: Pending, owner: str | None) -> str | None:
        """The channel key, or a reason starting with "!" when nobody hears about it."""
        if owner is None:
            return "!finding_missing"
        try:
            integration = self.config.integration(pending.integration)
        except KeyError:
            return "!unknown_integration"
        channel = route(integration.routes, owner)
        if channel is None:
            return "!no_route"
        if "slack" not in self.notifiers:
            return "!no_notifier"
        return channel_key("slack", channel)

    def _held(self, key: GroupKey, items: Sequence[Pending], state: GroupState, inhibited: set[str],
              broken: set[str], now: datetime) -> bool:
        if key.integration in inhibited and key.check not in NEVER_INHIBITED:
            return True
        if key.channel in broken:
            return True
        return due_at(state, min(p.at for p in items), self.policy) > now

    def _deliver(self, batch: _Batch, now: datetime, tally: _Tally) -> bool:
        """Claim, fold and send one group's batch. False if the channel failed permanently."""
        key = batch.key
        with self.store.session() as s:
            state = acquire_group(s, key, self.owner, now, self.policy.lease)
            if state is None or due_at(state, min(p.at for p in batch.items), self.policy) > now:
                if state is not None:  # another dispatcher sent for this group since we planned
                    release_group(s, key, self.owner, now)
                tally.add("held", len(batch.items))
                return True
            claimed = claim_deliveries(s, key, batch.items, self.owner, now, self.policy.lease)
            alerts = alerts_by_fingerprint(s, {p.fingerprint for p in claimed} | state.shown)
            silences = active_silences(s, now)
        silenced = {fp for fp, a in alerts.items() if is_silenced(silences, a.integration, a.check, a.subject)}
        folded = fold(claimed, state, alerts, silenced, self.policy)
        included = [p for p in claimed if p.transition_id not in folded.suppressed]
        self._record_suppressed(key, folded, tally)
        if not folded.sends or not included:
            with self.store.session() as s:
                release_group(s, key, self.owner, now, shown=sorted(folded.shown))
            return True
        message = self._message(key, state, folded, alerts, now)
        kind = key.channel.split(":", 1)[0]
        try:
            receipt = self.notifiers[kind].send(message)
        except DeliveryError as exc:
            return self._failed(key, state, included, exc, now, tally)
        except Exception as exc:  # a notifier bug must not stop the other groups
            log.exception("notifier %s crashed", kind)
            return self._failed(key, state, included, DeliveryError(
                f"notifier crashed: {type(exc).__name__}", permanent=False, code="crash"), now, tally)
        self._sent(key, folded, included, receipt.ref or state.card_ref, now, tally)
        return True

    def _record_suppressed(self, key: GroupKey, folded: Fold, tally: _Tally) -> None:
        if not folded.suppressed:
            return
        by_reason: dict[str, list[int]] = defaultdict(list)
        for tid, reason in folded.suppressed.items():
            by_reason[reason].append(tid)
        with self.store.session() as s:
            for reason, ids in by_reason.items():
                mark_deliveries(s, key.channel, ids, status="suppressed", reason=reason)
        tally.add("suppressed", len(folded.suppressed))
        for _ in folded.suppressed:
            self.observer.notification(key.channel, "suppressed")

    def _message(self, key: GroupKey, state: GroupState, folded: Fold, alerts: Mapping[str, Alert],
                 now: datetime) -> GroupMessage:
        integration = self.config.integration(key.integration)
        shown = _ordered(alerts[fp] for fp in folded.shown if fp in alerts)
        return GroupMessage(
            destination=key.channel.split(":", 1)[1], integration=key.integration, check=key.check, at=now,
            opened=_ordered(alerts[fp] for fp in folded.opened), escalated=_ordered(alerts[fp] for fp in
                                                                                   folded.escalated),
            resolved=tuple(alerts[fp] for fp in folded.resolved), open=shown, reminder=folded.reminder,
            card_ref=state.card_ref, currency=integration.currency, timezone=integration.timezone,
            runbook=next((a.runbook for a in alerts.values() if a.runbook), ""),
        )

    def _sent(self, key: GroupKey, folded: Fold, included: Sequence[Pending], ref: str | None, now: datetime,
              tally: _Tally) -> None:
        with self.store.session() as s:
            mark_deliveries(s, key.channel, [p.transition_id for p in included], status="sent", sent_at=now,
                            ref=ref, attempt=True)
            release_group(s, key, self.owner, now, shown=sorted(folded.shown),
                          card_ref=ref if folded.shown else None, last_sent_at=now, attempts=0, next_attempt_at=None)
            if mark_working(s, key.channel, now):
                log.warning("notification channel %s works again", key.channel)
        tally.add("messages")
        tally.add("delivered", len(included))
        self.observer.notification(key.channel, "sent")

    def _failed(self, key: GroupKey, state: GroupState, included: Sequence[Pending], exc: DeliveryError,
                now: datetime, tally: _Tally) -> bool:
        attempts = state.attempts + 1
        give_up = now - min(p.at for p in included) >= self.policy.give_up_after
        wait = self.policy.probe_interval if exc.permanent else backoff(attempts, exc.retry_after, self.policy)
        error = f"{exc.code}: {exc}" if exc.code else str(exc)
        log.warning("delivery to %s failed (%s, attempt %d): %s", key.channel,
                    "permanent" if exc.permanent else "transient", attempts, error)
        with self.store.session() as s:
            mark_deliveries(s, key.channel, [p.transition_id for p in included],
                            status="failed" if give_up else "retry", error=error[:1000], attempt=True)
            if exc.permanent and mark_broken(s, key.channel, key.integration, exc.code or "permanent failure",
                                             now, now + wait):
                tally.broken.append(key.channel)
            release_group(s, key, self.owner, now, attempts=0 if give_up else attempts,
                          next_attempt_at=None if give_up else now + wait)
        tally.add("failed" if exc.permanent or give_up else "retrying", len(included))
        self.observer.notification(key.channel, "failed" if exc.permanent or give_up else "retry")
        return not exc.permanent


def _ordered(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    """Most severe first, then oldest first, then by subject."""
    return tuple(sorted(alerts, key=lambda a: (-severity_rank(a.severity), a.first_seen, a.subject)))
