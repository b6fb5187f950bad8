"""Is the service healthy? Each source's last known state, and the verdict ``/healthz`` gives.

``HealthBoard`` holds, per (integration, system), whether the last request or read succeeded,
since when, and why not. It is fed by every request the connectors finish (``Metrics.observer``)
and by the engine after each checks run, so it reflects syncs as much as checks.

``assess`` turns the board, the clock, the grace and a database probe into a ``Health``: unhealthy
(HTTP 503) when a source has been down longer than the grace or the database is unreachable,
with a JSON body naming each cause. Reasons are connector errors (they never carry a secret) and
pass through the service's masker all the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from watchdog.store.db import Store

__all__ = ["DEFAULT_GRACE", "Health", "HealthBoard", "SourceState", "assess", "probe_database"]

DEFAULT_GRACE = timedelta(minutes=10)
Key = tuple[str, str]


@dataclass(frozen=True)
class SourceState:
    """The last report about one source: ``since`` is when it turned up or down (the first such report)."""

    up: bool
    checked_at: datetime
    reason: str = ""
    since: datetime | None = None


class HealthBoard:
    """Thread-safe last-known state of each (integration, system) source."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[Key, SourceState] = {}

    def set_source(self, integration: str, system: str, up: bool, at: datetime, reason: str = "") -> None:
        """Record a report; ``since`` moves only when the source turns up or down."""
        with self._lock:
            prior = self._sources.get((integration, system))
            since = prior.since if prior is not None and prior.up == up and prior.since is not None else at
            self._sources[(integration, system)] = SourceState(up, at, "" if up else reason, since)

    def sources(self) -> dict[Key, SourceState]:
        with self._lock:
            return dict(self._sources)


@dataclass(frozen=True)
class Health:
    """The verdict: ``healthy`` (HTTP 200) or not (503), and the JSON body saying why."""

    healthy: bool
    ready: bool  # the service itself can work (its database answers), whatever the sources say
    body: dict[str, Any]


def probe_database(store: Store) -> str | None:
    """None when the database answers ``SELECT 1``, else why not (the error's type, never its text)."""
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"database unreachable ({type(exc).__name__})"
    return None


def assess(sources: Mapping[Key, SourceState], now: datetime, grace: timedelta, database: str | None,
           mask: Callable[[str], str] = str) -> Health:
    """The health of a service whose sources are ``sources`` and whose database probe said ``database``."""
    down = [_down(i, s, state, now, grace, mask) for (i, s), state in sorted(sources.items()) if not state.up]
    failing = (["database"] if database else []) + [f"{d['integration']}/{d['system']}" for d in down
                                                    if d["beyond_grace"]]
    body = {
        "status": "unhealthy" if failing else "ok",
        "failing": failing,
        "database": {"up": database is None, "reason": mask(database or "")},
        "sources": {f"{i}/{s}": state.up for (i, s), state in sorted(sources.items())},
        "down": down,
        "source_down_grace_seconds": grace.total_seconds(),
    }
    return Health(healthy=not failing, ready=database is None, body=body)


def _down(integration: str, system: str, state: SourceState, now: datetime, grace: timedelta,
          mask: Callable[[str], str]) -> dict[str, Any]:
    since = state.since or state.checked_at
    return {"integration": integration, "system": system, "since": since.isoformat(),
            "seconds": max(0.0, (now - since).total_seconds()), "beyond_grace": now - since >= grace,
            "reason": mask(state.reason)}
