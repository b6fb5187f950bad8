"""A plain progress display for long backfills: records per flow and the rate, on a text stream.

On a terminal one line is redrawn in place (at most every ``interval_s``); on anything else
(a log file, CI) a line is written every ``log_every_s`` so the output stays readable.
No dependency: a progress library would add little over these few lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Satisfies ``watchdog.sync.Progress``."""

    def __init__(self, stream: TextIO, *, interval_s: float = 0.2, log_every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.interval_s = interval_s if self.tty else log_every_s
        self.clock = clock
        self._started: dict[str, float] = {}
        self._last_drawn = 0.0
        self._drawn = False

    def update(self, flow: str, done: int) -> None:
        now = self.clock()
        started = self._started.setdefault(flow, now)
        if now - self._last_drawn < self.interval_s:
            return
        self._last_drawn = now
        rate = done / (now - started) if now > started else 0.0
        text = f"{flow}: {done} record(s), {rate:.0f}/s"
        if self.tty:
            self.stream.write(f"\r\x1b[2K{text}")
            self._drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, flow: str) -> None:
        self._started.pop(flow, None)
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
