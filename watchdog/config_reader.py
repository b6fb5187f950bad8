"""Typed getters over a parsed TOML document that record problems instead of raising.

``watchdog.config`` reads every key through a ``Reader`` so that one pass collects every
problem (file, key, reason) for ``watchdog config check``. ``secret`` is the one place the
environment is read: it is handed the environment mapping by ``watchdog.config``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchdog.durations import parse_duration
from watchdog.secret import Secret

__all__ = ["Problem", "Reader"]


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class Reader:
    """Typed getters that record a Problem instead of raising, so every problem is reported."""

    def __init__(self, file: str, env: Mapping[str, str]) -> None:
        self.file = file
        self.env = env
        self.problems: list[Problem] = []

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.file, key, reason))

    def unknown_keys(self, t: Mapping[str, Any], key: str, known: frozenset[str]) -> None:
        for name in sorted(set(t) - known):
            self.problem(f"{key}.{name}" if key else name, "unknown key")

    def table(self, t: Mapping[str, Any], name: str, *, required: str | None = None) -> Mapping[str, Any]:
        value = t.get(name)
        if value is None:
            if required:
                self.problem(required, "missing table")
            return {}
        if not isinstance(value, Mapping):
            self.problem(required or name, "must be a table")
            return {}
        return value

    def list_of_tables(self, t: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
        value = t.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self.problem(name, "must be an array of tables ([[integrations]])")
            return []
        return value

    def _get(self, t: Mapping[str, Any], key: str) -> Any:
        return t.get(key.rsplit(".", 1)[-1])

    def text(self, t: Mapping[str, Any], key: str, default: Any) -> Any:
        value = self._get(t, key)
        if value is None:
            if default is None:
                self.problem(key, "missing")
            return default
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {type(value).__name__}")
            return default
        return value

    def url(self, t: Mapping[str, Any], key: str) -> str | None:
        value: str | None = self.text(t, key, None)
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            self.problem(key, f"{value!r} is not an http(s) URL")
            return None
        return value.rstrip("/") if value else None

    def integer(self, t: Mapping[str, Any], key: str, default: int, *, minimum: int | None = None) -> int:
        value = self._get(t, key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(key, f"must be an integer, got {type(value).__name__}")
            return default
        if minimum is not None and value < minimum:
            self.problem(key, f"must be at least {minimum}")
            return default
        return value

    def number(self, t: Mapping[str, Any], key: str, default: float) -> float:
        value = self._get(t, key)
        if value is None:
            return default
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            self.problem(key, "must be a non-negative number")
            return default
        return float(value)

    def flag(self, t: Mapping[str, Any], key: str, default: bool) -> bool:
        value = self._get(t, key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, "must be true or false")
            return default
        return value

    def str_list(self, t: Mapping[str, Any], key: str, default: list[str]) -> list[str]:
        value = self._get(t, key)
        if value is None:
            return default
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "must be a list of strings")
            return default
        return value

    def duration(self, t: Mapping[str, Any], key: str, default: str) -> timedelta:
        value = self.text(t, key, default)
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(key, str(exc))
            return parse_duration(default)

    def clock_time(self, t: Mapping[str, Any], key: str, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(value)):
            self.problem(key, f"{value!r} is not a time of day like '07:30'")
        return str(value)

    def timezone(self, value: str, key: str) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(key, f"{value!r} is not a known time zone")

    def secret(self, t: Mapping[str, Any], key: str) -> Secret | None:
        """The value of the environment variable named by the ``*_env`` key ``key``."""
        var = self.text(t, key, None)
        if var is None:
            return None
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
            self.problem(key, f"{var!r} is not an environment variable name")
            return None
        value = self.env.get(var)
        if not value:
            self.problem(key, f"environment variable {var} is not set")
            return None
        return Secret(value)
