"""The slot ledger on SQLite and PostgreSQL: one winner per slot, leases, take-over, outcomes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from watchdog.cadence import Slot
from watchdog.scheduler import ABANDONED, DONE, FAILED, RUNNING, SlotLedger
from watchdog.store.db import Store

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
SLOT = Slot("2026-11-26T10:00:00Z", T0)


def ledger(store: Store, owner: str) -> SlotLedger:
    return SlotLedger(store, owner, lease=LEASE)


def test_of_many_concurrent_claimers_exactly_one_wins(store: Store) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def claim(owner: str) -> None:
        barrier.wait()
        if ledger(store, owner).claim("checks", SLOT, T0) is not None:
            winners.append(owner)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    [state] = ledger(store, "reader").slots()
    assert (state.owner, state.status, state.attempts, state.due_at) == (winners[0], RUNNING, 1, T0)


def test_a_finished_slot_is_never_claimed_again(store: Store) -> None:
    a, b = ledger(store, "a"), ledger(store, "b")
    claim = a.claim("checks", SLOT, T0)
    assert claim is not None
    assert a.finish(claim, T0 + timedelta(seconds=1))
    later = T0 + timedelta(days=1)
    assert b.claim("checks", SLOT, later) is None
    assert a.claim("checks", SLOT, later) is None  # not even by its first owner, after a restart


def test_a_live_lease_keeps_others_out_and_an_expired_one_is_taken_over_once(store: Store) -> None:
    a, b, c = ledger(store, "a"), ledger(store, "b"), ledger(store, "c")
    assert a.claim("checks", SLOT, T0) is not None
    assert b.claim("checks", SLOT, T0 + LEASE - timedelta(seconds=1)) is None
    expired = T0 + LEASE
    taken = b.claim("checks", SLOT, expired)
    assert taken is not None
    assert taken.attempt == 2
    assert c.claim("checks", SLOT, expired) is None  # the take-over is compare-and-set too
    [state] = c.slots()
    assert (state.owner, state.attempts, state.lease_until) == ("b", 2, expired + LEASE)


def test_concurrent_take_overs_have_exactly_one_winner(store: Store) -> None:
    assert ledger(store, "dead").claim("checks", SLOT, T0) is not None
    winners: list[int] = []
    barrier = threading.Barrier(6)

    def take(i: int) -> None:
        barrier.wait()
        claim = ledger(store, f"w{i}").claim("checks", SLOT, T0 + 2 * LEASE)
        if claim is not None:
            winners.append(claim.attempt)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert winners == [2]


def test_renewing_keeps_the_slot_and_reports_it_lost_after_a_take_over(store: Store) -> None:
    a, b = ledger(store, "a"), ledger(store, "b")
    claim = a.claim("checks", SLOT, T0)
    assert claim is not None
    assert a.renew([claim], T0 + timedelta(seconds=20)) == []
    assert b.claim("checks", SLOT, T0 + LEASE) is None  # renewed until T0 + 50s
    assert b.claim("checks", SLOT, T0 + timedelta(seconds=50)) is not None
    assert a.renew([claim], T0 + timedelta(seconds=51)) == [claim]
    assert not a.finish(claim, T0 + timedelta(seconds=52))  # a stalled owner cannot overwrite the new one
    [state] = b.slots()
    assert (state.owner, state.status) == ("b", RUNNING)


def test_outcomes_done_and_failed(store: Store) -> None:
    a = ledger(store, "a")
    ok, bad = a.claim("job.ok", SLOT, T0), a.claim("job.bad", SLOT, T0)
    assert ok is not None
    assert bad is not None
    assert a.finish(ok, T0 + timedelta(seconds=1))
    assert a.finish(bad, T0 + timedelta(seconds=1), error="RuntimeError: " + "x" * 5000)
    states = {s.job: s for s in a.slots()}
    assert (states["job.ok"].status, states["job.bad"].status) == (DONE, FAILED)
    assert a.renew([ok], T0 + timedelta(seconds=2)) == [ok]  # finished: nothing left to renew


def test_a_released_slot_is_free_for_anyone_at_once(store: Store) -> None:
    a, b = ledger(store, "a"), ledger(store, "b")
    claim = a.claim("checks", SLOT, T0)
    assert claim is not None
    assert a.release(claim, T0 + timedelta(seconds=2), "stopping")
    taken = b.claim("checks", SLOT, T0 + timedelta(seconds=2))
    assert taken is not None
    assert taken.attempt == 2


def test_relevant_lists_the_named_slots_and_the_running_ones_oldest_first(store: Store) -> None:
    a = ledger(store, "a")
    claims = {}
    for minutes in (3, 0, 1, 2):
        start = T0 + timedelta(minutes=minutes)
        claims[minutes] = a.claim("checks", Slot(start.strftime("%Y-%m-%dT%H:%M:%SZ"), start), start)
    for minutes in (0, 2):
        claim = claims[minutes]
        assert claim is not None
        a.finish(claim, T0 + timedelta(minutes=4))
    a.claim("other", SLOT, T0)
    found = a.relevant("checks", ["2026-11-26T10:02:00Z", "2026-11-26T10:09:00Z"], T0 + timedelta(minutes=1))
    assert [(s.key, s.status) for s in found] == [
        ("2026-11-26T10:01:00Z", "running"), ("2026-11-26T10:02:00Z", "done"), ("2026-11-26T10:03:00Z", "running")]
    assert found[0].started_at == T0 + timedelta(minutes=1)


def test_sweep_abandons_only_expired_slots_out_of_reach_and_prune_deletes_old_finished_ones(store: Store) -> None:
    a = ledger(store, "a")
    old, new = Slot("old", T0), Slot("new", T0 + timedelta(hours=3))
    stale, live = a.claim("j", old, T0), a.claim("j", new, new.start)
    assert stale is not None
    assert live is not None
    now = T0 + timedelta(hours=3, seconds=1)
    assert a.sweep(now, due_before=T0 + timedelta(hours=1)) == 1
    assert {s.key: s.status for s in a.slots()} == {"old": ABANDONED, "new": RUNNING}
    assert a.prune(due_before=T0 + timedelta(hours=1)) == 1
    assert [s.key for s in a.slots()] == ["new"]


def test_a_lock_has_one_holder_until_released_or_expired(store: Store) -> None:
    a, b = ledger(store, "a"), ledger(store, "b")
    assert a.lock("acme/sync", T0)
    assert a.lock("acme/sync", T0 + timedelta(seconds=1))  # re-entrant for its holder
    assert not b.lock("acme/sync", T0 + timedelta(seconds=2))
    assert a.unlock("acme/sync", T0 + timedelta(seconds=3))
    assert b.lock("acme/sync", T0 + timedelta(seconds=3))
    assert not a.unlock("acme/sync", T0 + timedelta(seconds=4))  # not its lock any more
    assert a.lock("acme/sync", T0 + timedelta(seconds=3) + LEASE)  # b's lease expired


def test_of_concurrent_lockers_exactly_one_wins(store: Store) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def take(owner: str) -> None:
        barrier.wait()
        if ledger(store, owner).lock("acme/checks", T0):
            winners.append(owner)

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_renewing_a_lock_keeps_it_and_reports_it_lost_once_taken(store: Store) -> None:
    a, b = ledger(store, "a"), ledger(store, "b")
    assert a.lock("dispatch", T0)
    assert a.renew_locks(["dispatch"], T0 + timedelta(seconds=20)) == []
    assert not b.lock("dispatch", T0 + LEASE)
    assert b.lock("dispatch", T0 + timedelta(seconds=20) + LEASE)
    assert a.renew_locks(["dispatch"], T0 + timedelta(seconds=60)) == ["dispatch"]
