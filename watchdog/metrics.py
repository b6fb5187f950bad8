"""Every metric the service exports, on one registry (design.md section 8).

Two kinds of value, never mixed:

* **Counters and histograms** are incremented by the code that does the work, through
  the typed hooks on ``Metrics`` (``check_ran``, ``finding_opened``, ``flow_ran``,
  ``sync_record``, ``notification``, ``digest_sent``). They restart at zero, as counters do.
* **Values derived from state** (open findings, divergent units, VAT exposure, backlog,
  dead letters, every last-success timestamp) are rendered at scrape time by one
  collector from a ``StoreSummary``: a few GROUP BY queries (``read_summary``), never
  loading rows, never calling Magento or Stokly. Aggregating 100,000 open findings
  takes a few hundred ms on SQLite, so the summary is cached: re-read at the first
  scrape after a hook reports a change made in this process, or once older than
  ``cache_seconds`` (changes by other replicas or the CLI). The HELP strings say so.
  Timestamps are the later of the store's and this process's own hooks.

``watchdog_source_up`` is state kept in memory (``watchdog.health.HealthBoard``): every request a
connector finishes moves it (``observer``), and so does the engine after each checks run
(``source_checked``).

Label values are bounded: integration, check, flow and channel come from the config
and the check registry; outcome, direction and kind from the fixed vocabularies below
(an unknown outcome is exported as ``other`` and logged once). Never a SKU, an order
or a customer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from watchdog import __version__
from watchdog.connectors.http import OutcomeObserver, UpstreamError
from watchdog.health import HealthBoard
from watchdog.store.db import Store
from watchdog.store.summary import FLOW_SUCCESS, Key, StoreSummary, read_summary

__all__ = ["BOUNDED_LABELS", "OUTCOMES", "HealthBoard", "Metrics", "StoreSummary"]

log = logging.getLogger(__name__)

BOUNDED_LABELS = frozenset({
    "integration", "system", "check", "severity", "team", "flow", "channel", "direction", "currency",
    "outcome", "kind", "version", "route",  # route: a path template like /v2/saleorders, never an id
})
OUTCOMES: Mapping[str, frozenset[str]] = {
    "check": frozenset({"ok", "not_evaluated", "failed"}),
    "flow": frozenset({"ok", "partial", "failed", "skipped"}),
    "sync_record": frozenset({"written", "confirmed", "skipped", "failed", "dead", "quarantined"}),
    "notification": frozenset({"sent", "retry", "failed", "suppressed", "unrouted"}),
}
SYNC_BACKLOG = ("claimed", "written", "failed")  # not yet confirmed, will be retried
SYNC_DEAD = ("dead", "quarantined")  # a person must act
DELIVERY_PENDING = ("claimed", "retry")
SEVERITIES = ("info", "warning", "critical")
LAG_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
CACHE_NOTE = "Read from the store, cached up to {s:g}s and re-read after each change made by this process."


class _SummaryCache:
    """The last ``StoreSummary``; re-read when invalidated or older than ``max_age`` seconds."""

    def __init__(self, store: Store, max_age: float, clock: Callable[[], float]) -> None:
        self.store, self.max_age, self.clock = store, max_age, clock
        self._lock = threading.Lock()
        self._summary: StoreSummary | None = None
        self._stale = True
        self.failed_at: float | None = None

    def invalidate(self) -> None:
        self._stale = True

    def get(self) -> StoreSummary | None:
        """The summary to render, or None if the store cannot be read (logged; ``failed_at`` set)."""
        with self._lock:
            now = self.clock()
            if self._stale or self._summary is None or now - self._summary.read_at >= self.max_age:
                self._stale = False
                try:
                    self._summary, self.failed_at = read_summary(self.store, self.clock), None
                except Exception:
                    if self.failed_at is None:  # the traceback once per outage, not once per scrape
                        log.exception("metrics: cannot read the store")
                    self._summary, self.failed_at = None, self.failed_at or now
            return self._summary


class _Latest:
    """Thread-safe 'latest timestamp' per key, fed by hooks (merged with the store's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Key, float] = {}

    def note(self, key: Key, at: datetime) -> None:
        with self._lock:
            self._values[key] = max(self._values.get(key, 0.0), at.timestamp())

    def merged(self, prefix: str, stored: Mapping[Any, float]) -> dict[Key, float]:
        """The later of the store's value and this process's, per key, for keys under ``prefix``."""
        with self._lock:
            mine = {key[1:]: value for key, value in self._values.items() if key[0] == prefix}
        out = {(k if isinstance(k, tuple) else (k,)): v for k, v in stored.items()}
        for key, value in mine.items():
            out[key] = max(out.get(key, 0.0), value)
        return out


def _gauge(name: str, doc: str, labels: list[str], values: Mapping[Any, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), float(value))
    return family


class _StateCollector(Collector):
    """Renders every state-derived family at scrape time from memory and the cached store summary."""

    def __init__(self, health: HealthBoard, cache: _SummaryCache | None, latest: _Latest,
                 currencies: Mapping[str, str], note: str) -> None:
        self.health, self.cache, self.latest, self.currencies, self.note = health, cache, latest, currencies, note

    def collect(self) -> Iterator[Metric]:
        up = {(i, s): 1.0 if state.up else 0.0 for (i, s), state in self.health.sources().items()}
        yield _gauge("watchdog_source_up", "1 if the last request to or read of the system succeeded, else 0 "
                     "(network error, timeout, 5xx, 429 or 401 after retries)", ["integration", "system"], up)
        summary = self.cache.get() if self.cache is not None else None
        if self.cache is not None:
            yield from self._store_health(summary)
        empty = StoreSummary(read_at=0.0, read_seconds=0.0)
        yield from self._timestamps(summary or empty)
        if summary is not None:
            yield from self._findings(summary)
            yield from self._sync(summary)
            yield from self._notifications(summary)

    def _store_health(self, s: StoreSummary | None) -> Iterator[Metric]:
        yield _gauge("watchdog_store_up", "1 if the last read of the store for metrics succeeded, else 0",
                     [], {(): 1.0 if s is not None else 0.0})
        if s is not None:
            yield _gauge("watchdog_store_read_timestamp_seconds", "When the store was last read for these metrics",
                         [], {(): s.read_at})
            yield _gauge("watchdog_store_read_duration_seconds", "How long that last read of the store took",
                         [], {(): s.read_seconds})

    def _timestamps(self, s: StoreSummary) -> Iterator[Metric]:
        note, latest = self.note, self.latest
        yield _gauge("watchdog_check_last_run_timestamp_seconds", f"Last run of a check, any outcome. {note}",
                     ["integration", "check"], latest.merged("check_run", s.check_last_run))
        yield _gauge("watchdog_check_last_success_timestamp_seconds",
                     f"Last run of a check with outcome ok (0: ran, never succeeded). {note}",
                     ["integration", "check"], latest.merged("check_ok", s.check_last_success))
        yield _gauge("watchdog_sync_last_run_timestamp_seconds", f"Last run of a sync flow. {note}",
                     ["integration", "flow"], latest.merged("flow_run", s.flow_last_run))
        yield _gauge("watchdog_sync_last_success_timestamp_seconds",
                     f"Last sync flow run with outcome ok or partial (0: never). {note}",
                     ["integration", "flow"], latest.merged("flow_ok", s.flow_last_success))
        yield _gauge("watchdog_digest_last_sent_timestamp_seconds", f"Last digest sent, per kind. {note}",
                     ["kind"], latest.merged("digest", s.digest_last_sent))

    def _findings(self, s: StoreSummary) -> Iterator[Metric]:
        note, currency = self.note, self.currencies
        yield _gauge("watchdog_findings_open", f"Open findings. {note}",
                     ["integration", "check", "severity", "team"], s.findings_open)
        units = {(i, d): 0.0 for i in currency for d in ("oversell", "undersell")} | s.divergent_units
        yield _gauge("watchdog_stock_divergent_units",
                     f"Units by which Magento differs from Stokly over open stock_divergence findings "
                     f"(oversell: Magento higher). {note}", ["integration", "direction"], units)
        for name, doc, values in (
                ("watchdog_vat_exposure", "VAT on Magento credit memos with no Stokly credit note",
                 s.vat),
                ("watchdog_missing_order_value", "Grand total of Magento orders missing in Stokly",
                 s.missing_order_value)):
            money = dict.fromkeys(currency, 0.0) | values
            yield _gauge(name, f"{doc}, in the currency's major unit. {note}", ["integration", "currency"],
                         {(i, currency.get(i, "unknown")): v for i, v in money.items()})

    def _sync(self, s: StoreSummary) -> Iterator[Metric]:
        note = self.note
        flows = {(i, f) for i, f, _ in s.sync_states}
        for name, doc, states in (
                ("watchdog_sync_backlog", "Ledger records not yet confirmed (claimed, written, failed)",
                 SYNC_BACKLOG),
                ("watchdog_sync_dead_letters", "Ledger records given up (dead, quarantined): a person must act",
                 SYNC_DEAD)):
            values = {k: float(sum(s.sync_states.get((*k, st), 0) for st in states)) for k in flows}
            yield _gauge(name, f"{doc}. {note}", ["integration", "flow"], values)

    def _notifications(self, s: StoreSummary) -> Iterator[Metric]:
        note = self.note
        channels = set(s.channels_broken) | {c for c, _ in s.deliveries} | set(s.channel_last_sent)
        pending = {(c,): float(sum(s.deliveries.get((c, st), 0) for st in DELIVERY_PENDING)) for c in channels}
        failed = {(c,): float(s.deliveries.get((c, "failed"), 0)) for c in channels}
        yield _gauge("watchdog_notification_backlog", f"Deliveries claimed or waiting to retry. {note}",
                     ["channel"], pending)
        yield _gauge("watchdog_notification_failed_deliveries", f"Deliveries given up. {note}",
                     ["channel"], failed)
        yield _gauge("watchdog_notification_last_sent_timestamp_seconds", f"Last delivery sent. {note}",
                     ["channel"], {(c,): v for c, v in s.channel_last_sent.items()})
        yield _gauge("watchdog_notification_channel_broken",
                     f"1 if the channel is marked broken after a permanent failure. {note}", ["channel"],
                     {(c,): 1.0 if b else 0.0 for c, b in s.channels_broken.items()})


class Metrics:
    """The metric objects, the hooks that update them, and their registry.

    One per process; tests make their own. ``store`` enables the state-derived
    families; ``integrations`` maps each configured integration to its currency (and
    pre-initialises its money and stock gauges to 0). Every hook is thread-safe,
    cheap (no I/O) and never raises for an unexpected label value.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, store: Store | None = None,
                 integrations: Mapping[str, str] | None = None, cache_seconds: float = 60.0,
                 clock: Callable[[], float] = time.time, now: Callable[[], datetime] | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.health = HealthBoard()
        self.now = now or (lambda: datetime.fromtimestamp(clock(), UTC))  # when a request ended
        self.integrations: dict[str, str] = dict(integrations or {})
        self._cache = _SummaryCache(store, cache_seconds, clock) if store is not None else None
        self._note = CACHE_NOTE.format(s=cache_seconds)
        self._latest = _Latest()
        self._warned: set[tuple[str, str]] = set()
        self._declare()
        self.build_info.info({"version": __version__})
        self.registry.register(_StateCollector(self.health, self._cache, self._latest, self.integrations, self._note))

    def _declare(self) -> None:
        r = self.registry
        self.build_info = Info("watchdog_build", "Version of the running watchdog", registry=r)
        self.source_requests = Counter(
            "watchdog_source_requests_total", "Request attempts to Magento and Stokly by outcome (ok; retry: "
            "another attempt follows; error: the request failed for good)",
            ["integration", "system", "outcome"], registry=r)
        self.unreadable_records = Counter(
            "watchdog_upstream_unreadable_records_total", "Records a read set aside because they could not be "
            "parsed", ["integration", "system", "route"], registry=r)
        self.source_request_duration = Histogram(
            "watchdog_source_request_duration_seconds", "Duration of one request attempt to a system",
            ["system"], registry=r, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
        self.check_runs = Counter("watchdog_check_runs_total", "Check runs by outcome (ok, not_evaluated, failed)",
                                  ["integration", "check", "outcome"], registry=r)
        self.findings_opened = Counter("watchdog_findings_opened_total", "Findings opened",
                                       ["integration", "check", "severity"], registry=r)
        self.findings_resolved = Counter("watchdog_findings_resolved_total", "Findings resolved",
                                         ["integration", "check", "severity"], registry=r)
        self.flow_runs = Counter("watchdog_sync_runs_total", "Sync flow runs by outcome (ok, partial, failed, "
                                 "skipped)", ["integration", "flow", "outcome"], registry=r)
        self.sync_records = Counter("watchdog_sync_records_total", "Ledger records by outcome (written, confirmed, "
                                    "skipped, failed, dead, quarantined)", ["integration", "flow", "outcome"],
                                    registry=r)
        self.sync_lag = Histogram("watchdog_sync_lag_seconds", "From the source record's time to its write "
                                  "confirmed in the target", ["integration", "flow"], registry=r,
                                  buckets=LAG_BUCKETS)
        self.notifications = Counter("watchdog_notifications_total", "Notification deliveries by outcome (sent, "
                                     "retry, failed, suppressed, unrouted)", ["channel", "outcome"], registry=r)

    def _outcome(self, kind: str, outcome: str) -> str:
        if outcome in OUTCOMES[kind]:
            return outcome
        if (kind, outcome) not in self._warned:
            self._warned.add((kind, outcome))
            log.warning("metrics: unknown %s outcome %r exported as 'other'", kind, outcome)
        return "other"

    def _changed(self) -> None:
        if self._cache is not None:
            self._cache.invalidate()

    def observer(self, integration: str) -> OutcomeObserver:
        """A connector observer for ``integration``: counts attempts; each request's end moves source_up."""
        return _SourceRequests(self, integration)

    def source_checked(self, integration: str, system: str, up: bool, at: datetime, reason: str = "") -> None:
        """Record whether the last read of ``system`` ("magento", "stokly") for ``integration`` succeeded."""
        self.health.set_source(integration, system, up, at, reason)

    def upstream_unreadable(self, integration: str, system: str, route: str, records: int) -> None:
        """Count ``records`` of a read of ``route`` (a path template, never an id) set aside as unreadable."""
        if records > 0:
            self.unreadable_records.labels(integration, system, route).inc(records)

    def check_ran(self, integration: str, check: str, outcome: str, at: datetime) -> None:
        """Call once per check run, after its findings and check_run row are written.

        ``outcome``: ok | not_evaluated | failed; ``at``: when it finished (aware datetime).
        Counts the run, moves the last-run (and on ok, last-success) timestamp and
        makes the next scrape re-read the store.
        """
        outcome = self._outcome("check", outcome)
        for each in OUTCOMES["check"]:
            self.check_runs.labels(integration, check, each)  # pre-initialise: rates work from the first run
        for severity in SEVERITIES:
            self.findings_opened.labels(integration, check, severity)
            self.findings_resolved.labels(integration, check, severity)
        self.check_runs.labels(integration, check, outcome).inc()
        self._latest.note(("check_run", integration, check), at)
        if outcome == "ok":
            self._latest.note(("check_ok", integration, check), at)
        self._changed()

    def finding_opened(self, integration: str, check: str, severity: str) -> None:
        """Call when the engine opens a finding (severity: info | warning | critical)."""
        self.findings_opened.labels(integration, check, severity).inc()
        self._changed()

    def finding_resolved(self, integration: str, check: str, severity: str) -> None:
        """Call when the engine (or a person, through the CLI) resolves a finding."""
        self.findings_resolved.labels(integration, check, severity).inc()
        self._changed()

    def flow_ran(self, integration: str, flow: str, outcome: str, at: datetime) -> None:
        """Call once per sync flow run, after its flow_run row is written.

        ``outcome``: ok | partial | failed | skipped. ok and partial move the flow's last-success timestamp.
        """
        outcome = self._outcome("flow", outcome)
        for each in OUTCOMES["flow"]:
            self.flow_runs.labels(integration, flow, each)
        self.flow_runs.labels(integration, flow, outcome).inc()
        self._latest.note(("flow_run", integration, flow), at)
        if outcome in FLOW_SUCCESS:
            self._latest.note(("flow_ok", integration, flow), at)
        self._changed()

    def sync_record(self, integration: str, flow: str, outcome: str, lag_seconds: float | None = None) -> None:
        """Call once per ledger record a flow settles.

        ``outcome``: written | confirmed | skipped | failed | dead | quarantined. ``lag_seconds``,
        given when the write is confirmed in the target: seconds from the source record's
        time (e.g. Magento order placed) to then. Does not re-read the store (``flow_ran`` does).
        """
        outcome = self._outcome("sync_record", outcome)
        for each in OUTCOMES["sync_record"]:
            self.sync_records.labels(integration, flow, each)
        self.sync_records.labels(integration, flow, outcome).inc()
        if lag_seconds is not None:
            self.sync_lag.labels(integration, flow).observe(max(0.0, lag_seconds))

    def notification(self, channel: str, outcome: str) -> None:
        """Call once per delivery attempt (or suppressed/unrouted transition); matches ``DispatchObserver``.

        ``channel``: as in the delivery log, e.g. "slack:#ops-alerts", "email", "" when unrouted;
        ``outcome``: sent | retry | failed | suppressed | unrouted.
        """
        outcome = self._outcome("notification", outcome)
        for each in ("sent", "retry", "failed") if channel else ():  # "" is the dispatcher's unrouted
            self.notifications.labels(channel, each)
        self.notifications.labels(channel, outcome).inc()
        if outcome != "retry":
            self._changed()

    def digest_sent(self, kind: str, at: datetime) -> None:
        """Call when a digest (kind: slack | email) has been delivered."""
        self._latest.note(("digest", kind), at)
        self._changed()

    def store_changed(self) -> None:
        """Make the next scrape re-read the store (e.g. after ``watchdog findings ack|resolve``)."""
        self._changed()


class _SourceRequests:
    """What ``Metrics.observer`` returns: counts each attempt; a request's end marks its system up or down.

    Success marks the system up; a failure that says the system is unreachable or refuses us
    (``UpstreamError.source_down``: network, timeout, 5xx, 429, 401 after the retries) marks it
    down with the error as the reason. Other failures (a 404, a validation 400) leave it as it was.
    """

    def __init__(self, metrics: Metrics, integration: str) -> None:
        self.metrics, self.integration = metrics, integration

    def __call__(self, system: str, route: str, outcome: str, seconds: float, /) -> None:
        self.metrics.source_requests.labels(self.integration, system, outcome).inc()
        self.metrics.source_request_duration.labels(system).observe(seconds)

    def finished(self, system: str, route: str, error: UpstreamError | None) -> None:
        """Move ``watchdog_source_up`` for ``system`` after a request finished (see the class docstring)."""
        if error is None or error.source_down:
            reason = "" if error is None else str(error)
            self.metrics.health.set_source(self.integration, system, error is None, self.metrics.now(), reason)
