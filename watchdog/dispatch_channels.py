"""Channel health: a permanent failure marks a channel broken and raises a platform finding.

The finding (check ``notification_channel``, subject ``channel:<kind>:<name>``, owner
PLATFORM, critical) is owned by the dispatcher, not by a check: it opens when the
channel breaks and resolves when a probe (the next real delivery, at most every
probe interval) succeeds. It reaches people through ``/findings``, metrics and the
digests even when the broken channel is the platform team's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.findings import fingerprint
from watchdog.store.models import FindingRow, TransitionRow
from watchdog.store.models_alerts import ChannelStateRow

__all__ = ["CHANNEL_CHECK", "ChannelHealth", "broken_channels", "mark_broken", "mark_working"]

CHANNEL_CHECK = "notification_channel"


@dataclass(frozen=True)
class ChannelHealth:
    """A broken channel and when to try it again."""

    channel: str
    reason: str
    since: datetime
    next_probe_at: datetime


def broken_channels(session: Session) -> dict[str, ChannelHealth]:
    """Every channel currently marked broken."""
    rows = session.execute(select(ChannelStateRow).where(ChannelStateRow.broken.is_(True))).scalars()
    return {row.channel: ChannelHealth(row.channel, row.reason or "", row.since or row.updated_at,
                                       row.next_probe_at or row.updated_at) for row in rows}


def mark_broken(session: Session, channel: str, integration: str, reason: str, now: datetime,
                next_probe_at: datetime) -> bool:
    """Mark ``channel`` broken (or push back its next probe); True if it was working until now."""
    row = session.get(ChannelStateRow, channel)
    if row is None:
        row = ChannelStateRow(channel=channel, broken=False, updated_at=now)
        session.add(row)
    newly = not row.broken
    if newly:
        row.since = now
        row.integration = integration
    row.broken, row.reason, row.next_probe_at, row.updated_at = True, reason, next_probe_at, now
    _open_finding(session, integration, channel, reason, now)
    return newly


def mark_working(session: Session, channel: str, now: datetime) -> bool:
    """Clear ``channel``'s broken mark and resolve its finding; True if it was broken."""
    row = session.get(ChannelStateRow, channel)
    if row is None or not row.broken:
        return False
    row.broken, row.next_probe_at, row.updated_at = False, None, now
    if row.integration:
        _resolve_finding(session, row.integration, channel, now)
    return True


def _summary(channel: str, reason: str) -> str:
    return (f"Notifications to {channel} fail permanently ({reason}); alerts for it are held and retried "
            f"until a person fixes the token or the channel")


def _open_finding(session: Session, integration: str, channel: str, reason: str, now: datetime) -> None:
    subject = f"channel:{channel}"
    fp = fingerprint(integration, CHANNEL_CHECK, subject)
    row = session.get(FindingRow, fp)
    if row is not None and row.status == "open":
        row.last_seen = now
        return
    summary = _summary(channel, reason)
    if row is None:
        row = FindingRow(fingerprint=fp, integration=integration, check=CHANNEL_CHECK, subject=subject,
                         severity="critical", owner="platform", status="open", summary=summary,
                         measures={}, links={}, runbook=f"docs/runbooks/{CHANNEL_CHECK}.md", first_seen=now,
                         last_seen=now, resolved_at=None, absent_runs=0)
        session.add(row)
    else:
        row.status, row.summary, row.first_seen, row.last_seen, row.resolved_at = "open", summary, now, now, None
        row.acked_by = row.acked_at = row.ack_comment = None
    session.add(TransitionRow(fingerprint=fp, integration=integration, check=CHANNEL_CHECK, kind="opened", at=now,
                              severity="critical", previous_severity=None, summary=summary, measures={}))


def _resolve_finding(session: Session, integration: str, channel: str, now: datetime) -> None:
    fp = fingerprint(integration, CHANNEL_CHECK, f"channel:{channel}")
    row = session.get(FindingRow, fp)
    if row is None or row.status != "open":
        return
    row.status, row.resolved_at, row.last_seen = "resolved", now, now
    session.add(TransitionRow(fingerprint=fp, integration=integration, check=CHANNEL_CHECK, kind="resolved",
                              at=now, severity=row.severity, previous_severity=None, summary=row.summary,
                              measures={}))
