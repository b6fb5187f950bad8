"""The delivery log in the store: what is pending, who holds a group, what was sent.

Every function takes an open session (the caller owns the transaction) and does
one small thing. Claims are compare-and-set: a group is held by the dispatcher
whose conditional UPDATE of ``alert_group.lease_*`` returned the row; a delivery is
claimed by the ``INSERT ... ON CONFLICT DO NOTHING`` that inserted its row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from watchdog.dispatch_rules import GroupState, Pending, SilenceRule
from watchdog.notify import Alert, Measure
from watchdog.store.models import FindingRow, SilenceRow, TransitionRow
from watchdog.store.models_alerts import AlertGroupRow, DeliveryRow
from watchdog.store.queries import insert_if_absent

__all__ = [
    "GroupKey",
    "PendingDelivery",
    "acquire_group",
    "active_silences",
    "alerts_by_fingerprint",
    "claim_deliveries",
    "group_states",
    "inhibited_integrations",
    "load_pending",
    "mark_deliveries",
    "owners",
    "record_unrouted",
    "release_group",
    "to_alert",
    "to_measures",
    "write_reminders",
]

CHUNK = 500


@dataclass(frozen=True, order=True)
class GroupKey:
    """A notification group on one channel."""

    integration: str
    check: str
    channel: str


@dataclass(frozen=True)
class PendingDelivery:
    """A pending transition and the channel it already has (None: not routed yet)."""

    pending: Pending
    channel: str | None


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def to_measures(raw: Mapping[str, Any] | None) -> dict[str, Measure]:
    """Stored JSON measures back as int or Decimal (numbers may be stored as text); others dropped."""
    measures: dict[str, Measure] = {}
    for key, value in (raw or {}).items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            measures[key] = value
        elif isinstance(value, float | str):
            try:
                measures[key] = Decimal(str(value))
            except InvalidOperation:
                continue
    return measures


def to_alert(row: FindingRow) -> Alert:
    """The Alert a person sees for a finding row."""
    return Alert(
        fingerprint=row.fingerprint, integration=row.integration, check=row.check, subject=row.subject,
        severity=row.severity, owner=row.owner, summary=row.summary, first_seen=row.first_seen,
        measures=to_measures(row.measures), links={str(k): str(v) for k, v in (row.links or {}).items()},
        runbook=row.runbook, acked_by=row.acked_by, resolved_at=row.resolved_at,
    )


def load_pending(session: Session, now: datetime, policy_lease: timedelta, limit: int) -> list[PendingDelivery]:
    """Transitions never claimed, plus deliveries to retry and claims whose dispatcher died; oldest first."""
    fresh = session.execute(
        select(TransitionRow)
        .where(~exists().where(DeliveryRow.transition_id == TransitionRow.id))
        .order_by(TransitionRow.id).limit(limit)
    ).scalars().all()
    stale = session.execute(
        select(DeliveryRow, TransitionRow)
        .join(TransitionRow, TransitionRow.id == DeliveryRow.transition_id)
        .where(or_(DeliveryRow.status == "retry",
                   and_(DeliveryRow.status == "claimed", DeliveryRow.claimed_at < now - policy_lease)))
        .order_by(TransitionRow.id).limit(limit)
    ).all()
    found = [PendingDelivery(_pending(t), None) for t in fresh]
    found += [PendingDelivery(_pending(t, d), d.channel) for d, t in stale]
    return sorted(found, key=lambda p: p.pending.transition_id)


def _pending(t: TransitionRow, d: DeliveryRow | None = None) -> Pending:
    return Pending(transition_id=t.id, fingerprint=t.fingerprint, integration=t.integration, check=t.check,
                   kind=t.kind, at=t.at, severity=t.severity, delivery_id=d.id if d else None,
                   attempts=d.attempts if d else 0, muted=t.muted_by is not None)


def owners(session: Session, fingerprints: Iterable[str]) -> dict[str, str]:
    """The owner team of each finding that exists."""
    result: dict[str, str] = {}
    for chunk in _chunks(sorted(set(fingerprints))):
        rows = session.execute(select(FindingRow.fingerprint, FindingRow.owner)
                               .where(FindingRow.fingerprint.in_(chunk))).all()
        result.update({fp: owner for fp, owner in rows})  # noqa: C416 (Row tuples)
    return result


def alerts_by_fingerprint(session: Session, fingerprints: Iterable[str]) -> dict[str, Alert]:
    """The current state of each finding that exists, as Alerts."""
    result: dict[str, Alert] = {}
    for chunk in _chunks(sorted(set(fingerprints))):
        rows = session.execute(select(FindingRow).where(FindingRow.fingerprint.in_(chunk))).scalars()
        result.update({row.fingerprint: to_alert(row) for row in rows})
    return result


def active_silences(session: Session, now: datetime) -> list[SilenceRule]:
    """Silences in force at ``now``."""
    rows = session.execute(
        select(SilenceRow).where(SilenceRow.created_at <= now, SilenceRow.expires_at > now)
    ).scalars()
    return [SilenceRule(row.integration, row.check, row.subject) for row in rows]


def inhibited_integrations(session: Session, inhibiting_check: str) -> set[str]:
    """Integrations with an open ``inhibiting_check`` finding (a source is unreachable)."""
    return set(session.execute(
        select(FindingRow.integration).where(FindingRow.check == inhibiting_check, FindingRow.status == "open")
    ).scalars())


def group_states(session: Session) -> dict[GroupKey, GroupState]:
    """The state of every group that has ever been claimed."""
    return {GroupKey(row.integration, row.check, row.channel): _state(row)
            for row in session.execute(select(AlertGroupRow)).scalars()}


def _state(row: AlertGroupRow) -> GroupState:
    return GroupState(shown=frozenset(row.shown or ()), card_ref=row.card_ref, last_sent_at=row.last_sent_at,
                      next_attempt_at=row.next_attempt_at, attempts=row.attempts)


def acquire_group(session: Session, key: GroupKey, owner: str, now: datetime, lease: timedelta) -> GroupState | None:
    """Hold the group for ``lease`` (compare-and-set); its state, or None if another dispatcher holds it."""
    insert_if_absent(session, AlertGroupRow, {
        "integration": key.integration, "check": key.check, "channel": key.channel, "shown": [],
        "attempts": 0, "updated_at": now,
    }, ["integration", "check", "channel"])
    won = session.execute(
        update(AlertGroupRow)
        .where(*_key_clause(key), or_(AlertGroupRow.lease_until.is_(None), AlertGroupRow.lease_until < now,
                                      AlertGroupRow.lease_owner == owner))
        .values(lease_owner=owner, lease_until=now + lease, updated_at=now)
        .returning(AlertGroupRow.integration)
    ).first()
    if won is None:
        return None
    row = session.execute(select(AlertGroupRow).where(*_key_clause(key))
                          .execution_options(populate_existing=True)).scalar_one()
    return _state(row)


def release_group(session: Session, key: GroupKey, owner: str, now: datetime, **values: Any) -> None:
    """Store the group's new state (``values``) and give up the lease, if still ours."""
    session.execute(
        update(AlertGroupRow).where(*_key_clause(key), AlertGroupRow.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, updated_at=now, **values)
    )


def _key_clause(key: GroupKey) -> tuple[Any, ...]:
    return (AlertGroupRow.integration == key.integration, AlertGroupRow.check == key.check,
            AlertGroupRow.channel == key.channel)


def record_unrouted(session: Session, pending: Pending, reason: str, now: datetime) -> None:
    """Log a transition that no channel hears about (so it is not looked at again)."""
    insert_if_absent(session, DeliveryRow, {
        "transition_id": pending.transition_id, "fingerprint": pending.fingerprint,
        "integration": pending.integration, "check": pending.check, "channel": "", "status": "unrouted",
        "reason": reason, "attempts": 0, "claimed_at": now,
    }, ["transition_id", "channel"])


def claim_deliveries(
    session: Session, key: GroupKey, batch: Sequence[Pending], owner: str, now: datetime, lease: timedelta
) -> list[Pending]:
    """Claim each delivery of ``batch`` on the group's channel; the ones this call won, in order."""
    won: list[Pending] = []
    for pending in batch:
        if pending.delivery_id is None:
            ok = insert_if_absent(session, DeliveryRow, {
                "transition_id": pending.transition_id, "fingerprint": pending.fingerprint,
                "integration": pending.integration, "check": pending.check, "channel": key.channel,
                "status": "claimed", "claimed_by": owner, "claimed_at": now, "attempts": 0,
            }, ["transition_id", "channel"])
        else:
            ok = session.execute(
                update(DeliveryRow).where(
                    DeliveryRow.id == pending.delivery_id,
                    or_(DeliveryRow.status == "retry",
                        and_(DeliveryRow.status == "claimed", DeliveryRow.claimed_at < now - lease)))
                .values(status="claimed", claimed_by=owner, claimed_at=now).returning(DeliveryRow.id)
            ).first() is not None
        if ok:
            won.append(pending)
    return won


def mark_deliveries(
    session: Session, channel: str, transition_ids: Iterable[int], *, status: str, reason: str | None = None,
    sent_at: datetime | None = None, error: str | None = None, ref: str | None = None, attempt: bool = False,
) -> None:
    """Set the outcome of this channel's deliveries of ``transition_ids``."""
    ids = sorted(set(transition_ids))
    values: dict[str, Any] = {"status": status, "reason": reason, "sent_at": sent_at, "last_error": error,
                              "message_ref": ref}
    if attempt:
        values["attempts"] = DeliveryRow.attempts + 1
    for start in range(0, len(ids), CHUNK):
        session.execute(update(DeliveryRow).where(DeliveryRow.channel == channel,
                                                  DeliveryRow.transition_id.in_(ids[start:start + CHUNK]))
                        .values(**values))


def write_reminders(session: Session, alerts: Iterable[Alert], now: datetime) -> int:
    """A ``reminded`` transition for each still-open alert; how many were written."""
    count = 0
    for alert in alerts:
        session.add(TransitionRow(
            fingerprint=alert.fingerprint, integration=alert.integration, check=alert.check, kind="reminded",
            at=now, severity=alert.severity, previous_severity=None, summary=alert.summary,
            measures={k: str(v) if isinstance(v, Decimal) else v for k, v in alert.measures.items()},
        ))
        count += 1
    return count
