"""The notifier contract: what the dispatch core hands a notifier, and how a notifier fails.

The core (``watchdog.dispatch``) reads the store, decides who is told what and when
(routing, grouping, reminders, acks, silences, inhibition, the delivery log) and
hands a notifier one plain, frozen message. The notifier (``alerts/``) only renders
the message for its service and delivers it::

    Notifier.send(message: GroupMessage | TeamDigest | ManagerDigest) -> Receipt
        raises DeliveryError(permanent=False)  try again later: 5xx, 429, timeout, connection refused, SMTP 4xx
        raises DeliveryError(permanent=True)   a person must act: bad token, unknown channel, SMTP 5xx, bad login

A notifier never retries on its own beyond what its client does for a short 429,
never reads the store, the config or the clock, and never puts a secret in an
error (``redact``). Messages carry plain strings for severity and team so this
module depends on nothing of ours but ``Secret``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from watchdog.secret import Secret

__all__ = [
    "SEVERITIES",
    "Alert",
    "CheckCount",
    "CoverageRow",
    "DeliveryError",
    "Figure",
    "GroupMessage",
    "ManagerDigest",
    "Measure",
    "Message",
    "Notifier",
    "Receipt",
    "Secret",
    "TeamDigest",
    "findings_command",
    "redact",
    "severity_rank",
]

Measure = Decimal | int
SEVERITIES = ("info", "warning", "critical")


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for critical; -1 for anything else."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def findings_command(integration: str, check: str | None = None) -> str:
    """The command line that lists the findings a message could not show in full."""
    command = f"watchdog findings list --integration {integration}"
    return f"{command} --check {check}" if check else command


@dataclass(frozen=True)
class Alert:
    """One finding as a person sees it. Text fields are untrusted: renderers must escape them."""

    fingerprint: str
    integration: str
    check: str
    subject: str
    severity: str  # info | warning | critical
    owner: str  # finance | operations | ecommerce | platform
    summary: str
    first_seen: datetime
    measures: Mapping[str, Measure] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    runbook: str = ""
    acked_by: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class GroupMessage:
    """What changed in one group (integration + check) for one Slack channel.

    ``open`` is everything the group's card shows now (including ``opened``);
    ``card_ref`` is the card's message reference from an earlier ``Receipt`` (None:
    post a new card). With nothing opened, escalated, resolved or reminded, the
    message only refreshes the card (numbers or acks changed).
    """

    destination: str
    integration: str
    check: str
    at: datetime
    opened: tuple[Alert, ...] = ()
    escalated: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()
    open: tuple[Alert, ...] = ()
    reminder: bool = False
    card_ref: str | None = None
    currency: str = "GBP"
    timezone: str = "Europe/London"
    runbook: str = ""

    @property
    def has_delta(self) -> bool:
        """True if people should be told something (not just a card refresh)."""
        return bool(self.opened or self.escalated or self.resolved or self.reminder)


@dataclass(frozen=True)
class Figure:
    """A headline number with yesterday's value for the trend (None: no history)."""

    key: str  # orders_not_in_warehouse | oversell_units | vat_overstated | tracking_not_sent | ...
    label: str
    value: Measure
    previous: Measure | None
    unit: Literal["count", "units", "money"]
    check: str
    team: str


@dataclass(frozen=True)
class CheckCount:
    """Open findings of one check, with what opened and resolved in the period."""

    check: str
    open: int
    new: int
    resolved: int
    critical: int = 0


@dataclass(frozen=True)
class CoverageRow:
    """How well one check ran in the period: ``ok``, ``gaps`` or ``not_checked``."""

    check: str
    status: Literal["ok", "gaps", "not_checked"]
    runs: int
    ok_runs: int
    last_outcome: str | None  # ok | not_evaluated | failed | None (never ran)
    last_run_at: datetime | None
    last_ok_at: datetime | None
    reason: str = ""


@dataclass(frozen=True)
class ManagerDigest:
    """The daily email for managers of one integration (one local calendar day)."""

    integration: str
    day: date
    generated_at: datetime
    since: datetime
    currency: str
    timezone: str
    sender: str
    recipients: tuple[str, ...]
    message_id: str
    figures: tuple[Figure, ...]
    by_check: tuple[CheckCount, ...]
    new: tuple[Alert, ...]
    new_total: int
    resolved: tuple[Alert, ...]
    resolved_total: int
    oldest: tuple[Alert, ...]
    open_total: int
    coverage: tuple[CoverageRow, ...]


@dataclass(frozen=True)
class TeamDigest:
    """A Slack digest for one team of one integration at one scheduled slot."""

    destination: str
    integration: str
    team: str
    slot: str  # e.g. "2026-11-26T08:00" local time
    generated_at: datetime
    since: datetime
    currency: str
    timezone: str
    figures: tuple[Figure, ...]
    by_check: tuple[CheckCount, ...]
    oldest: tuple[Alert, ...]
    open_total: int
    coverage: tuple[CoverageRow, ...]


Message = GroupMessage | TeamDigest | ManagerDigest


@dataclass(frozen=True)
class Receipt:
    """A delivered message. ``ref`` identifies it for later edits (Slack ``ts``, email Message-ID)."""

    ref: str | None = None


class DeliveryError(Exception):
    """A message was not delivered. ``permanent`` says whether retrying can help.

    ``retry_after`` (seconds) is the service's own hint; ``code`` a short machine
    reason (``invalid_auth``, ``channel_not_found``, ``smtp_451``, ``http_503``...).
    The text never contains a secret.
    """

    def __init__(self, message: str, *, permanent: bool, code: str = "", retry_after: float | None = None) -> None:
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        super().__init__(message)


@runtime_checkable
class Notifier(Protocol):
    """Delivers messages to one kind of service; ``kind`` ("slack", "email") labels metrics."""

    @property
    def kind(self) -> str: ...

    def send(self, message: Message) -> Receipt:
        """Deliver ``message``. Returns a Receipt; raises DeliveryError."""
        ...


def redact(text: str, secrets: Iterable[Secret | str | None]) -> str:
    """``text`` with every secret value replaced by ``**********`` (values shorter than 4 are left)."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            text = text.replace(value, "**********")
    return text
