"""The finding lifecycle as a pure function: (tracked findings, this run's results, now, policy) -> steps.

States: ``pending`` (seen, held back for ``pending_for``), ``open``, ``resolved``.
Transitions (the ``transition.kind`` values the engine writes):

- ``opened``: first seen (or seen again after being resolved), once held long enough;
- ``escalated``: severity went up;
- ``updated``: severity went down, or the summary or a measure changed;
- ``resolved``: absent from ``resolve_after`` consecutive *complete* runs of its check.

Only a check whose outcome is ``ok`` moves its findings: ``not_evaluated`` and
``failed`` leave them exactly as they were. A result may carry a ``scope`` (the subjects
it evaluated); findings of that check outside the scope are left alone too (the engine
uses it for ``check_failed``: a check that did not run says nothing about its crash).
``acked`` and ``reminded`` are written by the ``findings ack`` command and the dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fnmatch import fnmatchcase
from types import MappingProxyType

from watchdog.findings import Finding, Measure, Severity, fingerprint

__all__ = [
    "CheckResult",
    "Kind",
    "Outcome",
    "Policy",
    "Silence",
    "Status",
    "Step",
    "Tracked",
    "matching_silence",
    "plan",
    "same_measures",
]


class Outcome(StrEnum):
    OK = "ok"
    NOT_EVALUATED = "not_evaluated"
    FAILED = "failed"


class Status(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    RESOLVED = "resolved"


class Kind(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    ACKED = "acked"
    REMINDED = "reminded"


@dataclass(frozen=True)
class Tracked:
    """A stored finding that is pending or open, as the lifecycle sees it."""

    fingerprint: str
    check: str
    subject: str
    status: Status
    severity: Severity
    summary: str
    measures: Mapping[str, Measure]
    first_seen: datetime
    absent_runs: int = 0


@dataclass(frozen=True)
class CheckResult:
    """What one check said this run. ``findings`` count only when ``outcome`` is ``ok``."""

    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    scope: frozenset[str] | None = None  # subjects evaluated; None = all of the check's
    unjudged: frozenset[str] = frozenset()  # subjects the check could not judge: left as they were
    limits: tuple[str, ...] = ()  # what the check could not judge, in words (said once per run)


@dataclass(frozen=True)
class Policy:
    """Flap damping and hold-back, per check with defaults."""

    resolve_after: int = 2  # consecutive complete runs without a finding before it resolves
    pending_for: timedelta = timedelta(0)  # how long a new finding is held before it opens
    per_check_resolve_after: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    per_check_pending_for: Mapping[str, timedelta] = field(default_factory=lambda: MappingProxyType({}))

    def absences(self, check: str) -> int:
        """Absent runs needed to resolve a finding of ``check`` (at least 1)."""
        return max(1, self.per_check_resolve_after.get(check, self.resolve_after))

    def hold(self, check: str) -> timedelta:
        return self.per_check_pending_for.get(check, self.pending_for)


@dataclass(frozen=True)
class Step:
    """What happens to one finding: its new state and the transition to record (if any).

    ``finding`` is this run's presentation (None when the finding was absent);
    ``forget`` drops a pending finding that vanished before it ever opened.
    """

    fingerprint: str
    check: str
    subject: str
    status: Status
    kind: Kind | None
    finding: Finding | None
    first_seen: datetime
    absent_runs: int = 0
    previous_severity: Severity | None = None
    forget: bool = False


@dataclass(frozen=True)
class Silence:
    """Mutes notifications of matching findings until ``expires_at``. None matches anything."""

    id: int
    author: str
    comment: str
    created_at: datetime
    expires_at: datetime
    integration: str | None = None
    check: str | None = None
    subject: str | None = None  # a glob, e.g. "sku:ABC-*"

    def matches(self, integration: str, check: str, subject: str, now: datetime) -> bool:
        """True if active at ``now`` and every given matcher matches (globs, case-sensitive)."""
        if not self.created_at <= now < self.expires_at:
            return False
        pairs = ((self.integration, integration), (self.check, check), (self.subject, subject))
        return all(pattern is None or fnmatchcase(value, pattern) for pattern, value in pairs)


def matching_silence(silences: Iterable[Silence], integration: str, check: str, subject: str,
                     now: datetime) -> Silence | None:
    """The first silence that mutes this finding at ``now``, or None."""
    return next((s for s in silences if s.matches(integration, check, subject, now)), None)


def same_measures(a: Mapping[str, Measure], b: Mapping[str, Measure]) -> bool:
    """Equal keys and numerically equal values (Decimal("4") == Decimal("4.00") == 4)."""
    return a.keys() == b.keys() and all(Decimal(a[k]) == Decimal(b[k]) for k in a)


def plan(integration: str, tracked: Iterable[Tracked], results: Mapping[str, CheckResult], now: datetime,
         policy: Policy) -> tuple[Step, ...]:
    """The steps this run causes. Pure: no I/O, no clock; ``now`` is the run's time."""
    by_check: dict[str, list[Tracked]] = {}
    for t in tracked:
        by_check.setdefault(t.check, []).append(t)
    steps: list[Step] = []
    for check, result in results.items():
        if result.outcome is Outcome.OK:
            steps += _check_steps(integration, check, result, by_check.get(check, []), now, policy)
    return tuple(steps)


def _check_steps(integration: str, check: str, result: CheckResult, tracked: list[Tracked], now: datetime,
                 policy: Policy) -> list[Step]:
    known = {t.fingerprint: t for t in tracked}
    seen: set[str] = set()
    steps: list[Step] = []
    for finding in result.findings:
        fp = fingerprint(integration, check, finding.subject)
        seen.add(fp)
        steps.append(_present(fp, finding, known.get(fp), now, policy.hold(check)))
    for t in tracked:
        if t.fingerprint not in seen and (result.scope is None or t.subject in result.scope) \
                and t.subject not in result.unjudged:
            steps.append(_absent(t, policy.absences(check)))
    return steps


def _present(fp: str, finding: Finding, before: Tracked | None, now: datetime, hold: timedelta) -> Step:
    if before is None or before.status is Status.PENDING:
        first_seen = before.first_seen if before is not None else now
        opened = now - first_seen >= hold
        return Step(fp, finding.check, finding.subject, Status.OPEN if opened else Status.PENDING,
                    Kind.OPENED if opened else None, finding, first_seen)
    return Step(fp, finding.check, finding.subject, Status.OPEN, _change(before, finding), finding,
                before.first_seen, previous_severity=before.severity)


def _change(before: Tracked, finding: Finding) -> Kind | None:
    if finding.severity.rank > before.severity.rank:
        return Kind.ESCALATED
    if (finding.severity.rank < before.severity.rank or finding.summary != before.summary
            or not same_measures(finding.measures, before.measures)):
        return Kind.UPDATED
    return None


def _absent(t: Tracked, needed: int) -> Step:
    if t.status is Status.PENDING:
        return Step(t.fingerprint, t.check, t.subject, Status.PENDING, None, None, t.first_seen, forget=True)
    absent = t.absent_runs + 1
    resolved = absent >= needed
    return Step(t.fingerprint, t.check, t.subject, Status.RESOLVED if resolved else Status.OPEN,
                Kind.RESOLVED if resolved else None, None, t.first_seen, absent_runs=absent,
                previous_severity=t.severity if resolved else None)
