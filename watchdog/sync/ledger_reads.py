"""Reading the sync ledger: states, targets, siblings, what is due, dead letters.

The base of ``Ledger`` (``watchdog.sync.ledger``), which adds the claims and outcomes. Every
method is one short read transaction. The states a row goes through are named here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from watchdog.store.db import Store
from watchdog.store.models_sync import SyncRecordRow

__all__ = [
    "CLAIMED", "CONFIRMED", "DEAD", "FAILED", "NEW", "QUARANTINED", "SKIPPED", "TAKEABLE", "WRITTEN",
    "Clock", "DeadLetter", "Due", "LedgerReads", "Sibling",
]

NEW, CLAIMED, WRITTEN, CONFIRMED = "new", "claimed", "written", "confirmed"
FAILED, DEAD, QUARANTINED, SKIPPED = "failed", "dead", "quarantined", "skipped"
TAKEABLE = (CLAIMED, WRITTEN, FAILED)
QUERY_BATCH = 500

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Due:
    """A ledger row whose next attempt is due (a retry, or its holder's lease ran out)."""

    flow: str
    source_id: str
    source_ref: str | None
    state: str


@dataclass(frozen=True)
class DeadLetter:
    """A record given up (dead) or held back (quarantined), with the last exchange, redacted."""

    flow: str
    source_id: str
    state: str
    attempts: int
    error_class: str | None
    last_error: str | None
    target_id: str | None
    updated_at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sibling:
    """Another row of the same flow and source_ref (e.g. another refund of the same order)."""

    source_id: str
    state: str
    plan: Mapping[str, Any] | None


class LedgerReads:
    """Read queries over one integration's ledger rows."""

    def __init__(self, store: Store, integration: str, clock: Clock) -> None:
        self.store = store
        self.integration = integration
        self.clock = clock

    def _row(self, flow: str) -> ColumnElement[bool]:
        return and_(SyncRecordRow.integration == self.integration, SyncRecordRow.flow == flow)

    def _get(self, s: Any, flow: str, source_id: str) -> SyncRecordRow | None:
        stmt = select(SyncRecordRow).where(self._row(flow), SyncRecordRow.source_id == source_id)
        row: SyncRecordRow | None = s.execute(stmt).scalar_one_or_none()
        return row

    def states(self, flow: str, source_ids: Iterable[str]) -> dict[str, str]:
        """The state of each of ``source_ids`` that has a row."""
        ids, found = list(dict.fromkeys(source_ids)), dict[str, str]()
        with self.store.session() as s:
            for i in range(0, len(ids), QUERY_BATCH):
                stmt = select(SyncRecordRow.source_id, SyncRecordRow.state).where(
                    self._row(flow), SyncRecordRow.source_id.in_(ids[i:i + QUERY_BATCH]))
                found.update(s.execute(stmt).all())
        return found

    def entry(self, flow: str, source_id: str) -> tuple[str, str | None] | None:
        """(state, target id) of one record, or None."""
        with self.store.session() as s:
            row = self._get(s, flow, source_id)
            return (row.state, row.target_id) if row is not None else None

    def source_of(self, flow: str, target_id: str) -> str | None:
        """The source id whose written or confirmed target is ``target_id`` (oldest first)."""
        r = SyncRecordRow
        stmt = (select(r.source_id).where(self._row(flow), r.target_id == target_id,
                                          r.state.in_((WRITTEN, CONFIRMED))).order_by(r.id).limit(1))
        with self.store.session() as s:
            return s.execute(stmt).scalar_one_or_none()

    def source_times(self, flow: str, source_ids: Sequence[str]) -> list[datetime]:
        """The known source times of these records (records without one are left out)."""
        r, ids, times = SyncRecordRow, list(source_ids), []
        with self.store.session() as s:
            for i in range(0, len(ids), QUERY_BATCH):
                stmt = select(r.source_time).where(self._row(flow), r.source_id.in_(ids[i:i + QUERY_BATCH]))
                times += [t for (t,) in s.execute(stmt) if t is not None]
        return times

    def targets(self, flow: str, source_ref: str) -> dict[str, str | None]:
        """source id -> target id of every row of ``flow`` under ``source_ref`` (e.g. an order's dispatches)."""
        r = SyncRecordRow
        with self.store.session() as s:
            rows = s.execute(select(r.source_id, r.target_id).where(self._row(flow), r.source_ref == source_ref))
            return dict(rows.all())

    def siblings(self, flow: str, source_ref: str, exclude: str) -> list[Sibling]:
        """Other rows of ``flow`` with the same ``source_ref``."""
        r = SyncRecordRow
        stmt = select(r).where(self._row(flow), r.source_ref == source_ref, r.source_id != exclude)
        with self.store.session() as s:
            return [Sibling(row.source_id, row.state, (row.detail or {}).get("plan"))
                    for row in s.execute(stmt).scalars()]

    def due(self, flow: str, limit: int = 1000) -> list[Due]:
        """Rows whose next attempt is due: retries and expired leases (oldest first)."""
        r, now = SyncRecordRow, self.clock()
        stmt = (select(r.source_id, r.source_ref, r.state)
                .where(self._row(flow), r.state.in_(TAKEABLE), or_(r.lease_until.is_(None), r.lease_until < now),
                       or_(r.next_attempt_at.is_(None), r.next_attempt_at <= now))
                .order_by(r.next_attempt_at, r.id).limit(limit))
        with self.store.session() as s:
            return [Due(flow, sid, ref, state) for sid, ref, state in s.execute(stmt)]

    def unposted(self, source_flow: str, posting_flow: str, limit: int = 1000) -> list[str]:
        """Distinct ``source_ref`` values of ``source_flow`` rows with a target but no ``posting_flow`` row."""
        r = SyncRecordRow
        posted = select(r.source_id).where(self._row(posting_flow))
        stmt = (select(r.source_ref).where(self._row(source_flow), r.target_id.is_not(None),
                                           r.source_ref.is_not(None), r.source_ref.not_in(posted))
                .group_by(r.source_ref).order_by(r.source_ref).limit(limit))
        with self.store.session() as s:
            return [ref for (ref,) in s.execute(stmt) if ref is not None]

    def dead_letters(self, flow: str | None = None, states: Sequence[str] = (DEAD, QUARANTINED)) -> list[DeadLetter]:
        """Rows in ``states`` (default dead and quarantined), oldest update first."""
        r = SyncRecordRow
        where = [r.integration == self.integration, r.state.in_(states)] + ([r.flow == flow] if flow else [])
        with self.store.session() as s:
            return [DeadLetter(row.flow, row.source_id, row.state, row.attempts, row.error_class, row.last_error,
                               row.target_id, row.updated_at, dict(row.detail or {}))
                    for row in s.execute(select(r).where(*where).order_by(r.updated_at, r.id)).scalars()]

    def values(self, flow: str) -> dict[str, tuple[str, str | None]]:
        """source id -> (state, payload hash or reason) of every row of a claim-less flow."""
        r = SyncRecordRow
        with self.store.session() as s:
            return {sid: (state, h if state == CONFIRMED else e)
                    for sid, state, h, e in s.execute(
                        select(r.source_id, r.state, r.payload_hash, r.last_error).where(self._row(flow)))}

