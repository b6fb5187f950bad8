"""Stock, Stokly -> Magento: the absolute quantity of integration-patterns.md 5.6, per SKU.

For each SKU listed in Magento (simple and virtual products: the ones MSI keeps stock for)
that Stokly knows, the mapped MSI source gets::

    Stokly available at the designated location
    + quantity of Magento orders Stokly has imported whose Magento shipment does not exist yet

computed by ``watchdog.stockmath``, the same arithmetic the ``stock_divergence`` check
expects (a SKU with no stock record at the location counts as 0 available there).

- Each run pushes only SKUs whose Magento source item differs from that value (quantity or
  status); a full push (``full=True``, or automatically once ``full_stock_every`` has passed
  since the last one) pushes every SKU, correcting edits made by hand in Magento.
- Pushes go in requests of at most 20 source items, or, above ``stock_bulk_threshold``,
  through Magento's asynchronous bulk API with status polling.
- No designated location, or one Stokly does not have: nothing is pushed and the run's
  ``flow_run.note`` says why (the ``unlocated_stock`` and ``stale_stock_push`` checks show it).
- A Magento SKU unknown to Stokly is never pushed; it is recorded in the ledger as ``skipped``
  with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from watchdog.connectors.http import UpstreamError
from watchdog.model import ItemFormat, Order, SaleOrder, SourceItem
from watchdog.stockmath import (
    CLOSED_STATES,
    available_at,
    expected_source_quantities,
    open_imported_quantities,
    unknown_at,
)
from watchdog.sync.context import FlowContext
from watchdog.sync.errors import FlowAborted, is_flow_fatal
from watchdog.sync.ledger import CONFIRMED, SKIPPED
from watchdog.sync.locations import designated_location
from watchdog.sync.results import FlowResult, Outcome, RunOutcome, Tally

__all__ = ["FLOW", "StockPlan", "plan_stock", "run_stock"]

log = logging.getLogger(__name__)
FLOW = "stock"
STOCK_TYPES = frozenset({"simple", "virtual"})
OPEN_STATES = ("new", "pending_payment", "processing", "holded", "payment_review")
PER_REQUEST = 20
OPEN = 4  # bulk operation status: not processed yet
LAST_FULL = "last_full"
UNKNOWN = "not in Stokly's item master: never pushed"


@dataclass(frozen=True)
class StockPlan:
    """What one run pushes: ``push`` (the changed or, on a full push, all items) and the unknown SKUs."""

    push: tuple[SourceItem, ...]
    unchanged: int
    unknown: tuple[str, ...]


def plan_stock(magento_skus: Sequence[str], known: set[str], current: Mapping[str, SourceItem],
               expected: Mapping[str, Decimal], source_code: str, *, full: bool) -> StockPlan:
    """The source items to push. Pure."""
    push, unchanged = [], 0
    for sku in sorted(set(magento_skus) & known):
        quantity = expected[sku]
        item = SourceItem(sku, source_code, quantity, 1 if quantity > 0 else 0)
        now = current.get(sku)
        if full or now is None or now.quantity != item.quantity or now.status != item.status:
            push.append(item)
        else:
            unchanged += 1
    return StockPlan(tuple(push), unchanged, tuple(sorted(set(magento_skus) - known)))


async def run_stock(ctx: FlowContext, *, full: bool | None = None) -> FlowResult:
    """One run of the stock push (``full=None``: full if the last full push is older than the interval)."""
    started, tally = ctx.now(), Tally()
    try:
        designation = await designated_location(ctx.stokly, ctx.integration.stokly)
        if not designation.usable or designation.location_id is None:
            return FlowResult(FLOW, RunOutcome.SKIPPED, started, ctx.now(), note=designation.problem)
        full = _full_due(ctx) if full is None else full
        plan = await _plan(ctx, designation.location_id, full=full)
        _record_unknown(ctx, plan, ctx.integration.magento.source_code, tally)
        tally.add(Outcome.SKIPPED, plan.unchanged)
        await _push(ctx, plan.push, tally)
    except UpstreamError as exc:
        if is_flow_fatal(exc):
            return FlowResult.of(FLOW, tally, started, ctx.now(), aborted=str(exc))
        return FlowResult.of(FLOW, tally, started, ctx.now(), aborted=f"could not read or push stock: {exc}")
    except FlowAborted as exc:
        return FlowResult.of(FLOW, tally, started, ctx.now(), aborted=str(exc))
    if full and not tally.failed:
        ctx.ledger.set_cursor(FLOW, {LAST_FULL: started.isoformat()})
    return FlowResult.of(FLOW, tally, started, ctx.now())


def _full_due(ctx: FlowContext) -> bool:
    position = ctx.ledger.cursor(FLOW) or {}
    last = position.get(LAST_FULL)
    return last is None or ctx.now() - datetime.fromisoformat(str(last)) >= ctx.options.full_stock_every


async def _plan(ctx: FlowContext, location_id: str, *, full: bool) -> StockPlan:
    m, s, source = ctx.magento, ctx.stokly, ctx.integration.magento.source_code
    products, source_items, orders, levels = await asyncio.gather(
        m.products(), m.source_items(source_code=source), m.orders(states=OPEN_STATES),
        s.stock_levels(location_id=location_id))
    skus = [p.sku for p in products if p.type_id in STOCK_TYPES]
    await ctx.items.load(skus)
    unreadable = unknown_at(levels, location_id)  # never pushed as zero: left as they are
    if unreadable:
        log.warning("%s: stock of %d SKUs not pushed: Stokly's allocated quantity could not be read (e.g. %s)",
                    ctx.integration.name, len(unreadable), min(unreadable))
    known = {sku for sku in skus if (item := ctx.items.get(sku)) is not None
             and item.format is not ItemFormat.VARIABLE and sku not in unreadable}
    sale_orders = await _imported(ctx, orders)
    expected = expected_source_quantities(known, available_at(levels, location_id),
                                          open_imported_quantities(orders, sale_orders))
    current = {si.sku: si for si in source_items if si.source_code == source}
    return plan_stock([sku for sku in skus if sku not in unreadable], known, current, expected, source, full=full)


async def _imported(ctx: FlowContext, orders: Sequence[Order]) -> list[SaleOrder]:
    """The Stokly sale orders of the open Magento orders (read by order number, 200 per request)."""
    numbers = [o.increment_id for o in orders if o.state not in CLOSED_STATES]
    if not numbers:
        return []
    channel = ctx.integration.stokly.channel_id
    return [so for so in await ctx.stokly.sale_orders(source_reference_ids=numbers) if so.source_id in (channel, None)]


def _record_unknown(ctx: FlowContext, plan: StockPlan, source_code: str, tally: Tally) -> None:
    """Record SKUs Stokly does not know (once), and clear the record of SKUs it has come to know."""
    recorded = {sku: state for sku, (state, _) in ctx.ledger.values(FLOW).items()}
    unknown = set(plan.unknown)
    rows: dict[str, tuple[str, str | None, str | None]] = {
        sku: (SKIPPED, None, f"Magento SKU {sku!r} is {UNKNOWN}") for sku in unknown if recorded.get(sku) != SKIPPED}
    rows.update({sku: (CONFIRMED, source_code, None) for sku, state in recorded.items()
                 if state == SKIPPED and sku not in unknown})
    if rows:
        ctx.ledger.record_values(FLOW, rows)
    tally.add(Outcome.SKIPPED, len(unknown))


async def _push(ctx: FlowContext, items: Sequence[SourceItem], tally: Tally) -> None:
    threshold = ctx.options.stock_bulk_threshold
    if threshold and len(items) > threshold:
        failed = await _push_bulk(ctx, items)
    else:
        chunks = [items[i:i + PER_REQUEST] for i in range(0, len(items), PER_REQUEST)]
        results = await asyncio.gather(*(ctx.magento.save_source_items(c) for c in chunks), return_exceptions=True)
        failed = set()
        for chunk, result in zip(chunks, results, strict=True):
            if isinstance(result, UpstreamError):
                if is_flow_fatal(result):
                    raise result
                log.warning("stock push of %d SKU(s) failed: %s", len(chunk), result)
                failed.update(i.sku for i in chunk)
            elif isinstance(result, BaseException):
                raise result
    pushed = {i.sku: (CONFIRMED, i.source_code, _value_hash(i)) for i in items if i.sku not in failed}
    if pushed:
        ctx.ledger.record_values(FLOW, pushed)
    for _ in pushed:
        ctx.record(FLOW, "confirmed")
    tally.add(Outcome.WRITTEN, len(pushed))
    tally.add(Outcome.FAILED, len(failed))


async def _push_bulk(ctx: FlowContext, items: Sequence[SourceItem]) -> set[str]:
    """Queue the push on the async bulk API and poll it; returns the SKUs whose operation failed."""
    bulk_uuid = await ctx.magento.save_source_items_bulk(items)
    deadline = ctx.now() + ctx.options.bulk_timeout
    while True:
        status = await ctx.magento.bulk_status(bulk_uuid)
        if len(status.operations) == status.operation_count and all(o.status != OPEN for o in status.operations):
            break
        if ctx.now() >= deadline:
            log.warning("bulk stock push %s still open after %s", bulk_uuid, ctx.options.bulk_timeout)
            return {i.sku for i in items}
        await asyncio.sleep(ctx.options.bulk_poll.total_seconds())
    failed: set[str] = set()
    bad = {o.id for o in status.failed}
    # operations are listed in the order of the request bodies (ids ascending), PER_REQUEST items each
    for index, operation in enumerate(sorted(status.operations, key=lambda o: o.id)):
        if operation.id in bad:
            failed.update(i.sku for i in items[index * PER_REQUEST:(index + 1) * PER_REQUEST])
    return failed


def _value_hash(item: SourceItem) -> str:
    return hashlib.sha256(f"{item.source_code}|{item.quantity.normalize()}|{item.status}".encode()).hexdigest()

