"""The clock the simulators share: settable for deterministic runs, or following real time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock"]


class SimClock:
    """``clock()`` is the current simulated UTC time: stopped where ``set`` put it, or ticking.

    Scenarios build history with ``set``/``advance``, then ``follow_real_time`` for a live run.
    Thread-safe: the simulators read it from their server threads.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._at = start or datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)
        self._offset: timedelta | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._at if self._offset is None else datetime.now(UTC) + self._offset

    def set(self, at: datetime) -> None:
        """Stop the clock at ``at`` (timezone-aware)."""
        with self._lock:
            self._at, self._offset = at, None

    def advance(self, by: timedelta | float) -> datetime:
        """Stop the clock ``by`` (a timedelta, or seconds) later than it reads now; returns the new time."""
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        self.set(self() + step)
        return self()

    def follow_real_time(self) -> None:
        """From now on tick with the wall clock, continuing from the current reading."""
        now = self()
        with self._lock:
            self._offset = now - datetime.now(UTC)
