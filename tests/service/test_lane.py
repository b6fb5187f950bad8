"""A lane on real time: ``schedule`` fires its one-shot timers on slot boundaries, and a change of
the local UTC offset (a DST change: ``schedule`` counts in naive local time) re-arms them."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from watchdog import lanes
from watchdog.cadence import Every, Slot
from watchdog.lanes import Lane
from watchdog.scheduler import SlotLedger
from watchdog.slot_runner import Job, LeaseKeeper, SlotRunner
from watchdog.store.db import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


def test_a_lane_runs_each_slot_once_and_rearms_when_the_local_offset_changes(
        sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watchdog.lanes")
    ran: list[str] = []

    async def body(slot: Slot) -> str:
        ran.append(slot.key)
        return "ok"

    @asynccontextmanager
    async def open_jobs() -> AsyncIterator[Sequence[Job]]:
        yield [Job("tick", Every(timedelta(seconds=1)), body, grace=timedelta(0))]

    ledger = SlotLedger(sqlite_store, "me", lease=timedelta(seconds=5))
    lane = Lane("test", open_jobs, SlotRunner(ledger, LeaseKeeper(ledger, utc_now), utc_now), utc_now).start()
    time.sleep(1.6)
    offset = lanes.local_offset()
    monkeypatch.setattr(lanes, "local_offset", lambda: offset + 60)  # the clocks went forward an hour
    time.sleep(1.6)
    lane.stop(time.monotonic() + 1)
    assert lane.join(3)
    assert any(getattr(r, "event", None) == "lane.rearmed" for r in caplog.records)
    starts = [s.due_at for s in ledger.slots() if s.due_at is not None]
    assert len(ran) == len(starts) >= 3
    assert starts == [starts[0] + timedelta(seconds=i) for i in range(len(starts))]
