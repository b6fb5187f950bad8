"""Slot arithmetic: intervals aligned to UTC, local times of day that survive DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchdog.cadence import Daily, Every

LONDON = "Europe/London"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_interval_slots_align_to_the_epoch_so_every_replica_names_them_alike() -> None:
    every = Every(timedelta(minutes=1))
    latest = every.latest(at("2026-11-26T10:05:42"))
    assert (latest.key, latest.start) == ("2026-11-26T10:05:00Z", at("2026-11-26T10:05:00"))
    assert every.latest(at("2026-11-26T10:05:00")).key == "2026-11-26T10:05:00Z"  # a boundary belongs to its slot
    assert every.before(latest).key == "2026-11-26T10:04:00Z"
    assert every.after(latest).key == "2026-11-26T10:06:00Z"


def test_interval_slots_do_not_depend_on_the_time_zone_of_now() -> None:
    every = Every(timedelta(seconds=90))
    now = at("2026-03-29T00:59:59")
    assert every.latest(now) == every.latest(now.astimezone(__import__("zoneinfo").ZoneInfo(LONDON)))


@pytest.mark.parametrize("interval", [timedelta(milliseconds=500), timedelta(seconds=1.5), timedelta(0)])
def test_intervals_are_whole_seconds(interval: timedelta) -> None:
    with pytest.raises(ValueError, match="whole seconds"):
        Every(interval)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Every(timedelta(seconds=60)).latest(datetime(2026, 1, 1))


def test_daily_slots_are_local_times_keyed_by_local_date() -> None:
    daily = Daily(("08:00", "16:00"), LONDON)
    summer = daily.latest(at("2026-07-01T10:00"))  # 11:00 BST
    assert (summer.key, summer.start) == ("2026-07-01T08:00", at("2026-07-01T07:00"))
    assert daily.before(summer).key == "2026-06-30T16:00"
    assert daily.after(summer).key == "2026-07-01T16:00"
    assert daily.latest(at("2026-07-01T06:59")).key == "2026-06-30T16:00"  # before 08:00 BST


def test_a_local_time_in_the_spring_forward_gap_runs_once_that_day() -> None:
    """01:30 does not exist in London on 2026-03-29; its slot starts at 01:30 GMT (02:30 BST), once."""
    daily = Daily(("01:30",), LONDON)
    day = daily.latest(at("2026-03-29T12:00"))
    assert (day.key, day.start) == ("2026-03-29T01:30", at("2026-03-29T01:30"))
    assert daily.before(day).key == "2026-03-28T01:30"
    assert daily.after(day).key == "2026-03-30T01:30"
    assert daily.after(day).start - day.start == timedelta(hours=23)


def test_a_local_time_that_happens_twice_in_autumn_runs_once() -> None:
    """01:30 happens twice in London on 2026-10-25: one slot, at the first (BST) occurrence."""
    daily = Daily(("01:30",), LONDON)
    first = at("2026-10-25T00:30")  # 01:30 BST
    second = at("2026-10-25T01:30")  # 01:30 GMT
    assert daily.latest(first).key == daily.latest(second).key == "2026-10-25T01:30"
    assert daily.latest(first).start == first
    assert daily.after(daily.latest(second)).start - first == timedelta(hours=25)


def test_consecutive_daily_slots_cover_each_local_date_once_across_both_changes() -> None:
    daily = Daily(("07:30",), LONDON)
    slot = daily.latest(at("2026-03-20T12:00"))
    keys = []
    for _ in range(230):
        keys.append(slot.key)
        slot = daily.after(slot)
    dates = [k[:10] for k in keys]
    assert len(set(dates)) == len(dates) == 230
    assert all(k.endswith("T07:30") for k in keys)


def test_bad_daily_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Daily((), LONDON)
    with pytest.raises(ValueError):
        Daily(("25:00",), LONDON)
    with pytest.raises(KeyError):
        Daily(("07:30",), "Mars/Olympus")
