"""The sync ledger: one row per (integration, flow, source record), claimed before any write.

Life of a row (``sync_record``)::

    (none) --claim--> claimed --------- write acknowledged, or found there ---------> confirmed
                         |   +--first of several writes--> written --the rest--------> confirmed
                         |                                     |
                         +------------- failure ---------------+--> failed --(due)--> claimed ...
                         |                                           |--> dead   (attempts or wait
                         |                                                        exhausted, or the
                         |                                                        target refused)
                         +-- bad source record --> quarantined (a person fixes it, then replays)

A write that ends its record goes from ``claimed`` to ``confirmed`` in one commit, made as soon as
the target answers with the new id: a crash before that commit leaves a ``claimed`` row that the
next holder resolves by finding the write (check-before-create), so nothing is lost by not
recording ``written`` first. A record that needs several writes (a refund that amends the order,
then raises a credit note) is ``written`` after the first, with the plan it follows.

- **Claim first.** ``claim`` inserts the row with ``INSERT ... ON CONFLICT DO NOTHING`` or takes
  over an existing one with a compare-and-set ``UPDATE ... WHERE <still takeable> RETURNING``:
  of any number of workers, replicas or restarts, exactly one holds a record at a time. A
  claim carries a lease; a holder that dies is replaced once the lease runs out, and that
  counts as a failed attempt.
- **A crash leaves a claim, never a blind write.** Whoever takes a record over goes back
  through check-before-create on the target (the flows do that on every attempt).
- **Retries by class** (``watchdog.sync.errors``): transient and ambiguous failures back off
  exponentially (ambiguous never sooner than ``ambiguous_delay``: a timed-out write may still
  land) and turn dead after ``max_attempts``; waiting retries at ``wait_interval`` until
  ``max_wait``; a person-class failure is dead (or quarantined) at once.
- **Dead letters** keep the last request and response, redacted, in ``detail``.

Every method is one short transaction; none spans a call to Magento or Stokly.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, update

from watchdog.store.db import Store
from watchdog.store.models_sync import SyncRecordRow
from watchdog.store.queries import get_cursor, insert_if_absent, set_cursor
from watchdog.sync.errors import ErrorClass
from watchdog.sync.ledger_reads import (
    CLAIMED,
    CONFIRMED,
    DEAD,
    FAILED,
    NEW,
    QUARANTINED,
    SKIPPED,
    TAKEABLE,
    WRITTEN,
    Clock,
    DeadLetter,
    Due,
    LedgerReads,
    Sibling,
)

__all__ = [
    "CLAIMED", "CONFIRMED", "DEAD", "FAILED", "NEW", "QUARANTINED", "SKIPPED", "WRITTEN",
    "Claim", "ClaimRequest", "DeadLetter", "Due", "Ledger", "LedgerPolicy", "Sibling", "default_worker_id",
]

MAX_ERROR = 4000

def _utc_now() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    """``host:pid``: who holds a claim, for people reading the ledger."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class LedgerPolicy:
    """Leases and retry timing. The defaults suit production; tests shorten them."""

    lease: timedelta = timedelta(minutes=10)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    ambiguous_delay: timedelta = timedelta(seconds=60)
    wait_interval: timedelta = timedelta(minutes=5)
    max_wait: timedelta = timedelta(days=3)

    def delay(self, error_class: ErrorClass, attempts: int) -> timedelta:
        """How long to wait before the next attempt after the ``attempts``-th failure."""
        if error_class is ErrorClass.WAITING:
            return self.wait_interval
        backoff: timedelta = min(self.retry_cap, self.retry_base * (2 ** max(0, attempts - 1)))
        return max(backoff, self.ambiguous_delay) if error_class is ErrorClass.AMBIGUOUS else backoff


@dataclass(frozen=True)
class ClaimRequest:
    """A record to claim: its id, its parent (e.g. a dispatch's sale order) and when it happened."""

    source_id: str
    source_ref: str | None = None
    source_time: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """A record this worker holds. ``previous`` is the state before the claim ("new" for a fresh row)."""

    row_id: int
    flow: str
    source_id: str
    previous: str
    source_ref: str | None = None
    target_id: str | None = None
    attempts: int = 0
    source_time: datetime | None = None
    created_at: datetime | None = None
    plan: Mapping[str, Any] | None = None


class Ledger(LedgerReads):
    """The sync ledger of one integration. Thread-compatible: each call is its own transaction."""

    def __init__(self, store: Store, integration: str, *, worker_id: str | None = None,
                 clock: Clock = _utc_now, policy: LedgerPolicy | None = None) -> None:
        super().__init__(store, integration, clock)
        self.worker_id = worker_id or default_worker_id()
        self.policy = policy or LedgerPolicy()

    # ------------------------------------------------------------------ claims

    def claim(self, flow: str, source_id: str, *, source_ref: str | None = None,
              source_time: datetime | None = None) -> Claim | None:
        """Hold ``source_id`` for this worker; None when it is done, given up, or held by another."""
        return self.claim_many(flow, [ClaimRequest(source_id, source_ref, source_time)]).get(source_id)

    def claim_many(self, flow: str, requests: Sequence[ClaimRequest]) -> dict[str, Claim]:
        """Claim several records in one transaction; returns the ones this worker now holds, by source id.

        Rows are taken in source id order, so two replicas claiming overlapping batches lock them in
        the same order (no deadlock on PostgreSQL).
        """
        now, claims = self.clock(), {}
        with self.store.session() as s:
            for request in sorted(requests, key=lambda r: r.source_id):
                claim = self._claim_one(s, flow, request, now)
                if claim is not None:
                    claims[request.source_id] = claim
        return claims

    def _claim_one(self, s: Any, flow: str, request: ClaimRequest, now: datetime) -> Claim | None:
        values: dict[str, Any] = {
            "integration": self.integration, "flow": flow, "source_id": request.source_id,
            "source_ref": request.source_ref, "state": CLAIMED, "attempts": 0, "source_time": request.source_time,
            "claimed_by": self.worker_id, "lease_until": now + self.policy.lease, "created_at": now,
            "updated_at": now, "detail": {}}
        if insert_if_absent(s, SyncRecordRow, values, ["integration", "flow", "source_id"]):
            row = self._get(s, flow, request.source_id)
            return _claim(row, NEW) if row is not None else None
        return self._take_over(s, flow, request.source_id, now, request.source_ref)

    def _take_over(self, s: Any, flow: str, source_id: str, now: datetime, source_ref: str | None) -> Claim | None:
        r = SyncRecordRow
        before = self._get(s, flow, source_id)
        if before is None or before.state not in TAKEABLE:
            return None
        previous = before.state
        died = r.state.in_((CLAIMED, WRITTEN))  # its holder's lease ran out: that attempt failed
        stmt = (update(r)
                .where(r.id == before.id, r.state == previous, r.state.in_(TAKEABLE),
                       or_(r.lease_until.is_(None), r.lease_until < now),
                       or_(r.next_attempt_at.is_(None), r.next_attempt_at <= now))
                .values(state=case((r.state == WRITTEN, WRITTEN), else_=CLAIMED),
                        attempts=case((died, r.attempts + 1), else_=r.attempts),
                        claimed_by=self.worker_id, lease_until=now + self.policy.lease, next_attempt_at=None,
                        source_ref=source_ref if source_ref is not None else r.source_ref, updated_at=now)
                .returning(r.id))
        if s.execute(stmt).first() is None:
            return None
        row = self._get(s, flow, source_id)
        return _claim(row, previous) if row is not None else None

    def _mine(self, claim: Claim) -> ColumnElement[bool]:
        return and_(SyncRecordRow.id == claim.row_id, SyncRecordRow.claimed_by == self.worker_id)

    # ------------------------------------------------------------------ outcomes

    def save_plan(self, claim: Claim, plan: Mapping[str, Any]) -> Claim:
        """Store what this record is about to write (before writing it); returns the updated claim."""
        with self.store.session() as s:
            row = s.get(SyncRecordRow, claim.row_id)
            if row is not None:
                row.detail = {**(row.detail or {}), "plan": dict(plan)}
                row.updated_at = self.clock()
        return Claim(**{**claim.__dict__, "plan": dict(plan)})

    def written(self, claim: Claim, target_id: str) -> None:
        """The write landed: remember the target id at once (the lease is kept until confirmed)."""
        self._set(claim, state=WRITTEN, target_id=target_id)

    def confirmed(self, claim: Claim, target_id: str | None) -> float | None:
        """The target shows the record; returns the lag in seconds from the source time, if known."""
        now = self.clock()
        self._set(claim, state=CONFIRMED, target_id=target_id, lease_until=None, next_attempt_at=None,
                  last_error=None, error_class=None)
        return (now - claim.source_time).total_seconds() if claim.source_time is not None else None

    def failed(self, claim: Claim, error_class: ErrorClass, reason: str, *, quarantine: bool = False,
               exchange: Mapping[str, Any] | None = None, target_id: str | None = None) -> str:
        """Record a failed attempt; returns the new state (failed, dead or quarantined)."""
        now, policy = self.clock(), self.policy
        attempts = claim.attempts + (0 if error_class in (ErrorClass.WAITING, ErrorClass.PERSON) else 1)
        if error_class is ErrorClass.PERSON:
            state = QUARANTINED if quarantine else DEAD
        elif error_class is ErrorClass.WAITING:
            waited = now - (claim.created_at or now)
            state = DEAD if waited >= policy.max_wait else FAILED
        else:
            state = DEAD if attempts >= policy.max_attempts else FAILED
        next_at = now + policy.delay(error_class, attempts) if state == FAILED else None
        with self.store.session() as s:
            row = s.execute(select(SyncRecordRow).where(self._mine(claim))).scalar_one_or_none()
            if row is None:
                return state  # another worker took it over (our lease ran out); it decides
            row.state, row.attempts, row.error_class = state, attempts, error_class.value
            row.last_error, row.next_attempt_at, row.lease_until = reason[:MAX_ERROR], next_at, None
            row.detail = {**(row.detail or {}), "last": {**(exchange or {}), "at": now.isoformat()}}
            row.target_id = target_id if target_id is not None else row.target_id
            row.updated_at = now
        return state

    def release(self, flow: str, source_ids: Sequence[str], reason: str) -> None:
        """Give back the records of a stopped run that this worker still holds unwritten: due at once,
        no attempt counted (the run stopped for a reason of its own, e.g. refused credentials)."""
        now, r = self.clock(), SyncRecordRow
        with self.store.session() as s:
            s.execute(update(r).where(self._row(flow), r.source_id.in_(list(source_ids)),
                                      r.claimed_by == self.worker_id, r.state == CLAIMED)
                      .values(state=FAILED, error_class=ErrorClass.TRANSIENT.value, last_error=reason[:MAX_ERROR],
                              lease_until=None, next_attempt_at=now, updated_at=now))

    def _set(self, claim: Claim, **values: Any) -> None:
        with self.store.session() as s:
            s.execute(update(SyncRecordRow).where(self._mine(claim)).values(updated_at=self.clock(), **values))

    # ------------------------------------------------------------------ replay, nudges, stock rows

    def replay(self, flow: str, source_id: str) -> bool:
        """Make a record due now with fresh attempts (any state); False if it has no row."""
        now = self.clock()
        with self.store.session() as s:
            result = s.execute(update(SyncRecordRow).where(self._row(flow), SyncRecordRow.source_id == source_id)
                               .values(state=case((SyncRecordRow.state == WRITTEN, WRITTEN), else_=FAILED),
                                       attempts=0, next_attempt_at=now, lease_until=None, updated_at=now)
                               .returning(SyncRecordRow.id))
            return result.first() is not None

    def nudge(self, flow: str, source_id: str) -> None:
        """Make a waiting record due now (its dependency just moved)."""
        now, r = self.clock(), SyncRecordRow
        with self.store.session() as s:
            s.execute(update(r).where(self._row(flow), r.source_id == source_id, r.state == FAILED)
                      .values(next_attempt_at=now, updated_at=now))

    def nudge_ref(self, flow: str, source_ref: str) -> None:
        """Make every waiting record of ``flow`` under ``source_ref`` due now."""
        now, r = self.clock(), SyncRecordRow
        with self.store.session() as s:
            s.execute(update(r).where(self._row(flow), r.source_ref == source_ref, r.state == FAILED)
                      .values(next_attempt_at=now, updated_at=now))

    def record_values(self, flow: str, rows: Mapping[str, tuple[str, str | None, str | None]]) -> None:
        """Upsert resolved rows in bulk: source id -> (state, target id, payload hash or reason).

        For flows without claims (the stock push writes absolute values): ``confirmed`` rows keep
        the pushed value's hash, ``skipped`` rows the reason in ``last_error``.
        """
        now = self.clock()
        with self.store.session() as s:
            for source_id, (state, target, extra) in rows.items():
                values = {"integration": self.integration, "flow": flow, "source_id": source_id, "state": state,
                          "attempts": 0, "created_at": now, "updated_at": now, "detail": {}, "target_id": target}
                if not insert_if_absent(s, SyncRecordRow, values, ["integration", "flow", "source_id"]):
                    s.execute(update(SyncRecordRow).where(self._row(flow), SyncRecordRow.source_id == source_id)
                              .values(state=state, target_id=target, updated_at=now))
                column = "payload_hash" if state == CONFIRMED else "last_error"
                s.execute(update(SyncRecordRow).where(self._row(flow), SyncRecordRow.source_id == source_id)
                          .values({column: extra}))

    # ------------------------------------------------------------------ cursors

    def cursor(self, flow: str) -> dict[str, Any] | None:
        with self.store.session() as s:
            return get_cursor(s, self.integration, flow)

    def set_cursor(self, flow: str, position: Mapping[str, Any]) -> None:
        with self.store.session() as s:
            set_cursor(s, self.integration, flow, position, self.clock())


def _claim(row: SyncRecordRow, previous: str) -> Claim:
    return Claim(row_id=row.id, flow=row.flow, source_id=row.source_id, previous=previous,
                 source_ref=row.source_ref, target_id=row.target_id, attempts=row.attempts,
                 source_time=row.source_time, created_at=row.created_at,
                 plan=(row.detail or {}).get("plan"))
