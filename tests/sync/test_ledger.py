"""The sync ledger on SQLite and PostgreSQL: claims, leases, retry classes, dead letters, replay."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from watchdog.store.db import Store
from watchdog.sync.errors import ErrorClass
from watchdog.sync.ledger import (
    CLAIMED,
    CONFIRMED,
    DEAD,
    FAILED,
    QUARANTINED,
    SKIPPED,
    WRITTEN,
    ClaimRequest,
    Ledger,
    LedgerPolicy,
)

T0 = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)
POLICY = LedgerPolicy(lease=timedelta(minutes=10), max_attempts=3, retry_base=timedelta(seconds=30),
                      retry_cap=timedelta(minutes=5), ambiguous_delay=timedelta(seconds=90),
                      wait_interval=timedelta(minutes=5), max_wait=timedelta(hours=1))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ledger(store: Store, clock: Clock, worker: str = "w1") -> Ledger:
    return Ledger(store, "acme", worker_id=worker, clock=clock, policy=POLICY)


def test_a_record_is_claimed_once_and_confirmed(store: Store, clock: Clock) -> None:
    one, two = ledger(store, clock, "w1"), ledger(store, clock, "w2")
    claim = one.claim("orders", "17", source_time=T0 - timedelta(seconds=40))
    assert claim is not None
    assert claim.previous == "new"
    assert two.claim("orders", "17") is None  # held (lease running)
    one.written(claim, "so-1")
    assert one.entry("orders", "17") == (WRITTEN, "so-1")
    clock.advance(seconds=2)
    assert one.confirmed(claim, "so-1") == 42.0  # the lag from the source time
    assert one.entry("orders", "17") == (CONFIRMED, "so-1")
    assert two.claim("orders", "17") is None  # done: never claimed again
    assert one.source_of("orders", "so-1") == "17"


def test_racing_workers_get_one_claim(store: Store, clock: Clock) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def race(name: str) -> None:
        barrier.wait()
        if ledger(store, clock, name).claim("orders", "99") is not None:
            winners.append(name)

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_overlapping_batches_are_shared_out_without_overlap_or_deadlock(store: Store, clock: Clock) -> None:
    ids = [f"{i:03d}" for i in range(60)]
    held: dict[str, set[str]] = {}
    barrier = threading.Barrier(2)

    def race(name: str, order: list[str]) -> None:
        barrier.wait()
        held[name] = set(ledger(store, clock, name).claim_many("orders", [ClaimRequest(i) for i in order]))

    threads = [threading.Thread(target=race, args=("up", ids)), threading.Thread(target=race, args=("down", ids[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert held["up"].isdisjoint(held["down"])
    assert held["up"] | held["down"] == set(ids)


def test_an_expired_lease_is_taken_over_and_counts_as_an_attempt(store: Store, clock: Clock) -> None:
    dead_worker, heir = ledger(store, clock, "w1"), ledger(store, clock, "w2")
    first = dead_worker.claim("fulfilment", "d-1", source_ref="so-9")
    assert first is not None
    dead_worker.written(first, "shipment-5")  # then the worker dies
    clock.advance(minutes=9)
    assert heir.claim("fulfilment", "d-1") is None
    clock.advance(minutes=2)
    assert [d.source_id for d in heir.due("fulfilment")] == ["d-1"]
    taken = heir.claim("fulfilment", "d-1")
    assert taken is not None
    assert (taken.previous, taken.target_id, taken.attempts, taken.source_ref) == (WRITTEN, "shipment-5", 1, "so-9")
    assert heir.entry("fulfilment", "d-1") == (WRITTEN, "shipment-5")  # what was written is never forgotten
    assert dead_worker.failed(first, ErrorClass.TRANSIENT, "late") == FAILED  # the old holder cannot touch it
    assert heir.entry("fulfilment", "d-1") == (WRITTEN, "shipment-5")


def test_transient_failures_back_off_then_go_dead(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    waits = []
    for attempt in range(1, 4):
        claim = led.claim("orders", "5")
        assert claim is not None
        state = led.failed(claim, ErrorClass.TRANSIENT, f"HTTP 503 #{attempt}", exchange={"request": {"x": 1}})
        if state == DEAD:
            break
        assert led.claim("orders", "5") is None  # not due yet
        assert led.due("orders") == []
        waits.append(_next_attempt_in(store, clock))
        clock.now += waits[-1]
    assert waits == [timedelta(seconds=30), timedelta(seconds=60)]
    assert led.entry("orders", "5") == (DEAD, None)
    [letter] = led.dead_letters("orders")
    assert (letter.attempts, letter.error_class, letter.last_error) == (3, "transient", "HTTP 503 #3")
    assert letter.detail["last"]["request"] == {"x": 1}


def _next_attempt_in(store: Store, clock: Clock) -> timedelta:
    from sqlalchemy import select

    from watchdog.store.models_sync import SyncRecordRow

    with store.session() as s:
        at = s.execute(select(SyncRecordRow.next_attempt_at)).scalar_one()
    assert at is not None
    return at - clock.now


def test_ambiguous_failures_wait_for_a_read_back(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    claim = led.claim("orders", "6")
    assert claim is not None
    led.failed(claim, ErrorClass.AMBIGUOUS, "timed out")
    assert _next_attempt_in(store, clock) == timedelta(seconds=90)


def test_waiting_uses_no_attempt_until_the_maximum_wait(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    for _ in range(5):
        claim = led.claim("refunds", "m1", source_ref="100")
        assert claim is not None
        assert led.failed(claim, ErrorClass.WAITING, "waits for the invoice") == FAILED
        clock.advance(minutes=5)
    assert led.entry("refunds", "m1") == (FAILED, None)
    led.nudge_ref("refunds", "100")
    clock.advance(minutes=40)
    claim = led.claim("refunds", "m1")
    assert claim is not None
    assert claim.attempts == 0
    assert led.failed(claim, ErrorClass.WAITING, "still waiting") == DEAD


def test_person_errors_are_dead_or_quarantined_at_once(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    bad, refused = led.claim("orders", "1"), led.claim("orders", "2")
    assert bad is not None
    assert refused is not None
    assert led.failed(bad, ErrorClass.PERSON, "unknown SKU 'X'", quarantine=True) == QUARANTINED
    assert led.failed(refused, ErrorClass.PERSON, "HTTP 400 invalid", target_id="shipment-3") == DEAD
    assert {d.source_id: d.state for d in led.dead_letters()} == {"1": QUARANTINED, "2": DEAD}
    assert led.entry("orders", "2") == (DEAD, "shipment-3")
    assert led.claim("orders", "1") is None


def test_replay_makes_any_record_due_again_with_fresh_attempts(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    claim = led.claim("orders", "1")
    assert claim is not None
    led.failed(claim, ErrorClass.PERSON, "unknown SKU", quarantine=True)
    assert led.replay("orders", "1") is True
    assert led.replay("orders", "404") is False
    again = led.claim("orders", "1")
    assert again is not None
    assert (again.previous, again.attempts) == (FAILED, 0)


def test_plans_survive_a_takeover(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    claim = led.claim("refunds", "m1", source_ref="100")
    assert claim is not None
    led.save_plan(claim, {"cancel": {"line-1": "1"}})
    clock.advance(minutes=11)
    again = ledger(store, clock, "w2").claim("refunds", "m1")
    assert again is not None
    assert again.plan == {"cancel": {"line-1": "1"}}
    [sibling] = led.siblings("refunds", "100", exclude="other")
    assert (sibling.source_id, sibling.state, sibling.plan) == ("m1", CLAIMED, {"cancel": {"line-1": "1"}})


def test_claimless_rows_and_postings_candidates(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    led.record_values("stock", {"MUG": (CONFIRMED, "wh1", "h1"), "GHOST": (SKIPPED, None, "unknown SKU")})
    led.record_values("stock", {"MUG": (CONFIRMED, "wh1", "h2")})
    assert led.values("stock") == {"MUG": (CONFIRMED, "h2"), "GHOST": (SKIPPED, "unknown SKU")}
    for dispatch, order in (("d1", "so-1"), ("d2", "so-1"), ("d3", "so-2")):
        claim = led.claim("fulfilment", dispatch, source_ref=order)
        assert claim is not None
        led.confirmed(claim, f"ship-{dispatch}")
    posted = led.claim("postings", "so-2")
    assert posted is not None
    assert led.unposted("fulfilment", "postings") == ["so-1"]
    assert led.targets("fulfilment", "so-1") == {"d1": "ship-d1", "d2": "ship-d2"}


def test_cursors_round_trip(store: Store, clock: Clock) -> None:
    led = ledger(store, clock)
    assert led.cursor("orders") is None
    led.set_cursor("orders", {"time": T0.isoformat(), "id": 5})
    led.set_cursor("orders", {"time": T0.isoformat(), "id": 9})
    assert led.cursor("orders") == {"time": T0.isoformat(), "id": 9}
