"""Fixtures for the metrics tests: a seeded store on each backend, and live watchdog targets.

``live_targets`` is the end-to-end test's target; to point that test at the demo
instead, override this fixture to start ``watchdog demo --metrics-port PORT`` and
yield ``Targets(urls=(f"http://127.0.0.1:{PORT}",), firing=<what the demo's state fires>)``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from tests.metrics.support import INTEGRATIONS, SEEDED_FIRING, Targets, exercise, seed_store, served_watchdog
from watchdog.metrics import Metrics
from watchdog.store.db import Store, open_store


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def seeded_metrics(store: Store, now: datetime) -> Metrics:
    """Metrics on a fresh registry over a seeded store (SQLite and PostgreSQL), hooks exercised once."""
    seed_store(store, now)
    metrics = Metrics(CollectorRegistry(), store=store, integrations=INTEGRATIONS)
    exercise(metrics, now)
    return metrics


@pytest.fixture
def sqlite_metrics(sqlite_store: Store, now: datetime) -> Metrics:
    """The same on SQLite only, for tests about the exposition rather than the backend."""
    seed_store(sqlite_store, now)
    metrics = Metrics(CollectorRegistry(), store=sqlite_store, integrations=INTEGRATIONS)
    exercise(metrics, now)
    return metrics


def _keep_working(metrics: Metrics, stop: threading.Event) -> None:
    """What a running service keeps reporting, so rates and quantiles have something to show."""
    while not stop.wait(0.25):
        exercise(metrics, datetime.now(UTC))


@pytest.fixture
def live_targets(sqlite_metrics: Metrics, tmp_path: Path) -> Iterator[Targets]:
    """Two live watchdogs: one over the seeded store, busy; one whose store cannot be read."""
    broken = Metrics(CollectorRegistry(), store=open_store(f"sqlite:///{tmp_path}/no/such/dir/watchdog.db"),
                     integrations=INTEGRATIONS)
    stop = threading.Event()
    worker = threading.Thread(target=_keep_working, args=(sqlite_metrics, stop), daemon=True)
    with ExitStack() as stack:
        urls = (stack.enter_context(served_watchdog(sqlite_metrics)), stack.enter_context(served_watchdog(broken)))
        worker.start()
        try:
            yield Targets(urls=urls, firing=SEEDED_FIRING)
        finally:
            stop.set()
            worker.join(5)
