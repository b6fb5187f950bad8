"""The sync worker's entry points: ``Worker`` and ``run_flows``.

A run goes through the flows asked for, in the order that keeps the stock arithmetic
current: orders, fulfilment (followed by the financial postings it unblocks), refunds, and
stock last. Each flow run is recorded (``flow_run``) and reported to the observer; a flow
that fails (an unreadable feed, refused credentials, or a bug) is recorded as failed and the
next flow still runs. ``replay`` sends one record back through check-before-create.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from watchdog.config import IntegrationConfig
from watchdog.connectors.magento import MagentoClient
from watchdog.connectors.stokly import StoklyClient
from watchdog.secret import Secret
from watchdog.store.db import Store
from watchdog.sync.context import FlowContext, Progress, SyncObserver, WorkerOptions, utc_now
from watchdog.sync.errors import FlowAborted
from watchdog.sync.fulfilment import FulfilmentFeed
from watchdog.sync.ledger import Due, Ledger
from watchdog.sync.orders import OrdersFeed
from watchdog.sync.postings import run_postings
from watchdog.sync.redact import Redactor
from watchdog.sync.refunds import RefundsFeed
from watchdog.sync.results import FlowResult, Outcome, SyncSummary, Tally, record_flow_run
from watchdog.sync.runner import FeedRunner
from watchdog.sync.stock import run_stock

__all__ = ["FLOWS", "REPLAYABLE", "Worker", "run_flows"]

log = logging.getLogger(__name__)

FLOWS = ("orders", "fulfilment", "refunds", "stock")  # the order they run in
REPLAYABLE = ("orders", "fulfilment", "postings", "refunds", "stock")


class Worker:
    """The sync worker of one integration. The clients are the caller's to open and close."""

    def __init__(self, integration: IntegrationConfig, store: Store, magento: MagentoClient, stokly: StoklyClient,
                 *, clock: Callable[[], datetime] = utc_now, observer: SyncObserver | None = None,
                 options: WorkerOptions | None = None, progress: Progress | None = None) -> None:
        self.integration = integration
        self.store = store
        self.options = options or WorkerOptions()
        self.observer = observer
        policy = replace(self.options.ledger, max_attempts=integration.sync.max_attempts)  # the config decides
        self.ledger = Ledger(store, integration.name, worker_id=self.options.worker_id, clock=clock, policy=policy)
        self._clients, self._clock, self._progress = (magento, stokly), clock, progress
        self._redactor = Redactor(_secrets(integration))
        self.ctx = self._fresh_context()

    def _fresh_context(self) -> FlowContext:
        """A context with empty caches (item master, sale orders): every run reads Stokly afresh."""
        magento, stokly = self._clients
        return FlowContext(self.integration, magento, stokly, self.ledger, self._clock, self.options,
                           self._redactor, self.observer, self._progress)

    async def run(self, flows: Iterable[str] = FLOWS, *, full_stock: bool | None = None) -> SyncSummary:
        """Run ``flows`` once each (in the canonical order); returns every flow's result.

        Raises ValueError for an unknown flow name. Never raises for a record or a failing flow.
        """
        wanted = set(flows)
        unknown = wanted - set(FLOWS)
        if unknown:
            raise ValueError(f"unknown flow(s) {', '.join(sorted(unknown))}; expected {', '.join(FLOWS)}")
        self.ctx = self._fresh_context()
        results: dict[str, FlowResult] = {}
        for flow in FLOWS:
            if flow in wanted:
                for result in await self._run_flow(flow, full_stock):
                    results[result.flow] = result
        return SyncSummary(self.integration.name, results)

    async def _run_flow(self, flow: str, full_stock: bool | None) -> list[FlowResult]:
        started = self.ctx.now()
        try:
            results = await self._dispatch(flow, full_stock)
        except Exception as exc:  # a bug must not stop the other flows; it is recorded as a failed run
            log.exception("sync flow %s failed", flow)
            results = [FlowResult.of(flow, Tally(), started, self.ctx.now(),
                                     aborted=f"internal error: {type(exc).__name__}: {exc}")]
        for result in results:
            record_flow_run(self.store, self.integration.name, result)
            if self.observer is not None:
                self.observer.flow_ran(self.integration.name, result.flow, result.outcome.value, result.finished_at)
        return results

    async def _dispatch(self, flow: str, full_stock: bool | None) -> list[FlowResult]:
        if flow == "stock":
            return [await run_stock(self.ctx, full=full_stock)]
        shipped = await self._runner(flow).run()
        return [shipped, await run_postings(self.ctx)] if flow == "fulfilment" else [shipped]

    def _runner(self, flow: str) -> FeedRunner[Any]:
        if flow == "orders":
            return FeedRunner(self.ctx, OrdersFeed(self.ctx))
        if flow == "fulfilment":
            return FeedRunner(self.ctx, FulfilmentFeed(self.ctx))
        return FeedRunner(self.ctx, RefundsFeed(self.ctx))

    async def replay(self, flow: str, source_id: str, *, source_ref: str | None = None) -> Outcome | None:
        """Send one record back through check-before-create now, whatever its state.

        ``source_id``: a Magento order entity id (orders), a Stokly dispatch id (fulfilment;
        give ``source_ref``, its sale order id, when the ledger does not know the dispatch), a
        Stokly sale order id (postings) or a Magento credit memo entity id (refunds). For
        ``stock`` a full push runs (every SKU, ``source_id`` included). Returns the outcome,
        or None when another worker holds the record. Raises ValueError for an unknown flow.
        """
        if flow not in REPLAYABLE:
            raise ValueError(f"cannot replay flow {flow!r}; expected one of {', '.join(REPLAYABLE)}")
        self.ctx = self._fresh_context()
        known = self.ledger.replay(flow, source_id)
        if flow == "stock":
            return _outcome_of(await run_stock(self.ctx, full=True))
        if flow == "postings":
            return _outcome_of(await run_postings(self.ctx)) if known else None
        try:
            return await self._runner(flow).retry(Due(flow, source_id, source_ref, "replay"))
        except FlowAborted as exc:  # e.g. the credentials were refused: nothing was decided
            log.error("replay of %s %s stopped: %s", flow, source_id, exc)
            return Outcome.FAILED


def _outcome_of(result: FlowResult) -> Outcome:
    if result.failed:
        return Outcome.FAILED
    if result.dead:
        return Outcome.DEAD
    return Outcome.WRITTEN if result.written else Outcome.SKIPPED


async def run_flows(integration: IntegrationConfig, store: Store, magento: MagentoClient, stokly: StoklyClient,
                    flows: Iterable[str] = FLOWS, *, clock: Callable[[], datetime] = utc_now,
                    observer: SyncObserver | None = None, options: WorkerOptions | None = None,
                    progress: Progress | None = None, full_stock: bool | None = None) -> SyncSummary:
    """Run the sync flows of one integration once; returns per-flow counts (``SyncSummary.counts()``).

    The demo and the scheduler call this. ``observer`` is typically ``watchdog.metrics.Metrics``.
    """
    worker = Worker(integration, store, magento, stokly, clock=clock, observer=observer, options=options,
                    progress=progress)
    return await worker.run(flows, full_stock=full_stock)


def _secrets(integration: IntegrationConfig) -> list[Secret | None]:
    m, s = integration.magento, integration.stokly
    return [m.bearer_token, m.consumer_key, m.consumer_secret, m.access_token, m.access_token_secret,
            s.account_key, s.client_id, s.client_secret]
