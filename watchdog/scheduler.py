"""The slot ledger: each job slot runs once across restarts and replicas.

``schedule`` (see ``watchdog.lanes``) only says *when to look*; this ledger decides *what
runs*. It keeps one ``job_slot`` row per (job, slot) in the store, SQLite or PostgreSQL:

- **claim** — ``INSERT ... ON CONFLICT (job, slot) DO NOTHING``: of any number of replicas
  and restarted processes, exactly one inserts the row and runs the slot;
- **lease** — the owner holds the slot until ``lease_until`` and renews it while the job
  runs (``renew``); a ``running`` slot whose lease expired (its owner crashed, was killed
  or released it at shutdown) is **taken over** by a conditional ``UPDATE ... WHERE
  status = 'running' AND lease_until <= now`` — again exactly one winner — and its
  ``attempts`` counts the take-overs. The work of a slot is therefore at-least-once (a
  take-over repeats what the lost owner did) and its completion exactly once;
- **finish** / **release** only act while the caller still owns the slot, so a stalled
  owner that lost its slot cannot overwrite the new owner's outcome;
- **locks** (``job_lock``) keep a job — or a group of jobs, such as an integration's sync
  flows — to one replica at a time, so two slots of one job never overlap (the check
  engine and the stock arithmetic rely on it). A lock is a leased row too: taken with
  insert-on-conflict or a compare-and-set once released or expired, renewed while held.

No advisory locks (session-level ones break behind PgBouncer's transaction pooling): every
operation is one short transaction on ordinary rows. Leases are compared with the caller's
clock, so replicas' clocks must agree to well within a lease (NTP).

Time is always passed in (``now``): the ledger never reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from watchdog.cadence import Slot
from watchdog.store.db import Store
from watchdog.store.models_sync import JobLockRow, JobSlotRow
from watchdog.store.queries import insert_if_absent

__all__ = ["ABANDONED", "DONE", "FAILED", "RUNNING", "Claim", "SlotLedger", "SlotState"]

RUNNING, DONE, FAILED, ABANDONED = "running", "done", "failed", "abandoned"
FINISHED = (DONE, FAILED, ABANDONED)
MAX_ERROR = 2000


@dataclass(frozen=True)
class Claim:
    """A slot this process owns: run it, then ``finish`` or ``release`` it."""

    job: str
    slot: Slot
    owner: str
    attempt: int  # 1 for a fresh claim, more after take-overs


@dataclass(frozen=True)
class SlotState:
    """One ``job_slot`` row as the scheduler sees it."""

    job: str
    key: str
    due_at: datetime | None
    owner: str
    status: str
    lease_until: datetime
    attempts: int
    started_at: datetime | None = None  # when its current owner claimed it
    error: str | None = None

    def expired(self, now: datetime) -> bool:
        """True when the slot is still marked running but its owner's lease has run out."""
        return self.status == RUNNING and self.lease_until <= now


class SlotLedger:
    """Claims, leases and outcomes of job slots for one owner (a process)."""

    def __init__(self, store: Store, owner: str, *, lease: timedelta = timedelta(seconds=60)) -> None:
        if lease <= timedelta(0):
            raise ValueError("a slot lease must be positive")
        self.store = store
        self.owner = owner
        self.lease = lease

    def claim(self, job: str, slot: Slot, now: datetime) -> Claim | None:
        """Claim ``slot`` of ``job`` — a fresh one, or one whose owner's lease expired.

        Returns the claim, or None when another owner holds it or it already finished.
        """
        values = {"job": job, "slot": slot.key, "due_at": slot.start, "owner": self.owner,
                  "lease_until": now + self.lease, "status": RUNNING, "attempts": 1, "started_at": now}
        with self.store.session() as s:
            if insert_if_absent(s, JobSlotRow, values, ["job", "slot"]):
                return Claim(job, slot, self.owner, 1)
            taken = s.execute(
                update(JobSlotRow)
                .where(JobSlotRow.job == job, JobSlotRow.slot == slot.key, JobSlotRow.status == RUNNING,
                       JobSlotRow.lease_until <= now)
                .values(owner=self.owner, lease_until=now + self.lease, started_at=now, error=None,
                        attempts=JobSlotRow.attempts + 1)
                .returning(JobSlotRow.attempts)
                .execution_options(synchronize_session=False)
            ).first()
        return Claim(job, slot, self.owner, int(taken[0])) if taken is not None else None

    def renew(self, claims: Iterable[Claim], now: datetime) -> list[Claim]:
        """Extend the lease of each claim by one lease from ``now``; returns the claims lost meanwhile."""
        lost = []
        with self.store.session() as s:
            for claim in claims:
                if not self._update_own(s, claim, lease_until=now + self.lease):
                    lost.append(claim)
        return lost

    def lock(self, name: str, now: datetime) -> bool:
        """Take the lock ``name`` (free, released, expired, or already ours). True if this owner holds it now."""
        values = {"name": name, "owner": self.owner, "lease_until": now + self.lease}
        with self.store.session() as s:
            if insert_if_absent(s, JobLockRow, values, ["name"]):
                return True
            return s.execute(
                update(JobLockRow)
                .where(JobLockRow.name == name, or_(JobLockRow.lease_until <= now, JobLockRow.owner == self.owner))
                .values(owner=self.owner, lease_until=now + self.lease)
                .returning(JobLockRow.name)
                .execution_options(synchronize_session=False)
            ).first() is not None

    def renew_locks(self, names: Iterable[str], now: datetime) -> list[str]:
        """Extend each held lock by one lease from ``now``; returns the ones lost meanwhile."""
        lost = []
        with self.store.session() as s:
            for name in names:
                if not self._update_lock(s, name, lease_until=now + self.lease):
                    lost.append(name)
        return lost

    def unlock(self, name: str, now: datetime) -> bool:
        """Release the lock ``name`` if this owner holds it; True if it did."""
        with self.store.session() as s:
            return self._update_lock(s, name, lease_until=now)

    def finish(self, claim: Claim, now: datetime, *, error: str | None = None) -> bool:
        """Mark the slot done (or failed, with ``error``). False if the slot was lost to another owner."""
        with self.store.session() as s:
            return self._update_own(s, claim, status=FAILED if error is not None else DONE, finished_at=now,
                                    lease_until=now, error=_cut(error))

    def release(self, claim: Claim, now: datetime, reason: str) -> bool:
        """Give the slot up unfinished (shutdown): its lease ends now, so any replica takes it over."""
        with self.store.session() as s:
            return self._update_own(s, claim, lease_until=now, error=_cut(reason))

    def relevant(self, job: str, keys: Sequence[str], running_since: datetime) -> list[SlotState]:
        """The slots of ``job`` named by ``keys``, and its running slots due since ``running_since``; oldest first."""
        with self.store.session() as s:
            rows = s.execute(select(JobSlotRow).where(
                JobSlotRow.job == job,
                or_(JobSlotRow.slot.in_(keys), and_(JobSlotRow.status == RUNNING, JobSlotRow.due_at >= running_since)),
            ).order_by(JobSlotRow.due_at)).scalars().all()
            return [_state(row) for row in rows]

    def slots(self, jobs: Sequence[str] = ()) -> list[SlotState]:
        """Every stored slot (of ``jobs`` if given), by job and due time: for tests and operators."""
        query = select(JobSlotRow).order_by(JobSlotRow.job, JobSlotRow.due_at)
        if jobs:
            query = query.where(JobSlotRow.job.in_(jobs))
        with self.store.session() as s:
            return [_state(row) for row in s.execute(query).scalars().all()]

    def sweep(self, now: datetime, due_before: datetime) -> int:
        """Mark ``abandoned`` the running slots due before ``due_before`` whose lease expired; returns how many.

        Call with ``due_before`` older than any take-over window: such slots can no longer be resumed.
        """
        with self.store.session() as s:
            result = s.execute(
                update(JobSlotRow)
                .where(JobSlotRow.status == RUNNING, JobSlotRow.due_at < due_before, JobSlotRow.lease_until <= now)
                .values(status=ABANDONED, finished_at=now, error="the owner stopped and nobody took over in time")
                .returning(JobSlotRow.job)
                .execution_options(synchronize_session=False))
            return len(result.all())

    def prune(self, due_before: datetime) -> int:
        """Delete finished slots due before ``due_before``; returns how many."""
        with self.store.session() as s:
            result = s.execute(
                delete(JobSlotRow).where(JobSlotRow.status.in_(FINISHED), JobSlotRow.due_at < due_before)
                .returning(JobSlotRow.job).execution_options(synchronize_session=False))
            return len(result.all())

    @staticmethod
    def _update_own(s: Session, claim: Claim, **values: object) -> bool:
        row = s.execute(
            update(JobSlotRow)
            .where(JobSlotRow.job == claim.job, JobSlotRow.slot == claim.slot.key, JobSlotRow.owner == claim.owner,
                   JobSlotRow.status == RUNNING)
            .values(**values)
            .returning(JobSlotRow.job)
            .execution_options(synchronize_session=False)
        ).first()
        return row is not None


    def _update_lock(self, s: Session, name: str, **values: object) -> bool:
        return s.execute(
            update(JobLockRow).where(JobLockRow.name == name, JobLockRow.owner == self.owner).values(**values)
            .returning(JobLockRow.name).execution_options(synchronize_session=False)
        ).first() is not None


def _state(row: JobSlotRow) -> SlotState:
    return SlotState(row.job, row.slot, row.due_at, row.owner, row.status, row.lease_until, row.attempts,
                     row.started_at, row.error)


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= MAX_ERROR else text[:MAX_ERROR] + "..."
