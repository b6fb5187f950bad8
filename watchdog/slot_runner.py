"""Which slots of a job to run now, and running one: the scheduler's decisions, with an injected clock.

``plan(job, now, rows)`` (pure) lists the slots worth claiming, in order:

1. slots of the job still marked ``running`` whose owner's lease expired (a crash, a kill,
   a release at shutdown): **taken over**, oldest first, while they are resumable (due
   within two periods + the catch-up grace + two leases, and at least ten minutes: long
   enough for a slow restart or a crash-looping deploy);
2. the **previous** slot, if nobody ever claimed it and the latest slot began less than
   the catch-up grace ago (one missed slot is caught up: a run that overran, a timer that
   fired late, a restart just after a boundary) — never an older one: no bulk replay;
3. the **latest** slot (the one ``now`` is in), if nobody claimed it yet. After a long
   outage only this one runs (coalesced), e.g. today's 07:30 digest at 09:00.

``SlotRunner.step(job)``, when something is due, takes the job's lock (its group's, for
grouped jobs: one replica at a time runs them), claims the first of those slots it can win
in the ``SlotLedger`` and runs it. It returns when to look next (the next slot start, when a
slot another replica holds would become free to take over, or soon when the lock is busy),
or None right after running one (look again now).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from watchdog.cadence import Cadence, Slot
from watchdog.scheduler import RUNNING, Claim, SlotLedger, SlotState

__all__ = ["MAX_GRACE", "Job", "JobBody", "LeaseKeeper", "SlotRunner", "next_look", "plan", "resumable"]

log = logging.getLogger(__name__)

#: A job's work for one slot; returns a one-line note for the log (e.g. counts), or None.
JobBody = Callable[[Slot], Awaitable[str | None]]
MAX_GRACE = timedelta(minutes=1)
RESUMABLE_AT_LEAST = timedelta(minutes=10)
LOCK_POLL = (timedelta(milliseconds=250), timedelta(seconds=5))  # bounds of the retry while the lock is busy


@dataclass(frozen=True)
class Job:
    """A named piece of work on a cadence.

    ``group``: jobs of one group run one at a time, across replicas too (an integration's sync
    flows); the group's name must be unique. Ungrouped jobs run one slot at a time.
    ``grace``: how long after the latest slot began a missed previous slot is still caught up
    (default: one period, at most a minute). ``timeout``: a run longer than this is failed.
    """

    name: str
    cadence: Cadence
    body: JobBody
    group: str | None = None
    grace: timedelta | None = None
    timeout: timedelta = timedelta(minutes=30)

    @property
    def catch_up(self) -> timedelta:
        return self.grace if self.grace is not None else min(self.cadence.period, MAX_GRACE)

    @property
    def lock(self) -> str:
        """The mutex this job runs under: its group's, or its own."""
        return self.group or self.name

    @property
    def lock_poll(self) -> timedelta:
        """How soon to look again while another replica holds the lock."""
        return min(max(self.cadence.period / 10, LOCK_POLL[0]), LOCK_POLL[1])

    def resumable(self, lease: timedelta) -> timedelta:
        """How long after it was due a slot of this job whose owner died may still be taken over."""
        return resumable(self.cadence.period, self.catch_up, lease)


def resumable(period: timedelta, catch_up: timedelta, lease: timedelta) -> timedelta:
    """How long a slot of a job with this ``period`` and ``catch_up`` grace stays resumable under ``lease``."""
    return max(2 * period + catch_up + 2 * lease, RESUMABLE_AT_LEAST)


def plan(job: Job, now: datetime, rows: Sequence[SlotState]) -> list[Slot]:
    """The slots of ``job`` worth claiming at ``now``, given its recent ledger ``rows`` (see module doc)."""
    latest = job.cadence.latest(now)
    previous = job.cadence.before(latest)
    known = {row.key for row in rows}
    todo = [Slot(row.key, row.due_at) for row in rows if row.expired(now) and row.due_at is not None]
    if previous.key not in known and now < latest.start + job.catch_up:
        todo.append(previous)
    if latest.key not in known:
        todo.append(latest)
    return todo


def next_look(job: Job, now: datetime, rows: Sequence[SlotState]) -> datetime:
    """When to look at ``job`` again: its next slot, or the first lease of a running slot to expire."""
    upcoming = job.cadence.after(job.cadence.latest(now)).start
    leases = [row.lease_until for row in rows if row.status == RUNNING and row.lease_until > now]
    return min([upcoming, *leases])


class LeaseKeeper:
    """A thread renewing the leases of every slot and lock this process holds, every third of a lease.

    Separate from the event loops on purpose: a job that blocks its loop for a while (a long
    check run) keeps its slot. A claim lost meanwhile (the process stalled longer than a
    lease and another replica took over) is logged and dropped.
    """

    def __init__(self, ledger: SlotLedger, clock: Callable[[], datetime]) -> None:
        self.ledger = ledger
        self.clock = clock
        self.every = ledger.lease.total_seconds() / 3
        self._claims: set[Claim] = set()
        self._locks: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def hold(self, claim: Claim) -> None:
        with self._lock:
            self._claims.add(claim)

    def drop(self, claim: Claim) -> None:
        with self._lock:
            self._claims.discard(claim)

    def hold_lock(self, name: str) -> None:
        with self._lock:
            self._locks.add(name)

    def drop_lock(self, name: str) -> None:
        with self._lock:
            self._locks.discard(name)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def renew_once(self) -> list[Claim | str]:
        """Renew every held claim and lock now; returns (and drops) the ones lost."""
        with self._lock:
            claims, locks = list(self._claims), list(self._locks)
        now = self.clock()
        lost_claims = self.ledger.renew(claims, now) if claims else []
        lost_locks = self.ledger.renew_locks(locks, now) if locks else []
        with self._lock:  # one finished or released meanwhile is not lost: it is simply no longer held
            lost: list[Claim | str] = [c for c in lost_claims if c in self._claims]
            lost += [name for name in lost_locks if name in self._locks]
            self._claims.difference_update(lost_claims)
            self._locks.difference_update(lost_locks)
        for item in lost:
            if isinstance(item, Claim):
                log.warning("lost the lease of %s slot %s: another owner took it over", item.job, item.slot.key,
                            extra={"event": "slot.lost", "job": item.job, "slot": item.slot.key})
            else:
                log.warning("lost the lock %s: another owner took it over", item,
                            extra={"event": "lock.lost", "lock": item})
        return lost

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.renew_once()
            except Exception:  # the store is unreachable: keep trying; leases may expire meanwhile
                log.exception("cannot renew slot leases", extra={"event": "lease.renew_failed"})


class SlotRunner:
    """Claims and runs the due slots of jobs against one ledger. Not thread-safe: one per lane."""

    def __init__(self, ledger: SlotLedger, keeper: LeaseKeeper, clock: Callable[[], datetime],
                 redact: Callable[[str], str] = str) -> None:
        self.ledger = ledger
        self.keeper = keeper
        self.clock = clock
        self.redact = redact

    async def step(self, job: Job) -> datetime | None:
        """Run the first due slot of ``job`` this process can claim; None if it ran one, else when to look next.

        Raises what the store raises (the caller retries later).
        """
        now = self.clock()
        rows = self._rows(job, now)
        if not plan(job, now, rows):
            return next_look(job, now, rows)
        if not self.ledger.lock(job.lock, now):
            return now + job.lock_poll  # another replica runs this job (or one of its group) right now
        self.keeper.hold_lock(job.lock)
        try:
            return await self._claim_and_run(job)
        finally:
            self.keeper.drop_lock(job.lock)
            self.ledger.unlock(job.lock, self.clock())

    async def _claim_and_run(self, job: Job) -> datetime | None:
        now = self.clock()
        rows = self._rows(job, now)  # again: it may have changed before we held the lock
        todo = plan(job, now, rows)
        for slot in todo:
            claim = self.ledger.claim(job.name, slot, now)
            if claim is not None:
                await self.execute(job, claim)
                return None
        if todo:  # lost every race: learn the winners' leases
            rows = self._rows(job, now)
        return next_look(job, self.clock(), rows)

    def _rows(self, job: Job, now: datetime) -> list[SlotState]:
        """What ``plan`` and ``next_look`` need: the latest and previous slots, and the running ones."""
        latest = job.cadence.latest(now)
        return self.ledger.relevant(job.name, [job.cadence.before(latest).key, latest.key],
                                    now - job.resumable(self.ledger.lease))

    async def execute(self, job: Job, claim: Claim) -> None:
        """Run ``job`` for its claimed slot and record the outcome; releases the slot if cancelled."""
        fields = {"job": job.name, "slot": claim.slot.key, "attempt": claim.attempt}
        log.info("%s slot %s started", job.name, claim.slot.key, extra={"event": "slot.started", **fields})
        self.keeper.hold(claim)
        started = time.monotonic()
        try:
            async with asyncio.timeout(job.timeout.total_seconds()):
                note = await job.body(claim.slot)
        except asyncio.CancelledError:
            self.keeper.drop(claim)
            self.ledger.release(claim, self.clock(), "released unfinished: the process stopped")
            log.warning("%s slot %s released unfinished", job.name, claim.slot.key,
                        extra={"event": "slot.released", **fields})
            raise
        except Exception as exc:
            self.keeper.drop(claim)
            error = self.redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            log.exception("%s slot %s failed: %s", job.name, claim.slot.key, error,
                          extra={"event": "slot.failed", **fields})
            kept = self.ledger.finish(claim, self.clock(), error=error)
        else:
            self.keeper.drop(claim)
            seconds = round(time.monotonic() - started, 3)
            log.info("%s slot %s done in %.3fs%s", job.name, claim.slot.key, seconds, f": {note}" if note else "",
                     extra={"event": "slot.done", "seconds": seconds, **fields})
            kept = self.ledger.finish(claim, self.clock())
        if not kept:
            log.warning("%s slot %s was taken over by another owner before it finished", job.name, claim.slot.key,
                        extra={"event": "slot.lost", **fields})
