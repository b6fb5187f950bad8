"""The dispatch core's decisions, as pure functions of plain data (no store, no clock, no I/O).

- ``route``: which Slack channel hears about a team's findings of one integration;
- ``is_silenced``: does an active silence match a finding;
- ``due_at``: when a group may next send (group wait, group interval, backoff);
- ``fold``: what one batch of pending transitions means for a group's card
  (new, escalated, resolved, reminder, card refresh) and which transitions are
  suppressed, and why;
- ``backoff``: how long to wait after the n-th transient failure.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from watchdog.notify import Alert, severity_rank

__all__ = [
    "DispatchObserver",
    "DispatchPolicy",
    "Fold",
    "GroupState",
    "NullObserver",
    "Pending",
    "SilenceRule",
    "backoff",
    "channel_key",
    "due_at",
    "fold",
    "is_silenced",
    "route",
]

OPEN_KINDS = frozenset({"opened", "updated", "escalated", "reminded", "acked"})


class DispatchObserver(Protocol):
    """Hears what the dispatcher did, for metrics. Must not raise.

    ``notification(channel, outcome)``: one send attempt to ``channel`` (as in the
    delivery log: "slack:#ops-alerts", "email"; "" when unrouted) ended ``outcome``
    ("sent", "retry", "failed"), or one transition was "suppressed" or "unrouted" --
    for ``watchdog_notifications_total{channel,outcome}``. ``digest_sent(kind, at)``:
    a digest of ``kind`` was delivered -- for
    ``watchdog_digest_last_sent_timestamp_seconds``.
    """

    def notification(self, channel: str, outcome: str) -> None: ...

    def digest_sent(self, kind: str, at: datetime) -> None: ...


class NullObserver:
    """An observer that ignores everything."""

    def notification(self, channel: str, outcome: str) -> None:
        return None

    def digest_sent(self, kind: str, at: datetime) -> None:
        return None


@dataclass(frozen=True)
class DispatchPolicy:
    """Timers and thresholds of the dispatch core (Alertmanager's model, our defaults).

    ``min_severity``: findings below it reach the digests but not real-time Slack.
    ``give_up_after``: a delivery failing longer than this is marked failed.
    ``lease``: how long a dispatcher may hold a group while sending.
    ``probe_interval``: how often a broken channel is tried again.
    """

    group_wait: timedelta = timedelta(seconds=30)
    group_interval: timedelta = timedelta(minutes=5)
    repeat_interval: timedelta = timedelta(hours=4)
    send_resolved: bool = True
    min_severity: str = "warning"
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(minutes=15)
    give_up_after: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(minutes=5)
    probe_interval: timedelta = timedelta(minutes=15)
    batch_limit: int = 50_000  # pending transitions read per tick (held ones are re-read every tick)
    inhibiting_check: str = "source_unreachable"


@dataclass(frozen=True)
class Pending:
    """A transition waiting for delivery (``delivery_id`` set when an earlier attempt failed)."""

    transition_id: int
    fingerprint: str
    integration: str
    check: str
    kind: str
    at: datetime
    severity: str
    delivery_id: int | None = None
    attempts: int = 0
    muted: bool = False  # the engine muted it (a silence, or an update of an acked finding)


@dataclass(frozen=True)
class GroupState:
    """What a group's card shows and when it last sent (None fields: never)."""

    shown: frozenset[str] = frozenset()
    card_ref: str | None = None
    last_sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    attempts: int = 0


@dataclass(frozen=True)
class SilenceRule:
    """An active silence: None matches anything; ``subject`` is an fnmatch pattern."""

    integration: str | None
    check: str | None
    subject: str | None


@dataclass(frozen=True)
class Fold:
    """The meaning of one batch for one group.

    ``suppressed`` maps transition id -> reason; every other transition of the batch
    is part of the message. ``shown`` is what the card shows after the message.
    """

    opened: tuple[str, ...]
    escalated: tuple[str, ...]
    resolved: tuple[str, ...]
    reminder: bool
    refresh: bool
    shown: frozenset[str]
    suppressed: Mapping[int, str] = field(default_factory=dict)

    @property
    def sends(self) -> bool:
        """True if the batch needs a message (a delta, a reminder or a card refresh)."""
        return bool(self.opened or self.escalated or self.resolved or self.reminder or self.refresh)


def channel_key(kind: str, name: str) -> str:
    """The delivery log's name of a channel, e.g. ``slack:#ops-alerts``."""
    return f"{kind}:{name}"


def route(routes: Mapping[str, str], owner: str) -> str | None:
    """The Slack channel for ``owner``'s findings (config ``[integrations.routes]``), or None.

    A team without a route is unrouted: its findings reach the digests and metrics only.
    """
    return routes.get(owner) or None


def is_silenced(rules: Iterable[SilenceRule], integration: str, check: str, subject: str) -> bool:
    """True if any rule matches (integration, check, subject)."""
    return any(
        (rule.integration in (None, integration))
        and (rule.check in (None, check))
        and (rule.subject is None or fnmatch.fnmatchcase(subject, rule.subject))
        for rule in rules
    )


def due_at(group: GroupState, oldest_pending: datetime, policy: DispatchPolicy) -> datetime:
    """When the group may send next.

    An ongoing incident (the card shows something) waits ``group_interval`` after its
    last message; a new one waits ``group_wait`` after its oldest pending transition
    (and at least ``group_interval`` after the group's last message). Never before
    the backoff of a failed attempt.
    """
    if group.shown and group.last_sent_at is not None:
        start = group.last_sent_at + policy.group_interval
    else:
        start = oldest_pending + policy.group_wait
        if group.last_sent_at is not None:
            start = max(start, group.last_sent_at + policy.group_interval)
    if group.next_attempt_at is not None:
        start = max(start, group.next_attempt_at)
    return start


def backoff(attempts: int, retry_after: float | None, policy: DispatchPolicy) -> timedelta:
    """Wait after the ``attempts``-th consecutive failure: base * 2^(n-1), capped, at least ``retry_after``."""
    wait: timedelta = min(policy.retry_cap, policy.retry_base * (2 ** max(0, attempts - 1)))
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


@dataclass
class _Folding:
    shown: set[str]
    opened: dict[str, int] = field(default_factory=dict)  # fingerprint -> transition id that opened it here
    escalated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    reminder: bool = False
    refresh: bool = False
    suppressed: dict[int, str] = field(default_factory=dict)


def fold(
    batch: Sequence[Pending],
    group: GroupState,
    findings: Mapping[str, Alert],
    silenced: Collection[str],
    policy: DispatchPolicy,
) -> Fold:
    """Apply ``batch`` (in transition order) to the group's card.

    ``findings`` holds the current state of each finding by fingerprint; ``silenced``
    the fingerprints an active silence matches. A finding opened and resolved within
    one batch, never shown, is never notified (flap damping, like a group wait).
    """
    state = _Folding(shown=set(group.shown))
    for pending in batch:
        alert = findings.get(pending.fingerprint)
        if alert is None:
            state.suppressed[pending.transition_id] = "finding_missing"
        elif pending.kind == "resolved":
            _fold_resolved(state, pending, policy)
        elif pending.kind in OPEN_KINDS:
            _fold_open(state, pending, alert, pending.muted or pending.fingerprint in silenced, policy)
        else:
            state.suppressed[pending.transition_id] = "unknown_kind"
    return Fold(
        opened=tuple(fp for fp in state.opened if fp in state.shown),
        escalated=tuple(dict.fromkeys(fp for fp in state.escalated if fp in state.shown)),
        resolved=tuple(dict.fromkeys(state.resolved)),
        reminder=state.reminder,
        refresh=state.refresh,
        shown=frozenset(state.shown),
        suppressed=dict(state.suppressed),
    )


def _fold_resolved(state: _Folding, pending: Pending, policy: DispatchPolicy) -> None:
    fp = pending.fingerprint
    if fp in state.opened:  # opened in this very batch: nobody has heard of it yet
        state.suppressed[state.opened.pop(fp)] = "flapped"
        state.suppressed[pending.transition_id] = "flapped"
        state.shown.discard(fp)
    elif fp not in state.shown:
        state.suppressed[pending.transition_id] = "never_notified"
    elif not policy.send_resolved:
        state.shown.discard(fp)
        state.refresh = True
    else:
        state.shown.discard(fp)
        state.resolved.append(fp)


def _fold_open(state: _Folding, pending: Pending, alert: Alert, silenced: bool, policy: DispatchPolicy) -> None:
    fp = pending.fingerprint
    if fp in state.shown:
        if pending.kind == "escalated" and fp not in state.opened and not silenced:
            state.escalated.append(fp)
        elif pending.kind == "reminded" and not silenced and alert.acked_by is None:
            state.reminder = True
        else:
            state.refresh = True
        return
    reason = _not_shown_reason(pending, alert, silenced, policy)
    if reason is not None:
        state.suppressed[pending.transition_id] = reason
        return
    state.shown.add(fp)
    state.opened[fp] = pending.transition_id


def _not_shown_reason(pending: Pending, alert: Alert, silenced: bool, policy: DispatchPolicy) -> str | None:
    if silenced:
        return "silenced"
    if alert.acked_by is not None:
        return "acked"
    if severity_rank(pending.severity) < severity_rank(policy.min_severity):
        return "below_threshold"
    if pending.kind in ("reminded", "acked"):
        return "never_notified"
    return None

