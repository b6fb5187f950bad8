"""``watchdog run --config FILE``: the production service (``watchdog.service``).

Runs the sync flows, the checks, alert dispatch and the digests on schedule, each slot once
across restarts and replicas; serves ``/metrics``, ``/healthz`` and ``/findings`` on
``[server] listen``; logs JSON lines on stderr. SIGTERM or SIGINT stops it cleanly: running
slots finish or are released within 10 seconds, exit 0 (a second signal exits at once, 1).

Exit codes: 0 stopped on request; 1 could not serve (address taken) or a lane died; 2 bad
usage, configuration or schedule, or a database that needs ``watchdog db upgrade``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from watchdog.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_config_argument
from watchdog.config import Config, load_config
from watchdog.durations import parse_duration
from watchdog.logs import configure_logging, secrets_in
from watchdog.service import Service, ServiceOptions, check_schedule
from watchdog.store.db import Store, current_revision, head_revision, open_store

log = logging.getLogger("watchdog.run")
LEVELS = ("debug", "info", "warning", "error")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("run", help="the production service: sync, checks, alerts and digests on schedule",
                              description="Run every job on schedule (each slot once across restarts and "
                                          "replicas) and serve /metrics, /healthz and /findings.")
    add_config_argument(p)
    p.add_argument("--lease", default="60s", metavar="DURATION",
                   help="how long a job slot is held between renewals; a crashed replica's slots are taken over "
                        "after at most this long (default %(default)s)")
    p.add_argument("--drain", default="5s", metavar="DURATION",
                   help="on SIGTERM, how long running slots may finish before they are released "
                        "(default %(default)s; keep it under the orchestrator's stop timeout minus 2s)")
    p.add_argument("--log-level", default="info", choices=LEVELS, help="default %(default)s")
    p.set_defaults(handler=run_service)


def run_service(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    config = load_config(args.config)
    configure_logging(args.log_level, secrets=secrets_in(config))
    try:
        options = ServiceOptions(lease=parse_duration(args.lease), drain=parse_duration(args.drain))
        check_schedule(config)
    except ValueError as exc:
        print(f"watchdog run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = open_store(config.database.url)
    try:
        return _serve(config, store, options, args)
    finally:
        store.dispose()


def _serve(config: Config, store: Store, options: ServiceOptions, args: argparse.Namespace) -> int:
    if current_revision(store.engine) != head_revision():
        print(f"watchdog run: the database is not at the current schema: run `watchdog db upgrade --config "
              f"{args.config}` first", file=sys.stderr)
        return EXIT_USAGE
    stop = _stop_on_signals()
    service = Service(config, store, options)
    try:
        service.start()
    except RuntimeError as exc:
        log.error("cannot serve on %s: %s", config.server.listen, exc, extra={"event": "service.failed"})
        service.stop()
        return EXIT_FAILURE
    code = EXIT_OK
    while not stop.wait(1.0):
        if not service.healthy():
            log.critical("a lane died: stopping so the supervisor restarts the service",
                         extra={"event": "service.unhealthy"})
            code = EXIT_FAILURE
            break
    log.info("stopping", extra={"event": "service.stopping"})
    service.stop()
    return code


def _stop_on_signals() -> threading.Event:
    """An event set by the first SIGTERM or SIGINT; a second one exits immediately with 1."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            os._exit(EXIT_FAILURE)
        log.info("received %s", signal.Signals(signum).name, extra={"event": "service.signal"})
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
    return stop
