"""What runs when: the runner's decisions with an injected clock (no timers, no sleeping)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from watchdog.cadence import Daily, Every, Slot
from watchdog.scheduler import FAILED, RUNNING, SlotLedger
from watchdog.slot_runner import Job, LeaseKeeper, SlotRunner
from watchdog.store.db import Store

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
MINUTE = timedelta(minutes=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A job body that records the slots it ran (and can fail or block on request)."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.fail: Exception | None = None
        self.block: asyncio.Event | None = None

    async def __call__(self, slot: Slot) -> str:
        self.ran.append(slot.key)
        if self.block is not None:
            await self.block.wait()
        if self.fail is not None:
            raise self.fail
        return "ok"


def runner(store: Store, clock: Clock, owner: str = "me") -> SlotRunner:
    ledger = SlotLedger(store, owner, lease=LEASE)
    return SlotRunner(ledger, LeaseKeeper(ledger, clock), clock, redact=lambda s: s.replace("hunter2", "***"))


async def drain(r: SlotRunner, job: Job) -> datetime:
    """Step until the runner has nothing left to run now; returns when it would look next."""
    for _ in range(10):
        upcoming = await r.step(job)
        if upcoming is not None:
            return upcoming
    raise AssertionError("the runner kept finding slots to run")


async def test_the_latest_slot_runs_once_and_the_next_look_is_the_next_slot(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=90)), Recorder()
    job = Job("checks", Every(MINUTE), body, grace=timedelta(0))
    r = runner(sqlite_store, clock)
    assert await drain(r, job) == T0 + 2 * MINUTE
    clock.now += timedelta(seconds=20)
    assert await drain(r, job) == T0 + 2 * MINUTE
    assert body.ran == ["2026-11-26T10:01:00Z"]


async def test_a_restart_in_the_same_slot_runs_nothing_again(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=5)), Recorder()
    job = Job("checks", Every(MINUTE), body, grace=timedelta(0))
    await drain(runner(sqlite_store, clock, "first"), job)
    clock.now += timedelta(seconds=30)
    await drain(runner(sqlite_store, clock, "restarted"), job)
    assert body.ran == ["2026-11-26T10:00:00Z"]


async def test_one_missed_slot_is_caught_up_within_the_grace(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=40)), Recorder()
    job = Job("orders", Every(MINUTE), body, grace=timedelta(seconds=30))
    r = runner(sqlite_store, clock)
    await drain(r, job)
    clock.now = T0 + 2 * MINUTE + timedelta(seconds=3)  # the timer fired late: 10:01 was never looked at
    await drain(r, job)
    assert body.ran == ["2026-11-26T10:00:00Z", "2026-11-26T10:01:00Z", "2026-11-26T10:02:00Z"]


async def test_a_start_just_after_a_boundary_catches_up_the_slot_before_it(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=2)), Recorder()
    await drain(runner(sqlite_store, clock), Job("orders", Every(MINUTE), body))  # default grace: a minute
    assert body.ran == ["2026-11-26T09:59:00Z", "2026-11-26T10:00:00Z"]


async def test_a_missed_slot_past_the_grace_is_skipped(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + 2 * MINUTE), Recorder()
    job = Job("checks", Every(5 * MINUTE), body)  # grace: a minute
    r = runner(sqlite_store, clock)
    await drain(r, job)
    clock.now = T0 + 10 * MINUTE + timedelta(seconds=61)
    await drain(r, job)
    assert body.ran == ["2026-11-26T10:00:00Z", "2026-11-26T10:10:00Z"]


async def test_after_a_long_outage_only_the_latest_slot_runs_never_a_replay(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=30)), Recorder()
    job = Job("orders", Every(MINUTE), body, grace=timedelta(seconds=10))
    r = runner(sqlite_store, clock)
    await drain(r, job)
    clock.now = T0 + timedelta(days=3, seconds=30)
    await drain(r, job)
    assert body.ran == ["2026-11-26T10:00:00Z", "2026-11-29T10:00:00Z"]


async def test_a_daily_slot_missed_while_down_is_caught_up_once_on_start(sqlite_store: Store) -> None:
    clock, body = Clock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC)), Recorder()  # 09:00 in London (GMT)
    job = Job("digest.email@Europe/London", Daily(("07:30",), "Europe/London"), body)
    r = runner(sqlite_store, clock)
    assert await drain(r, job) == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    clock.now += timedelta(hours=2)
    await drain(runner(sqlite_store, clock, "restarted"), job)
    assert body.ran == ["2026-11-26T07:30"]


async def test_a_slot_whose_owner_died_is_taken_over_when_its_lease_expires(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=10)), Recorder()
    job = Job("checks", Every(5 * MINUTE), body, grace=timedelta(0))
    dead = SlotLedger(sqlite_store, "dead", lease=LEASE)
    assert dead.claim("checks", Slot("2026-11-26T10:00:00Z", T0), T0 + timedelta(seconds=5)) is not None
    r = runner(sqlite_store, clock)
    assert await drain(r, job) == T0 + timedelta(seconds=5) + LEASE  # look again when the lease runs out
    assert body.ran == []
    clock.now = T0 + timedelta(seconds=5) + LEASE
    await drain(r, job)
    assert body.ran == ["2026-11-26T10:00:00Z"]
    [state] = dead.slots()
    assert (state.owner, state.status, state.attempts) == ("me", "done", 2)


async def test_a_failing_job_is_recorded_failed_with_secrets_masked_and_not_retried_in_its_slot(
        sqlite_store: Store) -> None:
    clock, body = Clock(T0), Recorder()
    body.fail = RuntimeError("login with hunter2 refused")
    job = Job("checks", Every(MINUTE), body, grace=timedelta(0))
    r = runner(sqlite_store, clock)
    await drain(r, job)
    clock.now += timedelta(seconds=30)
    await drain(r, job)
    [state] = r.ledger.slots()
    assert (state.status, body.ran) == (FAILED, ["2026-11-26T10:00:00Z"])
    assert state.error == "RuntimeError: login with *** refused"


async def test_a_job_over_its_timeout_is_failed(sqlite_store: Store) -> None:
    clock, body = Clock(T0), Recorder()
    body.block = asyncio.Event()
    job = Job("checks", Every(MINUTE), body, grace=timedelta(0), timeout=timedelta(milliseconds=50))
    await drain(runner(sqlite_store, clock), job)
    [state] = SlotLedger(sqlite_store, "x").slots()
    assert (state.status, state.error) == (FAILED, "TimeoutError")


async def test_a_cancelled_run_releases_its_slot_for_anyone(sqlite_store: Store) -> None:
    clock, body = Clock(T0), Recorder()
    body.block = asyncio.Event()
    job = Job("checks", Every(MINUTE), body, grace=timedelta(0))
    task = asyncio.create_task(runner(sqlite_store, clock).step(job))
    while not body.ran:
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [state] = SlotLedger(sqlite_store, "x").slots()
    assert (state.status, state.lease_until, state.error) == (RUNNING, T0, "released unfinished: the process stopped")
    body.block.set()
    await drain(runner(sqlite_store, clock, "other"), job)
    assert body.ran == ["2026-11-26T10:00:00Z", "2026-11-26T10:00:00Z"]
    [state] = SlotLedger(sqlite_store, "x").slots()
    assert (state.owner, state.status, state.attempts) == ("other", "done", 2)


async def test_the_keeper_renews_running_slots(sqlite_store: Store) -> None:
    clock, body = Clock(T0), Recorder()
    body.block = asyncio.Event()
    r = runner(sqlite_store, clock)
    task = asyncio.create_task(r.step(Job("checks", Every(MINUTE), body, grace=timedelta(0))))
    while not body.ran:
        await asyncio.sleep(0.001)
    clock.now = T0 + timedelta(seconds=25)
    assert r.keeper.renew_once() == []
    [state] = r.ledger.slots()
    assert state.lease_until == T0 + timedelta(seconds=25) + LEASE
    body.block.set()
    await task
    assert r.keeper.renew_once() == []  # nothing held any more


async def test_nothing_runs_while_another_replica_holds_the_jobs_lock(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=10)), Recorder()
    job = Job("checks", Every(MINUTE), body, grace=timedelta(0))
    other = SlotLedger(sqlite_store, "other", lease=LEASE)
    assert other.lock("checks", clock.now)  # e.g. still running the previous slot
    r = runner(sqlite_store, clock)
    assert await drain(r, job) == clock.now + job.lock_poll
    assert body.ran == []
    other.unlock("checks", clock.now)
    clock.now += job.lock_poll
    await drain(r, job)
    assert body.ran == ["2026-11-26T10:00:00Z"]


async def test_jobs_of_one_group_exclude_each_other_across_replicas(sqlite_store: Store) -> None:
    clock, orders, stock = Clock(T0 + timedelta(seconds=10)), Recorder(), Recorder()
    orders_job = Job("acme/sync.orders", Every(MINUTE), orders, group="acme/sync", grace=timedelta(0))
    stock_job = Job("acme/sync.stock", Every(MINUTE), stock, group="acme/sync", grace=timedelta(0))
    orders.block = asyncio.Event()
    running = asyncio.create_task(runner(sqlite_store, clock, "a").step(orders_job))
    while not orders.ran:
        await asyncio.sleep(0.001)
    b = runner(sqlite_store, clock, "b")
    assert await drain(b, stock_job) == clock.now + stock_job.lock_poll
    assert stock.ran == []
    orders.block.set()
    await running
    await drain(b, stock_job)
    assert stock.ran == ["2026-11-26T10:00:00Z"]


async def test_nothing_due_means_no_lock_is_taken(sqlite_store: Store) -> None:
    clock, body = Clock(T0 + timedelta(seconds=10)), Recorder()
    job = Job("checks", Every(MINUTE), body, grace=timedelta(0))
    r = runner(sqlite_store, clock)
    await drain(r, job)
    other = SlotLedger(sqlite_store, "other", lease=LEASE)
    assert other.lock("checks", clock.now)
    clock.now += timedelta(seconds=5)
    assert await drain(r, job) == T0 + MINUTE  # nothing due: it did not even try the lock


async def test_a_slot_abandoned_by_a_slow_restart_is_still_resumed(sqlite_store: Store) -> None:
    """A one-second job's slot, its owner killed, the replacement up half a minute later: still resumed once."""
    second = timedelta(seconds=1)
    dead = SlotLedger(sqlite_store, "dead", lease=LEASE)
    assert dead.claim("orders", Slot("2026-11-26T10:00:00Z", T0), T0) is not None
    clock, body = Clock(T0 + LEASE + timedelta(seconds=0.5)), Recorder()
    await drain(runner(sqlite_store, clock), Job("orders", Every(second), body, grace=timedelta(0)))
    assert body.ran == ["2026-11-26T10:00:00Z", "2026-11-26T10:00:30Z"]


async def test_a_slot_finishing_while_the_keeper_renews_is_not_reported_lost(sqlite_store: Store) -> None:
    """The keeper copies what it holds, then renews; a slot finished in between is simply no longer held."""
    clock = Clock(T0)
    claim = SlotLedger(sqlite_store, "me", lease=LEASE).claim("checks", Slot("2026-11-26T10:00:00Z", T0), T0)
    assert claim is not None

    class FinishingFirst(SlotLedger):
        def renew(self, claims, now):  # type: ignore[no-untyped-def]
            keeper.drop(claim)
            self.finish(claim, now)
            return super().renew(claims, now)

    keeper = LeaseKeeper(FinishingFirst(sqlite_store, "me", lease=LEASE), clock)
    keeper.hold(claim)
    assert keeper.renew_once() == []
