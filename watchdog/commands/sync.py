"""``watchdog sync``: run the sync worker, replay one record, list the dead letters.

- ``sync --config FILE --once [--flow stock|orders|fulfilment|refunds ...] [--integration N]
  [--full-stock] [--json]``: one run of the flows (all by default); without ``--once`` it runs
  every ``--interval`` (default: the schedule's orders interval) until interrupted. A summary
  per flow goes to stderr (``--json``: the summary as JSON on stdout); a progress line shows
  long backfills (``--no-progress`` hides it).
- ``sync replay --config FILE --flow F --id ID [--ref SALE_ORDER_ID]``: send one record back
  through check-before-create (``postings`` can be replayed too; ``--ref`` names a dispatch's
  sale order when the ledger does not know the dispatch).
- ``sync dead-letters --config FILE [--flow F] [--all] [--json]``: records given up (dead) and
  held back (quarantined), with their last error; ``--all`` adds those still being retried;
  ``--json`` adds the last request and response (redacted).

Ledger timing (``--lease``, ``--retry-base``, ``--ambiguous-delay``, ``--wait-interval``)
defaults to production values. Exit codes: 0 done, 1 a flow run failed or a replay did not
land, 2 bad usage (configuration, database not migrated).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from typing import Any

from watchdog.clients import open_clients
from watchdog.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_config_argument
from watchdog.config import Config, IntegrationConfig, load_config
from watchdog.durations import parse_duration
from watchdog.store.db import Store, current_revision, head_revision, open_store
from watchdog.sync import FLOWS, REPLAYABLE, LedgerPolicy, Outcome, SyncSummary, Worker, WorkerOptions
from watchdog.sync.ledger import DEAD, FAILED, QUARANTINED, Ledger
from watchdog.sync.progress import ProgressBar

TIMING = ("lease", "retry_base", "ambiguous_delay", "wait_interval")  # LedgerPolicy fields set by flags


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sync", help="run the sync worker (stock, orders, fulfilment, refunds)",
        description="Run the sync flows; 'replay' and 'dead-letters' act on single records.")
    add_config_argument(parser, required=False)
    parser.add_argument("--once", action="store_true", help="run each flow once, then exit")
    parser.add_argument("--flow", action="append", choices=FLOWS, help="a flow to run (repeatable; default all)")
    parser.add_argument("--integration", metavar="NAME", help="only this integration")
    parser.add_argument("--full-stock", action="store_true", help="push every SKU's stock, not only changes")
    parser.add_argument("--interval", metavar="DURATION", help="time between runs without --once")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    _timing(parser)
    parser.set_defaults(handler=run_sync)
    actions = parser.add_subparsers(metavar="ACTION", dest="action")
    replay = actions.add_parser("replay", help="send one record back through check-before-create")
    add_config_argument(replay)
    replay.add_argument("--flow", required=True, choices=REPLAYABLE)
    replay.add_argument("--id", required=True, dest="source_id", metavar="ID", help="the source record's id")
    replay.add_argument("--ref", metavar="ID", help="a dispatch's Stokly sale order id (fulfilment)")
    replay.add_argument("--integration", metavar="NAME")
    _timing(replay)
    replay.set_defaults(handler=replay_record)
    letters = actions.add_parser("dead-letters", help="records given up or quarantined, with their last error")
    add_config_argument(letters)
    letters.add_argument("--flow", choices=REPLAYABLE)
    letters.add_argument("--integration", metavar="NAME")
    letters.add_argument("--all", action="store_true", help="include records still being retried")
    letters.add_argument("--json", action="store_true", help="JSON, with the last request and response")
    letters.set_defaults(handler=list_dead_letters)


def _timing(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ledger timing (defaults suit production)")
    group.add_argument("--lease", metavar="DURATION", help="how long a claim holds a record (10m)")
    group.add_argument("--retry-base", metavar="DURATION", help="first backoff after a failure (30s)")
    group.add_argument("--ambiguous-delay", metavar="DURATION", help="minimum wait before a read-back (60s)")
    group.add_argument("--wait-interval", metavar="DURATION", help="retry interval of waiting records (5m)")


def _options(args: argparse.Namespace) -> WorkerOptions:
    changes: dict[str, Any] = {name: parse_duration(value) for name in TIMING
                               if (value := getattr(args, name, None)) is not None}
    return WorkerOptions(ledger=replace(LedgerPolicy(), **changes))


def _integrations(config: Config, name: str | None) -> list[IntegrationConfig]:
    if name is None:
        return list(config.integrations)
    return [config.integration(name)]


def _open(config: Config) -> Store | None:
    store = open_store(config.database.url)
    if current_revision(store.engine) != head_revision():
        print("the database is not migrated to the current schema: run 'watchdog db upgrade --config FILE'",
              file=sys.stderr)
        store.dispose()
        return None
    return store


# ------------------------------------------------------------------ sync


def run_sync(args: argparse.Namespace) -> int:
    if args.config is None:
        print("watchdog sync: --config FILE is required", file=sys.stderr)
        return EXIT_USAGE
    config = load_config(args.config)
    try:
        integrations = _integrations(config, args.integration)
        interval = parse_duration(args.interval) if args.interval else config.schedule.orders
    except (KeyError, ValueError) as exc:
        print(f"watchdog sync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = _open(config)
    if store is None:
        return EXIT_USAGE
    try:
        return asyncio.run(_loop(args, integrations, store, interval.total_seconds()))
    except ValueError as exc:  # the clients cannot be built (credentials, OAuth over plain http)
        print(f"watchdog sync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.dispose()


async def _loop(args: argparse.Namespace, integrations: list[IntegrationConfig], store: Store,
                interval_s: float) -> int:
    while True:
        code = EXIT_OK
        for integration in integrations:
            summary = await _run_once(args, integration, store)
            _report(summary, as_json=args.json)
            code = code if summary.ok else EXIT_FAILURE
        if args.once:
            return code
        await asyncio.sleep(interval_s)


async def _run_once(args: argparse.Namespace, integration: IntegrationConfig, store: Store) -> SyncSummary:
    progress = None if args.no_progress else ProgressBar(sys.stderr)
    async with open_clients(integration) as clients:
        worker = Worker(integration, store, clients.magento, clients.stokly, options=_options(args),
                        progress=progress)
        return await worker.run(args.flow or FLOWS, full_stock=True if args.full_stock else None)


def _report(summary: SyncSummary, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"integration": summary.integration, "sync": summary.counts()}))
        return
    for result in summary.flows.values():
        note = f"  ({result.note})" if result.note else ""
        print(f"{summary.integration} {result.flow:<10} {result.outcome.value:<8} written {result.written:>5}  "
              f"skipped {result.skipped:>5}  failed {result.failed:>4}  dead {result.dead:>4}{note}",
              file=sys.stderr)


# ------------------------------------------------------------------ replay


def replay_record(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = _open(config)
    if store is None:
        return EXIT_USAGE
    try:
        integration = _integrations(config, args.integration)[0]
        outcome = asyncio.run(_replay(args, integration, store))
        state = Ledger(store, integration.name).entry(args.flow, args.source_id)
    except (KeyError, ValueError) as exc:
        print(f"watchdog sync replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.dispose()
    shown = outcome.value if outcome is not None else "held by another worker"
    print(f"{args.flow} {args.source_id}: {shown}" + (f" (ledger: {state[0]})" if state else ""))
    return EXIT_OK if outcome in (Outcome.WRITTEN, Outcome.SKIPPED) else EXIT_FAILURE


async def _replay(args: argparse.Namespace, integration: IntegrationConfig, store: Store) -> Outcome | None:
    async with open_clients(integration) as clients:
        worker = Worker(integration, store, clients.magento, clients.stokly, options=_options(args))
        return await worker.replay(args.flow, args.source_id, source_ref=args.ref)


# ------------------------------------------------------------------ dead letters


def list_dead_letters(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = _open(config)
    if store is None:
        return EXIT_USAGE
    states = (DEAD, QUARANTINED, FAILED) if args.all else (DEAD, QUARANTINED)
    try:
        letters = [(i.name, letter) for i in _integrations(config, args.integration)
                   for letter in Ledger(store, i.name).dead_letters(args.flow, states)]
    finally:
        store.dispose()
    if args.json:
        print(json.dumps([{"integration": name, "flow": d.flow, "source_id": d.source_id, "state": d.state,
                           "attempts": d.attempts, "error_class": d.error_class, "last_error": d.last_error,
                           "target_id": d.target_id, "updated_at": d.updated_at.isoformat(),
                           "last": d.detail.get("last")} for name, d in letters], indent=2))
        return EXIT_OK
    for name, d in letters:
        error = (d.last_error or "").splitlines()[0] if d.last_error else ""
        print(f"{name} {d.flow:<10} {d.source_id:<36} {d.state:<11} {d.attempts:>2} {d.updated_at:%Y-%m-%d %H:%M}  "
              f"{error}")
    if not letters:
        print("no dead letters", file=sys.stderr)
    return EXIT_OK
