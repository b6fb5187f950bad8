"""``watchdog demo``: the whole service on the embedded simulators and SQLite.

A small UK shop trades on the simulated Magento and Stokly while the real sync worker
moves its stock, orders, tracking and refunds, and the real watchdog checks both
systems, keeps findings in SQLite, serves ``/metrics``, posts to a local fake Slack and
emails a local SMTP server. Part way through, the five quiet failures of the seed
happen (``watchdog.simulators.trading``); the run ends with them as findings.

Leaves in ``--out DIR`` (design.md section 9): ``summary.json``, ``findings.json``,
``metrics.txt``, ``slack/*.json``, ``email/*.eml`` and the ``watchdog.db`` it used.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from watchdog.config import Config
from watchdog.demo_setup import DemoEnvironment
from watchdog.engine import RunSummary, load_ledger_view, run_checks
from watchdog.simulators.stokly.shape import ShapeRules
from watchdog.snapshot import take_snapshots
from watchdog.store.finding_queries import findings_json
from watchdog.sync.results import SyncSummary
from watchdog.sync.worker import Worker

__all__ = ["run_demo"]

OUTPUTS = ("summary.json", "findings.json", "metrics.txt", "watchdog.db", "slack", "email")
CYCLE = timedelta(seconds=2)


@dataclass
class DemoRun:
    """What the demo accumulates while it runs (for summary.json and the console)."""

    started: float = field(default_factory=time.monotonic)
    sync: dict[str, dict[str, int]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    cycles: int = 0

    def add_sync(self, summary: SyncSummary) -> None:
        for flow, counts in summary.counts().items():
            total = self.sync.setdefault(flow, {"written": 0, "skipped": 0, "failed": 0, "dead": 0})
            for key in total:
                total[key] += counts.get(key, 0)


def run_demo(*, seconds: float, out: Path, metrics_port: int = 0, seed: int = 7,
             echo: Callable[[str], None] = print, stokly_shape: ShapeRules | None = None) -> int:
    """Run the demo for ``seconds`` and leave its outputs in ``out``; returns the exit code.

    ``stokly_shape`` makes the simulated Stokly serve other shapes than we assume (fields dropped).
    """
    _prepare(out)
    with DemoEnvironment(out, seed=seed, metrics_port=metrics_port, stokly_shape=stokly_shape) as env:
        config = env.config
        echo(f"watchdog demo: Magento {env.systems.magento_url}, Stokly {env.systems.stokly_url}, "
             f"metrics {env.metrics_url}/metrics")
        run = asyncio.run(_trade_and_watch(env, config, seconds, echo))
        _finish(env, config, run, out, echo)
    return 0


def _prepare(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


async def _trade_and_watch(env: DemoEnvironment, config: Config, seconds: float,
                           echo: Callable[[str], None]) -> DemoRun:
    run = DemoRun()
    integration = config.integrations[0]
    broken = False
    async with env.clients(integration) as clients:
        worker = Worker(integration, env.store, clients.magento, clients.stokly, observer=env.metrics)
        while True:
            elapsed = time.monotonic() - run.started
            last = elapsed >= seconds
            if not broken and elapsed >= seconds * 0.3:
                for event in env.trading.break_things():
                    echo(f"  ! {event}")
                broken = True
            if not last:
                env.trading.tick()
            run.add_sync(await worker.run(full_stock=run.cycles == 0))
            checks = await _check(env, config, clients)
            run.checks = checks.checks_json()
            sent = env.dispatcher.dispatch_once()
            if broken and elapsed >= seconds * 0.6:  # once the failures have surfaced; once per period
                _send_digests(env)
            run.cycles += 1
            echo(_progress(run, env, checks, sent.messages, elapsed))
            if last:
                return run
            await asyncio.sleep(CYCLE.total_seconds())


async def _check(env: DemoEnvironment, config: Config, clients: Any) -> RunSummary:
    integration = config.integrations[0]
    now = datetime.now(UTC)
    magento, stokly = await take_snapshots(integration, clients.magento, clients.stokly, now)
    ledger = load_ledger_view(env.store, integration.name, now)
    return run_checks(env.store, integration, magento, stokly, ledger, now, observer=env.metrics)


def _progress(run: DemoRun, env: DemoEnvironment, checks: RunSummary, messages: int, elapsed: float) -> str:
    stats = env.trading.stats
    opened = sum(v["open"] for v in checks.checks_json().values())
    return (f"  [{elapsed:5.1f}s] cycle {run.cycles:>2}: {stats.orders} orders placed, {stats.dispatches} dispatched, "
            f"{stats.refunds} refunded; {opened} findings open; {messages} Slack message(s) this cycle")


def _send_digests(env: DemoEnvironment) -> None:
    """The teams' Slack digests and the managers' email (each once per period: repeats are no-ops)."""
    now = datetime.now(UTC)
    env.dispatcher.send_digests(now, "slack")
    env.dispatcher.send_digests(now, "email")


def _finish(env: DemoEnvironment, config: Config, run: DemoRun, out: Path, echo: Callable[[str], None]) -> None:
    _send_digests(env)
    findings = findings_json(env.store, currencies={i.name: i.currency for i in config.integrations})
    (out / "findings.json").write_text(json.dumps(findings, indent=2, default=str) + "\n")
    metrics = httpx.get(f"{env.metrics_url}/metrics", timeout=10).text
    (out / "metrics.txt").write_text(metrics)
    slack_messages = env.slack.write_requests(out / "slack")
    emails = env.smtp.write_messages(out / "email")
    summary = {
        "duration_seconds": round(time.monotonic() - run.started, 1),
        "sync": run.sync,
        "checks": run.checks,
        "alerts": {"slack_messages": slack_messages, "emails": emails},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _report(findings, summary, env, out, echo)


def _report(findings: list[dict[str, Any]], summary: dict[str, Any], env: DemoEnvironment, out: Path,
            echo: Callable[[str], None]) -> None:
    echo("")
    echo(f"Done in {summary['duration_seconds']}s. {len(findings)} open finding(s):")
    for f in sorted(findings, key=lambda f: (f["check"], f["subject"])):
        echo(f"  {f['severity']:<8} {f['check']:<22} {f['summary']}")
    echo("")
    echo(f"  findings     {out / 'findings.json'} (the database: {out / 'watchdog.db'})")
    echo(f"  summary      {out / 'summary.json'}")
    echo(f"  metrics      {out / 'metrics.txt'} (served at {env.metrics_url}/metrics while it ran)")
    echo(f"  Slack        {summary['alerts']['slack_messages']} request(s) in {out / 'slack'}")
    echo(f"  email        {summary['alerts']['emails']} message(s) in {out / 'email'}")
