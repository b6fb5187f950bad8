"""Repeat reminders: an unchanged open group is reminded every ``repeat_interval``.

A reminder is a ``reminded`` transition per still-open, unacked, unsilenced
finding the group's card shows, written under the group's lease; the dispatcher
then delivers those transitions like any other. A group with anything pending,
inhibited, on a broken channel or backing off is not reminded.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from watchdog.dispatch_channels import broken_channels
from watchdog.dispatch_rules import DispatchPolicy, GroupState, is_silenced
from watchdog.dispatch_store import (
    GroupKey,
    acquire_group,
    active_silences,
    alerts_by_fingerprint,
    group_states,
    inhibited_integrations,
    release_group,
    write_reminders,
)
from watchdog.notify import Alert
from watchdog.store.db import Store
from watchdog.store.models import TransitionRow

__all__ = ["write_due_reminders"]


def write_due_reminders(store: Store, owner: str, now: datetime, policy: DispatchPolicy,
                        busy: Collection[GroupKey], never_inhibited: Collection[str]) -> int:
    """Write reminders for every group due one; ``busy`` groups (with pending work) are skipped.

    Returns how many ``reminded`` transitions were written.
    """
    with store.session() as s:
        groups = group_states(s)
        inhibited = inhibited_integrations(s, policy.inhibiting_check)
        broken = set(broken_channels(s))
    written = 0
    for key, state in sorted(groups.items()):
        if key in busy or key.channel in broken or not _due(state, now, policy):
            continue
        if key.integration in inhibited and key.check not in never_inhibited:
            continue
        written += _remind(store, key, owner, now, policy)
    return written


def _due(state: GroupState, now: datetime, policy: DispatchPolicy) -> bool:
    if not state.shown or state.last_sent_at is None:
        return False
    if state.next_attempt_at is not None and state.next_attempt_at > now:
        return False
    return state.last_sent_at + policy.repeat_interval <= now


def _remind(store: Store, key: GroupKey, owner: str, now: datetime, policy: DispatchPolicy) -> int:
    with store.session() as s:
        state = acquire_group(s, key, owner, now, policy.lease)
        if state is None:
            return 0
        written = 0
        if _due(state, now, policy) and not _already_reminded(s, state):
            written = write_reminders(s, _remindable(s, state, now), now)
        release_group(s, key, owner, now)
    return written


def _already_reminded(session: Session, state: GroupState) -> bool:
    """True if a reminder for this group was written after its last message (another replica's)."""
    assert state.last_sent_at is not None
    return bool(session.execute(select(exists().where(
        TransitionRow.kind == "reminded", TransitionRow.at > state.last_sent_at,
        TransitionRow.fingerprint.in_(sorted(state.shown))))).scalar())


def _remindable(session: Session, state: GroupState, now: datetime) -> list[Alert]:
    silences = active_silences(session, now)
    alerts = alerts_by_fingerprint(session, state.shown)
    return [a for fp, a in sorted(alerts.items())
            if a.resolved_at is None and a.acked_by is None
            and not is_silenced(silences, a.integration, a.check, a.subject)]
