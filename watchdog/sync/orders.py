"""Orders, Magento -> Stokly: every importable order becomes exactly one Stokly sale order.

Read by keyset cursor on (``updated_at``, ``entity_id``) with the overlap and settle delay
of the integration's sync settings, filtered on the importable states. For each order:

1. claim it in the ledger (unique per integration + Magento ``entity_id``) before any call;
2. check Stokly by ``sourceReferenceId`` (the Magento order number) on the Magento channel:
   an order already there is adopted, never created again; a sale order id recorded by an
   earlier attempt is only ever read back;
3. validate every line against the Stokly item master (``order_mapping``): an unknown or
   dynamic-bundle SKU, a non-positive quantity, a malformed order quarantine the whole order;
4. resolve the customer (its own ledger flow, ``customers``: exactly one Stokly customer per
   Magento customer id or guest e-mail);
5. create the sale order (Stokly allocates it at the channel's designated location; the
   ``unlocated_stock`` check watches for orders left unallocated) and record its id at once.

The Stokly look-ups of step 2 and 3 are made for a batch of just-claimed orders at a time
(a request per batch, not per order); a record retried on its own checks on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from watchdog.connectors.http import MalformedResponse, UpstreamError
from watchdog.connectors.magento import ChangeFeed, SearchFilter
from watchdog.connectors.magento_parse import parse_order
from watchdog.model import Order, SaleOrder
from watchdog.sync.context import FlowContext
from watchdog.sync.errors import Quarantine, Retry, Waiting
from watchdog.sync.ledger import CONFIRMED, Due
from watchdog.sync.order_mapping import (
    MalformedOrder,
    customer_draft,
    customer_key,
    order_draft,
    order_problems,
    sold_lines,
)
from watchdog.sync.runner import Attempt, Done, Key, settle_record

__all__ = ["CUSTOMERS", "FLOW", "OrdersFeed", "find_sale_order"]

FLOW = "orders"
CUSTOMERS = "customers"
FINISHED_STATES = frozenset({"canceled", "closed"})
OrderRecord = Order | MalformedOrder


def _parse_or_malformed(raw: Any, route: str) -> OrderRecord:
    """The order, or a ``MalformedOrder`` carrying the parser's reason (the feed goes on).

    Raises MalformedResponse only when not even the order's identity can be read.
    """
    try:
        return parse_order(raw, route)
    except MalformedResponse as exc:
        try:
            entity_id = int(raw["entity_id"])
            updated = datetime.fromisoformat(str(raw["updated_at"]).replace(" ", "T"))
        except (KeyError, TypeError, ValueError):
            raise exc from None
        updated = updated.replace(tzinfo=UTC) if updated.tzinfo is None else updated.astimezone(UTC)
        return MalformedOrder(entity_id, str(raw.get("increment_id") or entity_id), updated, exc.message)


ORDER_FEED: ChangeFeed[OrderRecord] = ChangeFeed("/orders", _parse_or_malformed)


def _ours(ctx: FlowContext, sale_orders: Sequence[SaleOrder]) -> list[SaleOrder]:
    channel = ctx.integration.stokly.channel_id
    return [so for so in sale_orders if so.source_id in (channel, None) and so.source_reference_id]


async def find_sale_order(ctx: FlowContext, increment_id: str) -> SaleOrder | None:
    """The Magento channel's sale order for this Magento order number (oldest first), or None."""
    found = await ctx.stokly.sale_orders(source_reference_ids=[increment_id])
    ours = [so for so in _ours(ctx, found) if so.source_reference_id == increment_id]
    return min(ours, key=lambda so: so.nice_id) if ours else None


class OrdersFeed:
    """The orders flow as a ``Feed`` for the ``FeedRunner``."""

    flow = FLOW

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self.states = tuple(ctx.integration.sync.import_states)
        self._customer_locks: dict[str, asyncio.Lock] = {}
        self._in_stokly: dict[str, SaleOrder | None] = {}  # claimed orders, checked in one request

    async def read(self, since: datetime, until: datetime) -> AsyncIterator[Sequence[OrderRecord]]:
        chunk: list[OrderRecord] = []
        states = [SearchFilter("state", ",".join(self.states), "in")]
        async for order in self.ctx.magento.iter_changed(ORDER_FEED, since, until, filters=states):
            chunk.append(order)
            if len(chunk) >= self.ctx.options.chunk:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    async def prepare(self, records: Sequence[OrderRecord]) -> None:
        """The claimed orders' SKUs from the item master, and their Stokly orders: a request per 200."""
        orders = [o for o in records if isinstance(o, Order)]
        await self.ctx.items.load(ln.sku for o in orders for ln in sold_lines(o))
        numbers = [o.increment_id for o in orders]
        found = await self.ctx.stokly.sale_orders(source_reference_ids=numbers) if numbers else []
        self._in_stokly = dict.fromkeys(numbers)  # this batch only: each look-up serves one claim
        for so in sorted(_ours(self.ctx, found), key=lambda so: -so.nice_id):  # the oldest wins
            self._in_stokly[so.source_reference_id or ""] = so

    def key(self, record: OrderRecord) -> Key:
        source_time = record.created_at if isinstance(record, Order) else record.updated_at
        wanted = isinstance(record, MalformedOrder) or record.state in self.states
        return Key(str(record.entity_id), group=str(record.entity_id), source_time=source_time,
                   position={"time": record.updated_at.isoformat(), "id": record.entity_id}, wanted=wanted)

    async def refetch(self, due: Due) -> OrderRecord | None:
        try:
            return await self.ctx.magento.order(int(due.source_id))
        except MalformedResponse as exc:
            return MalformedOrder(int(due.source_id), due.source_id, self.ctx.now(), exc.message)
        except UpstreamError as exc:
            if exc.status == 404:
                return None
            raise

    async def process(self, record: OrderRecord, attempt: Attempt) -> Done:
        if isinstance(record, MalformedOrder):
            raise Quarantine(f"Magento order {record.increment_id} cannot be read: {record.reason}")
        existing = await self._existing(record, attempt)
        if existing is not None:
            return Done(existing.sale_order_id, wrote=False)
        if record.state in FINISHED_STATES:
            return Done(None, wrote=False)  # cancelled or closed before it was imported: nothing to fulfil
        if record.state not in self.states:
            raise Waiting(f"order {record.increment_id} is {record.state}; it is imported once it is "
                          f"{' or '.join(self.states)}")
        return await self._create(record, attempt)

    async def _existing(self, order: Order, attempt: Attempt) -> SaleOrder | None:
        """Check-before-create (prepared for the claimed batch, or asked now). A sale order id recorded
        by an earlier attempt is only ever read back, never created again."""
        if attempt.claim.target_id is None and order.increment_id in self._in_stokly:
            return self._in_stokly.pop(order.increment_id)
        if attempt.claim.target_id is not None:
            try:
                return await self.ctx.stokly.sale_order(attempt.claim.target_id, with_lines=False)
            except UpstreamError as exc:
                if exc.status == 404:
                    raise Retry(f"sale order {attempt.claim.target_id} was created but Stokly does not show it "
                                "yet") from exc
                raise
        return await find_sale_order(self.ctx, order.increment_id)

    async def _create(self, order: Order, attempt: Attempt) -> Done:
        await self.ctx.items.load(line.sku for line in sold_lines(order))
        items = {line.sku: self.ctx.items.get(line.sku) for line in sold_lines(order)}
        problems = order_problems(order, items)
        if problems:
            raise Quarantine(f"order {order.increment_id} not imported: " + "; ".join(problems))
        customer_id = await self._customer(order)
        draft = order_draft(order, items, channel_id=self.ctx.integration.stokly.channel_id, customer_id=customer_id)
        attempt.sending("POST /v2/saleorders", draft.body())
        return Done(await self.ctx.stokly.create_sale_order(draft))  # Stokly answered with the new order's id

    # ------------------------------------------------------------------ customers

    async def _customer(self, order: Order) -> str:
        """The Stokly customer id of the buyer, created exactly once (ledger flow ``customers``)."""
        key = customer_key(order)
        lock = self._customer_locks.setdefault(key.barcode, asyncio.Lock())
        async with lock:
            entry = self.ctx.ledger.entry(CUSTOMERS, key.barcode)
            if entry is not None and entry[0] == CONFIRMED and entry[1]:
                return entry[1]
            claim = self.ctx.ledger.claim(CUSTOMERS, key.barcode)
            if claim is None:
                raise Waiting(f"the Stokly customer {key.barcode} is held by another worker or waits for a retry")

            async def step(attempt: Attempt) -> Done:
                if attempt.claim.target_id is not None:
                    return Done(attempt.claim.target_id, wrote=False)
                found = await self.ctx.stokly.customer_by_barcode(key.barcode)
                if found is not None:
                    return Done(found.customer_id, wrote=False)
                draft = customer_draft(order, key)
                attempt.sending("POST /v0/customers", draft.body())
                return Done(await self.ctx.stokly.create_customer(draft))

            await settle_record(self.ctx, claim, step)
            entry = self.ctx.ledger.entry(CUSTOMERS, key.barcode)
        if entry is None or entry[0] != CONFIRMED or not entry[1]:
            raise Retry(f"the Stokly customer {key.barcode} could not be found or created yet")
        return entry[1]
