"""Lanes: a thread, an event loop and a ``schedule.Scheduler`` each, running a set of jobs.

The service gives every integration its own lane (its clients, and so its pacing per API,
live on that lane's loop) plus one lane for notifications, so a merchant whose Magento
hangs never delays another merchant's jobs. Within a lane each job runs as its own task;
jobs sharing a ``group`` (an integration's sync flows) take turns.

How ``schedule`` is used, and why this way: ``schedule`` holds one **one-shot timer** per
job (a job returning ``CancelJob``, its ``next_run`` set), armed for the exact moment the job
must next be looked at — its next slot start, or when a slot another replica holds would
become free to take over — computed from the aware UTC clock. When a timer fires, the
lane's ``SlotRunner`` asks the slot ledger what to run. ``schedule`` never decides which
slot a run belongs to: its interval jobs drift by their own runtime, keep no state across
restarts and know nothing of other replicas (see monitoring-practice.md section 7). It
counts in naive local time, so when the local UTC offset changes (a DST change) every
timer is re-armed from the UTC clock, and no timer is armed more than five minutes ahead
(a wall clock stepped back by NTP delays a far-off run by at most that; an early look finds
nothing due and re-arms).

Stopping: ``stop(deadline)`` stops new looks, lets running slots finish until
``deadline`` (``time.monotonic()``), then cancels them — a cancelled slot is released in
the ledger for any replica to take over. A job blocked in synchronous code cannot be
cancelled; its thread is a daemon and its lease simply expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import schedule

from watchdog.slot_runner import Job, SlotRunner

__all__ = ["Lane", "local_offset"]

log = logging.getLogger(__name__)

MAX_NAP = 1.0  # seconds: how often the loop re-checks the local clock offset at the latest
MIN_DELAY = 0.001
MAX_DELAY = 300.0  # seconds: timers further ahead are re-armed on the way
SETTLE = timedelta(milliseconds=20)  # look just after a lease expires, not just before
RETRY_STORE = timedelta(seconds=5)
RETRY_OPEN = 30.0
CANCEL_WAIT = 1.0

OpenJobs = Callable[[], AbstractAsyncContextManager[Sequence[Job]]]


def local_offset() -> int:
    """The local clock's UTC offset in minutes (what ``schedule``'s naive times are relative to)."""
    return round((datetime.now() - datetime.now(UTC).replace(tzinfo=None)).total_seconds() / 60)


class Lane:
    """Runs the jobs that ``open_jobs`` yields on a thread of its own, until stopped."""

    def __init__(self, name: str, open_jobs: OpenJobs, runner: SlotRunner,
                 clock: Callable[[], datetime]) -> None:
        self.name = name
        self.open_jobs = open_jobs
        self.runner = runner
        self.clock = clock
        self._stopping = threading.Event()
        self._deadline = float("inf")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name=f"lane-{name}", daemon=True)

    # ------------------------------------------------------------------ control (any thread)

    def start(self) -> Lane:
        self._thread.start()
        return self

    def stop(self, deadline: float) -> None:
        """Stop looking for slots; running ones may finish until ``deadline`` (monotonic), then are released."""
        self._deadline = deadline
        self._stopping.set()
        self._wake()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the lane to end; True if it did (or never started)."""
        if self._thread.ident is not None:
            self._thread.join(max(0.0, timeout))
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _wake(self) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(self._kick_set)

    # ------------------------------------------------------------------ the lane's own thread

    def _main(self) -> None:
        try:
            asyncio.run(self._open_and_serve())
        except Exception:  # pragma: no cover - a bug in the lane itself; the service sees it die
            log.exception("lane %s stopped by an internal error", self.name, extra={"event": "lane.crashed",
                                                                                  "lane": self.name})

    async def _open_and_serve(self) -> None:
        self._kick = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                async with self.open_jobs() as jobs:
                    await self._serve(jobs)
                    return
            except Exception:
                log.exception("lane %s cannot start its jobs; trying again in %ss", self.name, RETRY_OPEN,
                              extra={"event": "lane.open_failed", "lane": self.name})
                await self._nap(RETRY_OPEN)

    async def _serve(self, jobs: Sequence[Job]) -> None:
        self._scheduler = schedule.Scheduler()
        self._timers: dict[str, schedule.Job] = {}
        self._jobs = {job.name: job for job in jobs}
        now = self.clock()
        for job in jobs:
            self._arm(job, now)
        log.info("lane %s running %d job(s)", self.name, len(jobs), extra={"event": "lane.started", "lane": self.name,
                                                                           "jobs": [j.name for j in jobs]})
        offset = local_offset()
        while not self._stopping.is_set():
            if local_offset() != offset:
                offset = local_offset()
                self._rearm_all()
            self._scheduler.run_pending()
            idle = self._scheduler.idle_seconds
            await self._nap(MAX_NAP if idle is None else min(max(idle, 0.0), MAX_NAP))
        await self._drain()

    def _arm(self, job: Job, at: datetime) -> None:
        """(Re-)arm ``job``'s one-shot timer for ``at``."""
        old = self._timers.pop(job.name, None)
        if old is not None:
            self._scheduler.cancel_job(old)
        delay = min(max((at - self.clock()).total_seconds(), MIN_DELAY), MAX_DELAY)
        timer = self._scheduler.every(1).seconds.do(self._fire, job)
        timer.next_run = datetime.now() + timedelta(seconds=delay)  # schedule's own naive local time
        self._timers[job.name] = timer

    def _rearm_all(self) -> None:
        log.info("the local UTC offset changed: re-arming every timer", extra={"event": "lane.rearmed",
                                                                             "lane": self.name})
        now = self.clock()
        for name in list(self._timers):
            self._arm(self._jobs[name], now)

    def _fire(self, job: Job) -> object:
        self._timers.pop(job.name, None)
        if job.name not in self._tasks and not self._stopping.is_set():
            self._tasks[job.name] = asyncio.get_running_loop().create_task(self._work(job), name=job.name)
        return schedule.CancelJob

    async def _work(self, job: Job) -> None:
        try:
            lock = self._locks.setdefault(job.group, asyncio.Lock()) if job.group else None
            async with lock if lock is not None else contextlib.nullcontext():
                await self._steps(job)
        except Exception:
            log.exception("%s: the slot ledger failed; looking again in %ss", job.name, RETRY_STORE.total_seconds(),
                          extra={"event": "slot.ledger_failed", "job": job.name})
            self._arm(job, self.clock() + RETRY_STORE)
        finally:
            self._tasks.pop(job.name, None)
            self._kick.set()

    async def _steps(self, job: Job) -> None:
        while not self._stopping.is_set():
            upcoming = await self.runner.step(job)
            if upcoming is not None:
                self._arm(job, upcoming + SETTLE)
                return

    async def _nap(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._kick.wait(), timeout=seconds)
        self._kick.clear()

    def _kick_set(self) -> None:
        self._kick.set()

    async def _drain(self) -> None:
        running = list(self._tasks.values())
        if not running:
            return
        _, late = await asyncio.wait(running, timeout=max(0.0, self._deadline - time.monotonic()))
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=CANCEL_WAIT)
