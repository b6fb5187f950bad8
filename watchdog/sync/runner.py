"""The machinery every record-by-record flow shares.

``settle_record`` runs one flow step for one claimed record and turns whatever happens into a
ledger outcome: a flow step returns ``Done`` or raises; nothing it raises (except
``FlowAborted`` and cancellation) escapes, so one bad record never stops the loop.

``FeedRunner`` drives a flow that reads a changed-since feed:

1. **Retries first**: every ledger row that is due (failed, or its holder's lease expired)
   is re-read from the source by id and processed again, whatever the cursor says:
   a failure is never held back, nor lost, by the advancing watermark.
2. **Then the feed** from ``cursor - overlap`` to ``now - settle``, in chunks. Records
   already settled are skipped without a claim; the others are claimed in small batches
   (one transaction each; few records are left locked when a worker dies), their targets
   looked up in one batched request per batch (after the claims, so the look-up is as good as
   each record's own check-before-create), and processed: records of one group (an order)
   one after another, groups concurrently. The cursor moves past a
   chunk only once every record of it has a ledger row (or was not wanted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from watchdog.connectors.http import UpstreamError
from watchdog.sync.context import FlowContext
from watchdog.sync.errors import ErrorClass, FlowAborted, Quarantine, RecordError, classify, is_flow_fatal
from watchdog.sync.ledger import CONFIRMED, DEAD, QUARANTINED, SKIPPED, Claim, ClaimRequest, Due
from watchdog.sync.results import FlowResult, Outcome, Tally

__all__ = ["Attempt", "Done", "Feed", "FeedRunner", "Key", "in_groups", "settle_record"]

log = logging.getLogger(__name__)
S = TypeVar("S")
T = TypeVar("T")
SETTLED = frozenset({CONFIRMED, DEAD, QUARANTINED, SKIPPED})


@dataclass(frozen=True)
class Done:
    """A flow step succeeded. ``wrote``: this attempt wrote to the target (else it was already there)."""

    target_id: str | None
    wrote: bool = True


@dataclass(frozen=True)
class Key:
    """How the runner files a source record in the ledger."""

    source_id: str
    group: str
    source_ref: str | None = None
    source_time: datetime | None = None
    position: Mapping[str, Any] | None = None  # the cursor position just past this record
    wanted: bool = True  # False: the flow passes over it (e.g. an order state not imported)


class Attempt:
    """One attempt at one claimed record: remembers the last request for the dead letter."""

    def __init__(self, ctx: FlowContext, claim: Claim) -> None:
        self.ctx = ctx
        self.claim = claim
        self.request: dict[str, Any] | None = None

    def sending(self, route: str, body: Any = None) -> None:
        """Note the request about to be sent (kept, redacted, if the attempt fails)."""
        self.request = {"route": route, "body": body}

    def written(self, target_id: str) -> None:
        """The write landed: record the target id immediately, before anything else can fail."""
        self.ctx.ledger.written(self.claim, target_id)
        self.claim = replace(self.claim, target_id=target_id)

    def save_plan(self, plan: Mapping[str, Any]) -> None:
        """Persist what is about to be written, so a retry after a crash repeats the same plan."""
        self.claim = self.ctx.ledger.save_plan(self.claim, plan)


Step = Callable[[Attempt], Awaitable[Done]]


async def settle_record(ctx: FlowContext, claim: Claim, step: Step) -> Outcome:
    """Run ``step`` for ``claim`` and record its outcome. Raises only FlowAborted (or cancellation)."""
    attempt = Attempt(ctx, claim)
    try:
        done = await step(attempt)
    except FlowAborted:
        raise
    except UpstreamError as exc:
        if is_flow_fatal(exc):
            raise FlowAborted(str(exc)) from exc
        response = {"status": exc.status, "body": exc.body}
        return _failed(ctx, attempt, classify(exc), str(exc), response, quarantine=False)
    except RecordError as exc:
        return _failed(ctx, attempt, exc.error_class, exc.reason, exc.response, isinstance(exc, Quarantine),
                       exc.target_id)
    except Exception as exc:  # a bug in one record must not stop the others; it is retried, then dead
        log.exception("%s %s: unexpected error", claim.flow, claim.source_id)
        return _failed(ctx, attempt, ErrorClass.TRANSIENT, f"internal error: {type(exc).__name__}: {exc}", None,
                       quarantine=False)
    return _succeeded(ctx, attempt, done)


def _succeeded(ctx: FlowContext, attempt: Attempt, done: Done) -> Outcome:
    claim = attempt.claim
    lag = ctx.ledger.confirmed(claim, done.target_id)
    outcome = Outcome.WRITTEN if done.wrote else Outcome.SKIPPED
    ctx.record(claim.flow, "confirmed" if done.wrote else outcome.value, lag if done.wrote else None)
    return outcome


def _failed(ctx: FlowContext, attempt: Attempt, error_class: ErrorClass, reason: str, response: Any,
            quarantine: bool, target_id: str | None = None) -> Outcome:
    exchange = {"request": ctx.redactor(attempt.request), "response": ctx.redactor(response),
                "error_class": error_class.value}
    state = ctx.ledger.failed(attempt.claim, error_class, ctx.redactor.text(reason), quarantine=quarantine,
                              exchange=exchange, target_id=target_id)
    log.info("%s %s: %s (%s) -> %s", attempt.claim.flow, attempt.claim.source_id, reason, error_class.value, state)
    outcome = {DEAD: Outcome.DEAD, QUARANTINED: Outcome.QUARANTINED}.get(state, Outcome.FAILED)
    ctx.record(attempt.claim.flow, outcome.value)
    return outcome


async def in_groups(items: Sequence[T], group: Callable[[T], str], work: Callable[[T], Awaitable[None]],
                    limit: int) -> None:
    """Run ``work`` on every item: groups concurrently (at most ``limit`` at once), a group's items in turn."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(group(item), []).append(item)
    gate = asyncio.Semaphore(max(1, limit))

    async def run(members: list[T]) -> None:
        async with gate:
            for member in members:
                await work(member)

    try:
        async with asyncio.TaskGroup() as tasks:
            for members in groups.values():
                tasks.create_task(run(members))
    except BaseExceptionGroup as failed:  # work raises only FlowAborted (or cancellation): pass it on as is
        raise failed.exceptions[0] from None


class Feed(Protocol, Generic[S]):
    """A flow that reads a changed-since feed (orders, dispatches, credit memos)."""

    flow: str

    def read(self, since: datetime, until: datetime) -> AsyncIterator[Sequence[S]]:
        """Source records changed in [since, until], in cursor order, in chunks. Raises UpstreamError."""
        ...

    def key(self, record: S) -> Key:
        """How to file ``record`` (``wanted=False`` when the flow passes over it)."""
        ...

    async def refetch(self, due: Due) -> S | None:
        """The source record of a due ledger row, read again; None if it no longer exists."""
        ...

    async def prepare(self, records: Sequence[S]) -> None:
        """Batch the target look-ups of records just claimed (check-before-create in a few requests).

        Called after the claims, so what it reads is as good as a check made by each record;
        ``process`` falls back to its own check for anything not prepared. Raises UpstreamError.
        """
        ...

    async def process(self, record: S, attempt: Attempt) -> Done:
        """Check the target, write if needed. Raises RecordError or UpstreamError."""
        ...


Held = tuple[S, Claim, str]  # a claimed record, its claim, its group


class FeedRunner(Generic[S]):
    """Runs a ``Feed``: due retries, then new records from the cursor (see the module docstring)."""

    def __init__(self, ctx: FlowContext, feed: Feed[S]) -> None:
        self.ctx = ctx
        self.feed = feed
        self.tally = Tally()

    async def run(self) -> FlowResult:
        """One run of the flow; never raises for a record (FlowAborted ends it as failed)."""
        started, aborted = self.ctx.now(), None
        try:
            await self._retries()
            await self._new_records()
        except FlowAborted as exc:
            aborted = str(exc)
        except UpstreamError as exc:
            aborted = f"could not read the feed: {exc}"
        finally:
            if self.ctx.progress is not None:
                self.ctx.progress.finish(self.feed.flow)
        return FlowResult.of(self.feed.flow, self.tally, started, self.ctx.now(), aborted=aborted)

    async def _retries(self) -> None:
        due, size = self.ctx.ledger.due(self.feed.flow), self.ctx.options.claim_batch
        for start in range(0, len(due), size):
            for outcome in await self.retry_many(due[start:start + size]):
                self.tally.add(outcome)

    async def retry(self, due: Due) -> Outcome | None:
        """Claim one record by id, read it again from the source and process it (None: held elsewhere)."""
        outcomes = await self.retry_many([due])
        return outcomes[0] if outcomes else None

    async def retry_many(self, due: Sequence[Due]) -> list[Outcome]:
        """Claim these records, read them again from the source, and process the ones now held."""
        flow = self.feed.flow
        claims = self.ctx.ledger.claim_many(flow, [ClaimRequest(d.source_id, d.source_ref) for d in due])
        held = [(d, claims[d.source_id]) for d in due if d.source_id in claims]
        again = [Due(d.flow, d.source_id, d.source_ref or c.source_ref, d.state) for d, c in held]
        fetched = await asyncio.gather(*(self.feed.refetch(d) for d in again), return_exceptions=True)
        outcomes: list[Outcome] = []

        async def settle(item: tuple[Due, Claim, S | BaseException | None]) -> None:
            d, claim, record = item
            outcomes.append(await settle_record(self.ctx, claim, partial(self._refetched, d, record)))

        work = [(d, c, r) for d, (_, c), r in zip(again, held, fetched, strict=True)]
        async with self._released_if_stopped([d.source_id for d, _ in held]):
            await self._prepare([r for r in fetched if r is not None and not isinstance(r, BaseException)])
            await in_groups(work, lambda w: w[0].source_ref or w[0].source_id, settle, self.ctx.options.concurrency)
        return outcomes

    @asynccontextmanager
    async def _released_if_stopped(self, source_ids: Sequence[str]) -> AsyncIterator[None]:
        """On FlowAborted, give back the batch's claims not yet settled (so the next run takes them)."""
        try:
            yield
        except FlowAborted as exc:
            self.ctx.ledger.release(self.feed.flow, source_ids, f"the run stopped: {exc}")
            raise

    async def _refetched(self, due: Due, record: S | BaseException | None, attempt: Attempt) -> Done:
        if isinstance(record, BaseException):
            raise record
        if record is None:
            raise Quarantine(f"the source record {due.source_id} no longer exists")
        return await self.feed.process(record, attempt)

    async def _prepare(self, records: Sequence[S]) -> None:
        """Batch look-ups for claimed records; if they fail, each record checks on its own."""
        if not records:
            return
        try:
            await self.feed.prepare(records)
        except UpstreamError as exc:
            if is_flow_fatal(exc):
                raise FlowAborted(str(exc)) from exc
            log.info("%s: batched look-up failed (%s); records check one by one", self.feed.flow, exc)

    async def _new_records(self) -> None:
        flow, options = self.feed.flow, self.ctx.options
        sync = self.ctx.integration.sync
        until = self.ctx.now() - sync.settle
        position = self.ctx.ledger.cursor(flow)
        since = _position_time(position) - sync.overlap if position else until - options.initial_lookback
        async for chunk in self.feed.read(since, until):
            keyed = [(record, self.feed.key(record)) for record in chunk]
            wanted = [(r, k) for r, k in keyed if k.wanted]
            states = self.ctx.ledger.states(flow, [k.source_id for _, k in wanted])
            self.tally.add(Outcome.SKIPPED, sum(1 for _, k in wanted if states.get(k.source_id) in SETTLED))
            fresh = [(r, k) for r, k in wanted if states.get(k.source_id) not in SETTLED]
            for start in range(0, len(fresh), options.claim_batch):
                await self._claim_and_process(fresh[start:start + options.claim_batch])
            positions = [k.position for _, k in keyed if k.position is not None]
            if positions:
                position = _later(position, max(positions, key=_order))
                self.ctx.ledger.set_cursor(flow, position)
            if self.ctx.progress is not None:
                self.ctx.progress.update(flow, self.tally.seen)

    async def _claim_and_process(self, batch: Sequence[tuple[S, Key]]) -> None:
        """Claim a batch (one transaction), prepare its look-ups, process what this worker holds."""
        requests = [ClaimRequest(k.source_id, k.source_ref, k.source_time) for _, k in batch]
        claims = self.ctx.ledger.claim_many(self.feed.flow, requests)
        held: list[Held[S]] = [(r, claims[k.source_id], k.group) for r, k in batch if k.source_id in claims]
        async with self._released_if_stopped([c.source_id for _, c, _ in held]):
            await self._prepare([r for r, _, _ in held])
            await in_groups(held, lambda one: one[2], self._fresh, self.ctx.options.concurrency)

    async def _fresh(self, held: Held[S]) -> None:
        record, claim, _ = held
        self.tally.add(await settle_record(self.ctx, claim, lambda attempt: self.feed.process(record, attempt)))


def _position_time(position: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(position["time"]))


def _later(current: Mapping[str, Any] | None, candidate: Mapping[str, Any]) -> dict[str, Any]:
    """The later of two cursor positions (a cursor never moves back)."""
    if current is None or _order(candidate) > _order(current):
        return dict(candidate)
    return dict(current)


def _order(position: Mapping[str, Any]) -> tuple[datetime, str]:
    return _position_time(position), str(position.get("id", "")).zfill(20)
