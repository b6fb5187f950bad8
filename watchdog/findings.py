"""The check contract: Finding, Severity, Team, Check, CheckContext, fingerprint.

A check is a pure function of a ``CheckContext`` (both snapshots, the ledger view,
a fixed ``now`` and its own config) to findings. It never touches the network,
the database or the clock. A check that needs a snapshot part that could not be
read calls ``need(...)``, which raises ``NotEvaluated``: the engine then leaves
that check's open findings as they were ("could not check" is never "all clear").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from watchdog.durations import parse_duration
from watchdog.model import LedgerView, MagentoSnapshot, StoklySnapshot

__all__ = [
    "Check",
    "CheckContext",
    "Finding",
    "Limits",
    "Measure",
    "NotEvaluated",
    "Severity",
    "Team",
    "fingerprint",
    "need",
]

T = TypeVar("T")
Measure = Decimal | int


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("info", "warning", "critical").index(self.value)


class Team(StrEnum):
    FINANCE = "finance"
    OPERATIONS = "operations"
    ECOMMERCE = "ecommerce"
    PLATFORM = "platform"


@dataclass(frozen=True)
class Finding:
    """One divergence. Identity is (check, subject); numbers and wording never change it."""

    check: str
    subject: str  # "sku:ABC-1", "order:000000123", "creditmemo:000000077"
    severity: Severity
    owner: Team
    summary: str
    measures: Mapping[str, Measure] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)


def fingerprint(integration: str, check: str, subject: str) -> str:
    """Stable identity of a finding: sha256 of integration, check and subject (64 hex chars)."""
    return hashlib.sha256(f"{integration}\x1f{check}\x1f{subject}".encode()).hexdigest()


class NotEvaluated(Exception):
    """A check could not run because a snapshot part is missing (a system was unreachable)."""

    def __init__(self, part: str, reason: str = "") -> None:
        self.part = part
        self.reason = reason
        super().__init__(f"{part} unavailable{': ' + reason if reason else ''}")


def need(value: T | None, part: str) -> T:
    """``value`` if the snapshot part was read; raises NotEvaluated(part) if it was not."""
    if value is None:
        raise NotEvaluated(part)
    return value


class Limits:
    """What a check could not judge in one run: reasons said once, and the subjects left alone.

    A check calls ``ctx.limit(reason, subjects=...)`` when part of what it needs is unknown
    (an upstream field it could not read). The reason is reported once per run with a count;
    the subjects' open findings are kept as they were ("could not check" is never "all clear").
    """

    __slots__ = ("reasons", "subjects")

    def __init__(self) -> None:
        self.reasons: dict[str, int] = {}
        self.subjects: set[str] = set()

    def add(self, reason: str, subjects: Iterable[str] = ()) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        self.subjects.update(subjects)

    def summary(self) -> tuple[str, ...]:
        """Each reason once, with how many records it held back when more than one."""
        return tuple(f"{reason} ({n} records)" if n > 1 else reason for reason, n in self.reasons.items())


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may look at, and where it says what it could not judge (``limit``)."""

    integration: str
    now: datetime
    currency: str
    magento: MagentoSnapshot
    stokly: StoklySnapshot
    ledger: LedgerView = field(default_factory=LedgerView)
    config: Mapping[str, Any] = field(default_factory=dict)
    magento_admin_url: str = ""
    stokly_app_url: str = "https://app.stok.ly"
    limits: Limits = field(default_factory=Limits, compare=False)

    def limit(self, reason: str, subjects: Iterable[str] = ()) -> None:
        """Say that part of the data could not be judged (``reason``, said once per run); the
        ``subjects`` named keep their open findings as they were this run."""
        self.limits.add(reason, subjects)

    def setting(self, key: str, default: T) -> T:
        """This check's config value ``key`` (from ``[integrations.checks.<id>]``), or ``default``."""
        value = self.config.get(key, default)
        return value if isinstance(value, type(default)) else default

    def duration(self, key: str, default: timedelta) -> timedelta:
        """A duration setting given as seconds (number) or text ("10m"); ``default`` if absent."""
        value = self.config.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=float(value))
        if isinstance(value, str):
            return parse_duration(value)
        return default


@runtime_checkable
class Check(Protocol):
    """A check module's class. ``run`` is pure: snapshots in, findings out."""

    id: ClassVar[str]
    owner: ClassVar[Team]
    runbook: ClassVar[str]
    needs: ClassVar[frozenset[str]]  # snapshot parts, e.g. {"magento.source_items", "stokly.stock_levels"}

    def run(self, ctx: CheckContext) -> Iterable[Finding]: ...
