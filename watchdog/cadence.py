"""When a job's slots start: fixed intervals aligned to UTC, or local times of day (DST-safe).

A **slot** is one scheduled run of one job, named by a key that every replica computes the
same way from the wall clock:

- ``Every(interval)``: slots start at whole multiples of ``interval`` since the Unix epoch,
  in UTC (``Every(60s)`` starts on the minute); key ``"2026-11-26T10:05:00Z"``.
- ``Daily(times, timezone)``: slots start at each local time of day in ``timezone``; key
  ``"2026-11-26T07:30"`` (the local date and time). A local time that does not exist
  (the spring-forward gap) starts at the same wall-clock reading before the change (01:30
  in London's gap is 02:30 BST); one that happens twice (autumn) starts at its first
  occurrence. Either way each local date and time is one slot: it runs once, never
  twice and never zero times.

Pure: no I/O, no clock. ``watchdog.scheduler`` stores slots; ``watchdog.lanes`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["Cadence", "Daily", "Every", "Slot"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Slot:
    """One run of one job: its key and when it starts (aware UTC)."""

    key: str
    start: datetime


class Cadence(Protocol):
    """How a job's slots follow each other."""

    @property
    def period(self) -> timedelta:
        """The nominal time between two slots (sets the default catch-up grace)."""
        ...

    def latest(self, now: datetime) -> Slot:
        """The slot that started most recently at or before ``now``."""
        ...

    def before(self, slot: Slot) -> Slot:
        """The slot just before ``slot``."""
        ...

    def after(self, slot: Slot) -> Slot:
        """The slot just after ``slot``."""
        ...

    def describe(self) -> str:
        """A short human description, e.g. ``"every 60s"`` or ``"daily 07:30 Europe/London"``."""
        ...


@dataclass(frozen=True)
class Every:
    """Slots every ``interval`` (whole seconds, at least one), aligned to the Unix epoch in UTC."""

    interval: timedelta

    def __post_init__(self) -> None:
        seconds = self.interval.total_seconds()
        if seconds < 1 or seconds != int(seconds):
            raise ValueError(f"an interval must be whole seconds and at least 1s, not {seconds:g}s")

    @property
    def period(self) -> timedelta:
        return self.interval

    def latest(self, now: datetime) -> Slot:
        """The slot containing ``now``. Raises ValueError for a naive ``now``."""
        steps = (_aware(now) - EPOCH) // self.interval
        return self._slot(EPOCH + steps * self.interval)

    def before(self, slot: Slot) -> Slot:
        return self._slot(slot.start - self.interval)

    def after(self, slot: Slot) -> Slot:
        return self._slot(slot.start + self.interval)

    def describe(self) -> str:
        return f"every {self.interval.total_seconds():g}s"

    def _slot(self, start: datetime) -> Slot:
        return Slot(start.strftime("%Y-%m-%dT%H:%M:%SZ"), start)


@dataclass(frozen=True)
class Daily:
    """Slots at local times of day (``"HH:MM"``) in ``timezone``, once per local date each."""

    times: tuple[str, ...]
    timezone: str = "Europe/London"

    def __post_init__(self) -> None:
        if not self.times:
            raise ValueError("a daily cadence needs at least one time of day")
        for text in self.times:
            time.fromisoformat(text)  # raises ValueError naming the bad time
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError (a KeyError) for an unknown zone

    @property
    def period(self) -> timedelta:
        return timedelta(days=1) / len(set(self.times))

    def latest(self, now: datetime) -> Slot:
        """The last slot starting at or before ``now``. Raises ValueError for a naive ``now``."""
        now = _aware(now)
        slots = self._around(now.astimezone(ZoneInfo(self.timezone)).date())
        return [s for s in slots if s.start <= now][-1]

    def before(self, slot: Slot) -> Slot:
        slots = self._around(date.fromisoformat(slot.key[:10]))
        return [s for s in slots if s.start < slot.start][-1]

    def after(self, slot: Slot) -> Slot:
        slots = self._around(date.fromisoformat(slot.key[:10]))
        return next(s for s in slots if s.start > slot.start)

    def describe(self) -> str:
        return f"daily {', '.join(sorted(set(self.times)))} {self.timezone}"

    def _around(self, day: date) -> list[Slot]:
        """Every slot from two local days before ``day`` to two after, in start order."""
        zone = ZoneInfo(self.timezone)
        return sorted(
            (Slot(f"{day + timedelta(days=d)}T{t}",
                  datetime.combine(day + timedelta(days=d), time.fromisoformat(t), tzinfo=zone).astimezone(UTC))
             for d in range(-2, 3) for t in set(self.times)),
            key=lambda slot: slot.start)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("slots are computed from an aware datetime; attach a timezone")
    return now.astimezone(UTC)
