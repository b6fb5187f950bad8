"""The sync worker's own record, read for the checks: ``load_ledger_view``.

- ``last_success``: per flow, when its latest run that moved data finished (outcome
  ``ok`` or ``partial``);
- ``notes``: per flow, the note of its latest run, when it left one (e.g. "no designated
  Stokly location": why a run that "succeeded" moved nothing);
- ``entries``: the ledger rows that need attention: ``failed``, ``dead``, ``quarantined``,
  and ``claimed`` rows whose lease ran out (a worker died holding them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from watchdog.model import LedgerEntry, LedgerView
from watchdog.store.db import Store
from watchdog.store.models_sync import FlowRunRow, SyncRecordRow

__all__ = ["ATTENTION_STATES", "SUCCESS_OUTCOMES", "load_ledger_view"]

SUCCESS_OUTCOMES = ("ok", "partial")
ATTENTION_STATES = ("failed", "dead", "quarantined")


def load_ledger_view(store: Store, integration: str, now: datetime) -> LedgerView:
    """The ledger view of ``integration`` as of ``now`` (rows from the future are ignored)."""
    with store.session() as session:
        return LedgerView(last_success=_last_success(session, integration, now),
                          entries=_entries(session, integration, now), notes=_notes(session, integration, now))


def _last_success(session: Session, integration: str, now: datetime) -> dict[str, datetime]:
    rows = session.execute(
        select(FlowRunRow.flow, func.max(FlowRunRow.finished_at))
        .where(FlowRunRow.integration == integration, FlowRunRow.outcome.in_(SUCCESS_OUTCOMES),
               FlowRunRow.finished_at <= now)
        .group_by(FlowRunRow.flow))
    return {flow: _utc(at) for flow, at in rows if at is not None}


def _notes(session: Session, integration: str, now: datetime) -> dict[str, str]:
    latest = (select(FlowRunRow.flow, func.max(FlowRunRow.finished_at).label("at"))
              .where(FlowRunRow.integration == integration, FlowRunRow.finished_at <= now)
              .group_by(FlowRunRow.flow).subquery())
    rows = session.execute(
        select(FlowRunRow.flow, FlowRunRow.note)
        .join(latest, and_(FlowRunRow.flow == latest.c.flow, FlowRunRow.finished_at == latest.c.at))
        .where(FlowRunRow.integration == integration, FlowRunRow.note.is_not(None)))
    return {flow: note for flow, note in rows if note}


def _entries(session: Session, integration: str, now: datetime) -> tuple[LedgerEntry, ...]:
    stuck = and_(SyncRecordRow.state == "claimed", SyncRecordRow.lease_until < now)
    rows = session.execute(
        select(SyncRecordRow).where(SyncRecordRow.integration == integration,
                                    or_(SyncRecordRow.state.in_(ATTENTION_STATES), stuck))
        .order_by(SyncRecordRow.flow, SyncRecordRow.source_id)).scalars()
    return tuple(LedgerEntry(flow=r.flow, source_id=r.source_id, state=r.state, target_id=r.target_id,
                             attempts=r.attempts, last_error=r.last_error, updated_at=r.updated_at) for r in rows)


def _utc(value: datetime) -> datetime:
    """An aggregate's datetime as aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
