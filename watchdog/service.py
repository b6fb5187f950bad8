"""The production service behind ``watchdog run``: every job on schedule, /metrics and /healthz.

``Service(config, store, options)`` composes the parts:

- one **lane** per integration (thread + event loop + that integration's two clients) running
  its sync flows and checks (``watchdog.jobs``), and one shared lane for dispatch, digests
  and housekeeping — so one merchant's outage never delays another's jobs;
- the **slot ledger** (``watchdog.scheduler``) in the store and one **lease keeper** thread
  renewing the leases of whatever this process is running, so replicas on one PostgreSQL
  share the work and each slot runs once;
- the HTTP server (``watchdog.server``) on ``[server] listen``: ``/metrics``, ``/healthz``,
  ``/readyz`` and ``/findings``; every job reports to one ``Metrics``, and every request the
  clients finish moves its source's health (``/healthz`` is 503 once a source has been down longer
  than ``[server] source_down_grace``, or while the database does not answer).

``start()`` starts it all; ``stop()`` lets running slots finish for ``options.drain``, then
cancels and releases them, stops the keeper and the server — well within the 10 seconds an
orchestrator gives (``docker stop``, systemd's ``TimeoutStopSec``). Time comes from
``options.clock``; the store is the caller's (opened, migrated and disposed by it).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from watchdog.cadence import Daily, Every
from watchdog.clients import ClientOptions
from watchdog.config import Config
from watchdog.dispatch import Dispatcher, default_owner
from watchdog.dispatch_rules import DispatchPolicy
from watchdog.health import Health, assess, probe_database
from watchdog.jobs import SharedContext, open_integration_jobs, shared_jobs
from watchdog.lanes import Lane
from watchdog.logs import Masker, adopt, secrets_in
from watchdog.metrics import Metrics
from watchdog.notifiers import build_notifiers
from watchdog.scheduler import SlotLedger
from watchdog.server import create_app
from watchdog.simulators.serve import ServedApp
from watchdog.slot_runner import MAX_GRACE, Job, LeaseKeeper, SlotRunner, resumable
from watchdog.store.db import Store
from watchdog.store.finding_queries import findings_json
from watchdog.sync import WorkerOptions

__all__ = ["Service", "ServiceOptions", "check_schedule"]

log = logging.getLogger(__name__)

STOP_MARGIN = 1.5  # seconds after the drain for cancelled slots to be released


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceOptions:
    """Knobs of the running service that are not part of the configuration file.

    ``lease``: how long a slot is held without renewal (renewed every third of it; a crashed
    replica's slots are taken over after at most this long). ``drain``: on stop, how long
    running slots may finish before they are cancelled and released. ``retention``: finished
    slots older than this are deleted. ``owner``: this process's id in the ledgers (default
    host:pid:random). ``clients``, ``worker``, ``dispatch``: passed to the clients, the sync
    worker and the dispatcher (tests shorten their timers).
    """

    lease: timedelta = timedelta(seconds=60)
    drain: timedelta = timedelta(seconds=5)
    retention: timedelta = timedelta(days=7)
    owner: str | None = None
    clock: Callable[[], datetime] = utc_now
    clients: ClientOptions | None = None
    worker: WorkerOptions | None = None
    dispatch: DispatchPolicy | None = None


def check_schedule(config: Config) -> None:
    """Raise ValueError if the scheduler cannot keep ``config``'s schedule (intervals, times, zones)."""
    s = config.schedule
    for interval in (s.orders, s.fulfilment, s.refunds, s.stock, s.checks, s.dispatch):
        Every(interval)
    for zone in {i.timezone for i in config.integrations}:
        for times in (s.slack_digest, (s.email_digest,), (s.full_stock_push,)):
            if times:
                Daily(times, zone)


class Service:
    """Everything ``watchdog run`` runs, started and stopped as one."""

    def __init__(self, config: Config, store: Store, options: ServiceOptions | None = None) -> None:
        check_schedule(config)
        self.config = config
        self.store = store
        self.options = options = options or ServiceOptions()
        self.owner = options.owner or default_owner()
        self.metrics = Metrics(store=store, integrations={i.name: i.currency for i in config.integrations},
                               now=options.clock)
        self.ledger = SlotLedger(store, self.owner, lease=options.lease)
        self.keeper = LeaseKeeper(self.ledger, options.clock)
        self._mask = Masker(secrets_in(config))  # errors stored in the ledger never hold a secret
        self.server = ServedApp(create_app(self.metrics, findings=self._findings, health=self.health),
                                host=config.server.host, port=config.server.port, name="http")
        adopt("uvicorn", "uvicorn.error", "uvicorn.access")  # uvicorn installs its own handlers
        self.lanes = [self._integration_lane(name) for name in (i.name for i in config.integrations)]
        self.lanes.append(self._shared_lane())

    @property
    def url(self) -> str:
        """Where /metrics, /healthz and /findings are served (once started)."""
        return self.server.url

    def start(self) -> Service:
        """Serve HTTP, renew leases, run every lane. Raises RuntimeError if the listen address is taken."""
        _probe(self.config.server.host, self.config.server.port)
        self.server.start()
        self.keeper.start()
        for lane in self.lanes:
            lane.start()
        log.info("watchdog running as %s: %d integration(s), metrics on %s/metrics", self.owner,
                 len(self.config.integrations), self.url, extra={"event": "service.started", "owner": self.owner})
        return self

    def health(self) -> Health:
        """What /healthz says: sources down beyond the grace, the database (probed now), secrets masked."""
        return assess(self.metrics.health.sources(), self.options.clock(), self.config.server.source_down_grace,
                      probe_database(self.store), self._mask)

    def healthy(self) -> bool:
        """True while every lane's thread is alive (a dead lane is a bug: the process should restart)."""
        return all(lane.alive for lane in self.lanes)

    def stop(self) -> bool:
        """Finish or release every running slot and stop; True if every lane ended in time."""
        started = time.monotonic()
        deadline = started + self.options.drain.total_seconds()
        for lane in self.lanes:
            lane.stop(deadline)
        ended = [lane.join(deadline + STOP_MARGIN - time.monotonic()) for lane in self.lanes]
        self.keeper.stop()
        self.server.stop(timeout=2.0)
        stuck = [lane.name for lane, done in zip(self.lanes, ended, strict=True) if not done]
        if stuck:
            log.warning("lane(s) %s still busy in uninterruptible work: their slots' leases will expire and "
                        "another replica takes them over", ", ".join(stuck), extra={"event": "service.abandoned"})
        log.info("watchdog stopped in %.1fs", time.monotonic() - started, extra={"event": "service.stopped"})
        return not stuck

    # ------------------------------------------------------------------ composition

    def _runner(self) -> SlotRunner:
        return SlotRunner(self.ledger, self.keeper, self.options.clock, self._mask)

    def _integration_lane(self, name: str) -> Lane:
        worker = self.options.worker or WorkerOptions()
        worker = replace(worker, worker_id=worker.worker_id or self.owner)
        open_jobs = open_integration_jobs(self.config.integration(name), self.config, self.store, self.metrics,
                                          self.options.clock, worker, self.options.clients)
        return Lane(name, open_jobs, self._runner(), self.options.clock)

    def _shared_lane(self) -> Lane:
        dispatcher = Dispatcher(self.store, self.config, build_notifiers(self.config), clock=self.options.clock,
                                observer=self.metrics, policy=self.options.dispatch, owner=self.owner)
        context = SharedContext(self.config, dispatcher, self.ledger, self.options.clock, self.options.retention,
                                self._resumable())

        @asynccontextmanager
        async def open_jobs() -> AsyncIterator[Sequence[Job]]:
            yield shared_jobs(context)

        return Lane("notifications", open_jobs, self._runner(), self.options.clock)

    def _resumable(self) -> timedelta:
        """The longest any job's slot stays resumable: a daily job's."""
        return resumable(timedelta(days=1), MAX_GRACE, self.options.lease)

    def _findings(self) -> list[dict[str, object]]:
        return findings_json(self.store, currencies={i.name: i.currency for i in self.config.integrations})


def _probe(host: str, port: int) -> None:
    """Raise RuntimeError naming the address if ``host:port`` cannot be listened on."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise RuntimeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
