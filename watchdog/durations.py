"""Durations written as text in config files: ``"250ms"``, ``"90s"``, ``"5m"``, ``"1.5h"``, ``"2d"``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["parse_duration"]

DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """The duration ``text`` names. Raises ValueError saying what was expected."""
    match = DURATION_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like '60s', '5m', '1h' or '1d'")
    try:
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    except OverflowError:  # more days than a timedelta holds (999999999)
        raise ValueError(f"{text.strip()[:40]!r} is longer than any duration the service can wait") from None
