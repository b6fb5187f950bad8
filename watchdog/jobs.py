"""The jobs ``watchdog run`` schedules: per integration, and shared by all.

Per integration (its own lane; job names start with the integration's name):

==========================  ===================================  ==========================
job                         cadence                              what it does
==========================  ===================================  ==========================
``NAME/sync.orders``        ``[schedule] orders``                new and changed orders -> Stokly
``NAME/sync.fulfilment``    ``[schedule] fulfilment``            dispatches -> Magento shipments (+ postings)
``NAME/sync.refunds``       ``[schedule] refunds``               credit memos -> Stokly credit notes
``NAME/sync.stock``         ``[schedule] stock``                 changed stock figures -> Magento
``NAME/sync.full_stock``    daily ``full_stock_push`` (local)    every stock figure -> Magento
``NAME/checks``             ``[schedule] checks``                snapshots, every check, findings
==========================  ===================================  ==========================

The four sync jobs and the full push form one group (``NAME/sync``): they take turns, on
every replica together, so the stock figures are computed from a settled order flow. The
checks run beside them, one run at a time (the engine relies on it). All of them share the
integration's two clients, so ``rate_per_s`` and ``concurrency`` pace each API for the
whole integration.

Shared (the notification lane): ``dispatch`` (``[schedule] dispatch``; alerts to Slack),
``digest.slack@ZONE`` and ``digest.email@ZONE`` (daily at ``slack_digest`` /
``email_digest``, local time of each time zone the integrations use; the dispatcher sends
each integration's digest once per period), and ``housekeeping`` (hourly: marks slots
nobody can resume any more ``abandoned``, deletes slots older than the retention).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from watchdog.cadence import Daily, Every, Slot
from watchdog.clients import ClientOptions, Clients, open_clients
from watchdog.config import Config, IntegrationConfig, ScheduleConfig
from watchdog.dispatch import Dispatcher
from watchdog.engine import load_ledger_view, run_checks
from watchdog.metrics import Metrics
from watchdog.scheduler import SlotLedger
from watchdog.slot_runner import Job
from watchdog.snapshot import take_snapshots
from watchdog.store.db import Store
from watchdog.sync import FLOWS, Worker, WorkerOptions

__all__ = ["IntegrationContext", "SharedContext", "integration_jobs", "open_integration_jobs", "shared_jobs"]

HOUSEKEEPING_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class IntegrationContext:
    """What one integration's jobs share on its lane."""

    integration: IntegrationConfig
    store: Store
    clients: Clients
    metrics: Metrics
    clock: Callable[[], datetime]
    worker: WorkerOptions


@dataclass(frozen=True)
class SharedContext:
    """What the shared jobs need: the dispatcher and the slot ledger's upkeep settings."""

    config: Config
    dispatcher: Dispatcher
    ledger: SlotLedger
    clock: Callable[[], datetime]
    retention: timedelta  # finished slots older than this are deleted
    resumable: timedelta  # no job's slot can be taken over after this long


def integration_jobs(ctx: IntegrationContext, schedule: ScheduleConfig) -> list[Job]:
    """The jobs of one integration. Raises ValueError for an interval the scheduler cannot keep."""
    name, zone = ctx.integration.name, ctx.integration.timezone
    every = {"orders": schedule.orders, "fulfilment": schedule.fulfilment, "refunds": schedule.refunds,
             "stock": schedule.stock}
    group = f"{name}/sync"
    jobs = [Job(f"{name}/sync.{flow}", Every(every[flow]), partial(sync_flow, ctx, flow, False), group=group)
            for flow in FLOWS]
    jobs.append(Job(f"{name}/sync.full_stock", Daily((schedule.full_stock_push,), zone),
                    partial(sync_flow, ctx, "stock", True), group=group))
    jobs.append(Job(f"{name}/checks", Every(schedule.checks), partial(watch, ctx)))
    return jobs


def open_integration_jobs(integration: IntegrationConfig, config: Config, store: Store, metrics: Metrics,
                          clock: Callable[[], datetime], worker: WorkerOptions,
                          clients: ClientOptions | None) -> Callable[[], AbstractAsyncContextManager[Sequence[Job]]]:
    """Opens the integration's clients (on the lane's loop) and yields its jobs; closes them after."""

    @asynccontextmanager
    async def open_jobs() -> AsyncIterator[Sequence[Job]]:
        async with open_clients(integration, observer=metrics.observer(integration.name), options=clients) as c:
            yield integration_jobs(IntegrationContext(integration, store, c, metrics, clock, worker), config.schedule)

    return open_jobs


def shared_jobs(ctx: SharedContext) -> list[Job]:
    """Dispatch, the digests of each kind with a notifier, and housekeeping."""
    schedule = ctx.config.schedule
    jobs = [Job("dispatch", Every(schedule.dispatch), partial(dispatch, ctx))]
    zones = sorted({i.timezone for i in ctx.config.integrations})
    times = {"slack": schedule.slack_digest, "email": (schedule.email_digest,)}
    for kind in ("slack", "email"):
        if kind in ctx.dispatcher.notifiers and times[kind]:
            jobs += [Job(f"digest.{kind}@{zone}", Daily(times[kind], zone), partial(digest, ctx, kind))
                     for zone in zones]
    jobs.append(Job("housekeeping", Every(HOUSEKEEPING_EVERY), partial(housekeeping, ctx)))
    return jobs


# ---------------------------------------------------------------------- job bodies


async def sync_flow(ctx: IntegrationContext, flow: str, full: bool, slot: Slot) -> str:
    """One run of one sync flow (``full``: push every stock figure). Returns the counts."""
    worker = Worker(ctx.integration, ctx.store, ctx.clients.magento, ctx.clients.stokly, clock=ctx.clock,
                    observer=ctx.metrics, options=ctx.worker)
    summary = await worker.run([flow], full_stock=full)
    return "; ".join(f"{name} {r.outcome.value}: written {r.written}, skipped {r.skipped}, failed {r.failed}, "
                     f"dead {r.dead}" + (f" ({r.note})" if r.note else "") for name, r in summary.flows.items())


async def watch(ctx: IntegrationContext, slot: Slot) -> str:
    """Read both systems, run every check, persist the findings' lifecycle. Returns the outcomes."""
    now = ctx.clock()
    magento, stokly = await take_snapshots(ctx.integration, ctx.clients.magento, ctx.clients.stokly, now)
    ledger = load_ledger_view(ctx.store, ctx.integration.name, now)
    summary = run_checks(ctx.store, ctx.integration, magento, stokly, ledger, now, observer=ctx.metrics)
    outcomes = [c.outcome for c in summary.checks.values()]
    unread = f"; unreachable: {', '.join(sorted(summary.unreachable))}" if summary.unreachable else ""
    return (f"{outcomes.count('ok')} ok, {outcomes.count('not_evaluated')} not evaluated, "
            f"{outcomes.count('failed')} failed; {summary.count('opened')} opened, "
            f"{summary.count('resolved')} resolved{unread}")


async def dispatch(ctx: SharedContext, slot: Slot) -> str:
    """Deliver the due alert groups. Returns what happened."""
    done = ctx.dispatcher.dispatch_once(ctx.clock())
    return (f"{done.messages} message(s), {done.delivered} delivered, {done.held} held, {done.retrying} retrying, "
            f"{done.failed} failed")


async def digest(ctx: SharedContext, kind: str, slot: Slot) -> str:
    """Send the due digests of ``kind``; each goes once per period whoever runs this."""
    done = ctx.dispatcher.send_digests(ctx.clock(), kind)
    return ", ".join(f"{o.key.integration}/{o.key.audience}: {o.status}" for o in done.outcomes) or "none due"


async def housekeeping(ctx: SharedContext, slot: Slot) -> str:
    """Close slots nobody can resume any more; delete finished ones past the retention."""
    now = ctx.clock()
    swept = ctx.ledger.sweep(now, due_before=now - ctx.resumable)
    pruned = ctx.ledger.prune(due_before=now - ctx.retention)
    return f"{swept} slot(s) abandoned, {pruned} deleted"
