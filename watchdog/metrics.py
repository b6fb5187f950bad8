"""Every metric the service exports, on one registry (design.md section 8).

Counters and histograms are updated as things happen; values derived from state
(is a source up, how many findings are open) are rendered at scrape time by
collectors reading the last results in memory (``HealthBoard``) and, later, the
store. A scrape never calls Magento or Stokly. Labels are bounded: integration,
system, check, severity, team, flow, channel, direction, currency, outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from watchdog import __version__
from watchdog.connectors.http import RequestObserver

__all__ = ["HealthBoard", "Metrics"]


@dataclass(frozen=True)
class SourceState:
    up: bool
    checked_at: datetime
    reason: str = ""


class HealthBoard:
    """Thread-safe last-known state of each (integration, system) source."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[tuple[str, str], SourceState] = {}

    def set_source(self, integration: str, system: str, up: bool, at: datetime, reason: str = "") -> None:
        with self._lock:
            self._sources[(integration, system)] = SourceState(up, at, reason)

    def sources(self) -> dict[tuple[str, str], SourceState]:
        with self._lock:
            return dict(self._sources)


class _HealthCollector(Collector):
    def __init__(self, board: HealthBoard) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("watchdog_source_up", "1 if the last read of the system succeeded, else 0",
                               labels=["integration", "system"])
        for (integration, system), state in sorted(self.board.sources().items()):
            up.add_metric([integration, system], 1.0 if state.up else 0.0)
        yield up


class Metrics:
    """The metric objects plus their registry. One per process; tests make their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.health = HealthBoard()
        self.build_info = Info("watchdog_build", "Version of the running watchdog", registry=self.registry)
        self.build_info.info({"version": __version__})
        self.source_requests = Counter(
            "watchdog_source_requests_total", "Requests to Magento and Stokly by outcome (ok, retry, error)",
            ["integration", "system", "outcome"], registry=self.registry)
        self.source_request_duration = Histogram(
            "watchdog_source_request_duration_seconds", "Duration of one request attempt to a system",
            ["system"], registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
        self.registry.register(_HealthCollector(self.health))

    def observer(self, integration: str) -> RequestObserver:
        """A connector observer that counts requests for ``integration``."""

        def observe(system: str, route: str, outcome: str, seconds: float) -> None:
            self.source_requests.labels(integration, system, outcome).inc()
            self.source_request_duration.labels(system).observe(seconds)

        return observe
