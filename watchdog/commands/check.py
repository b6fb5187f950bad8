"""``watchdog check --config FILE --once [--json]``: read both systems, run every check once.

For each integration: snapshots of Magento and Stokly (concurrently, in bulk), every
registered check, the finding lifecycle persisted in the database. Prints the open
findings: a table, or with ``--json`` a JSON array in the format of design.md section 9.

Exit codes: 0 every check ran (findings or not); 1 some check could not run (a system
was unreachable or a check failed) — nothing was resolved because of it; 2 bad usage or
configuration, or a database that needs ``watchdog db upgrade``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from watchdog.clients import open_clients
from watchdog.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_config_argument, selected_integrations
from watchdog.config import Config, IntegrationConfig, load_config
from watchdog.engine import SOURCE_UNREACHABLE, RunSummary, load_ledger_view, run_checks
from watchdog.snapshot import take_snapshots
from watchdog.store.db import Store, current_revision, head_revision, open_store
from watchdog.store.finding_queries import findings_json


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("check", help="read both systems and run every check once")
    add_config_argument(p)
    p.add_argument("--once", action="store_true", required=True,
                   help="run once and exit (continuous checking is `watchdog run`)")
    p.add_argument("--json", action="store_true", help="print the open findings as a JSON array")
    p.add_argument("--integration", metavar="NAME", help="only this integration")
    p.set_defaults(handler=check_once)


def check_once(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    integrations = selected_integrations(config, args.integration, args.config)
    if not integrations:
        return EXIT_USAGE
    store = open_store(config.database.url)
    try:
        if current_revision(store.engine) != head_revision():
            print(f"the database at {store.engine.url.render_as_string()} needs `watchdog db upgrade "
                  f"--config {args.config}`", file=sys.stderr)
            return EXIT_USAGE
        summaries = [asyncio.run(_check(store, integration)) for integration in integrations]
        _print(store, config, summaries, as_json=args.json)
    finally:
        store.dispose()
    complete = all(r.outcome == "ok" for s in summaries for r in s.checks.values())
    return EXIT_OK if complete else EXIT_FAILURE


async def _check(store: Store, integration: IntegrationConfig) -> RunSummary:
    now = datetime.now(UTC)
    async with open_clients(integration) as clients:
        magento, stokly = await take_snapshots(integration, clients.magento, clients.stokly, now)
    ledger = load_ledger_view(store, integration.name, now)
    return run_checks(store, integration, magento, stokly, ledger, now)


def _why_not(summary: RunSummary) -> dict[str, Any]:
    """What could not be read (part: cause) and which checks did not run or judged only part, and why."""
    return {
        "unreadable": dict(summary.unreachable),
        "not_evaluated": {c: r.error for c, r in sorted(summary.checks.items()) if r.outcome == "not_evaluated"},
        "could_not_judge": {c: list(r.limits) for c, r in sorted(summary.checks.items()) if r.limits},
    }


def _print_run(summary: RunSummary) -> None:
    """One line per integration, then every check that did not run or could not judge everything, with why."""
    print(f"{summary.integration}: {len(summary.checks)} checks")
    for system, causes in sorted(summary.unreachable.items()):
        print(f"  {system} could not be read: {causes}")
    for check, result in sorted(summary.checks.items()):
        if result.outcome != "ok":
            print(f"  {check}: {result.outcome}: {result.error or 'no reason given'}")
        for limit in result.limits:
            print(f"  {check}: could not judge: {limit}")


def _print(store: Store, config: Config, summaries: list[RunSummary], *, as_json: bool) -> None:
    names = {s.integration for s in summaries}
    currencies = {i.name: i.currency for i in config.integrations}
    findings = [f for f in findings_json(store, currencies=currencies) if f["integration"] in names]
    if as_json:
        by_name = {s.integration: s for s in summaries}
        for f in findings:
            if f["check"] == SOURCE_UNREACHABLE and f["integration"] in by_name:
                f["details"] = _why_not(by_name[f["integration"]])
        print(json.dumps(findings, indent=2, default=str))
        return
    for summary in summaries:
        _print_run(summary)
    for f in sorted(findings, key=lambda f: (f["integration"], f["check"], f["subject"])):
        print(f"  {f['fingerprint'][:10]}  {f['severity']:<8} {f['owner']:<10} {f['check']:<22} {f['summary']}")
    print(f"{len(findings)} open finding(s)")
