"""Fulfilment, Stokly -> Magento: each Stokly dispatch becomes one Magento shipment (with its tracking, if any).

Read by cursor on the dispatch time (with overlap and settle). For each dispatch of a
Magento-channel sale order (claimed in the ledger by dispatch id, grouped per sale order so
an order's dispatches go one after another):

1. read the Magento order's shipments: one carrying our tracking number (or, for a dispatch
   without tracking such as a collection or a letter, our comment naming the dispatch) means
   done (a crash or timeout after an earlier ``ship`` is resolved here, never by shipping again);
2. plan the items (``shipment_plan``): parent item ids for configurables and bundles,
   capped at the quantity left to ship;
3. ``POST /V1/order/{id}/ship`` with ``source_code``, the track, and the customer notified.
   On a timeout or the ambiguous 400 ("does not allow a shipment", "without products"),
   read the shipments back at once: our tracking there means done; otherwise a timed-out
   write is re-checked after the ambiguous delay, never re-sent blindly;
4. nothing left to ship while a shipment without our tracking exists means it was made by
   hand: a rejected tracking update, quarantined with that Magento shipment's id, or, with
   ``attach_tracking_to_existing_shipment``, our track is added to it
   (``POST /V1/shipment/track``).

A confirmed dispatch nudges the order's financial posting (``postings``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.magento import is_already_shipped
from watchdog.model import Dispatch, Order, SaleOrder, Shipment
from watchdog.sync.context import FlowContext
from watchdog.sync.errors import NeedsPerson, Quarantine, Waiting
from watchdog.sync.ledger import Due
from watchdog.sync.orders import FLOW as ORDERS
from watchdog.sync.runner import Attempt, Done, Key
from watchdog.sync.shipment_plan import (
    carries_any,
    dispatched_skus,
    plan_shipment,
    ship_request,
    shipment_of,
    track_for,
)

__all__ = ["FLOW", "FulfilmentFeed", "magento_order_id"]

log = logging.getLogger(__name__)
FLOW = "fulfilment"
POSTINGS = "postings"


async def magento_order_id(ctx: FlowContext, sale_order: SaleOrder) -> int:
    """The Magento entity id of a sale order: from the orders ledger, else by order number.

    Raises Waiting (no such Magento order yet) or NeedsPerson (the number is not unique).
    """
    known = ctx.ledger.source_of(ORDERS, sale_order.sale_order_id)
    if known is not None:
        return int(known)
    number = sale_order.source_reference_id or ""
    found = await ctx.magento.orders(increment_ids=[number]) if number else []
    if len(found) > 1:
        raise NeedsPerson(f"Magento order number {number} is not unique ({len(found)} orders)")
    if not found:
        raise Waiting(f"no Magento order {number!r} for Stokly sale order #{sale_order.nice_id}")
    return found[0].entity_id


class FulfilmentFeed:
    """The fulfilment flow as a ``Feed`` for the ``FeedRunner``."""

    flow = FLOW

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._sale_orders: dict[str, SaleOrder | None] = {}
        self._magento: dict[str, tuple[Order, list[Shipment]]] = {}  # sale order id -> prepared look-up

    async def read(self, since: datetime, until: datetime) -> AsyncIterator[Sequence[Dispatch]]:
        dispatches = [d for d in await self.ctx.stokly.dispatches(since=since) if d.dispatched_at <= until]
        dispatches.sort(key=lambda d: (d.dispatched_at, d.dispatch_id))
        size = self.ctx.options.chunk
        for start in range(0, len(dispatches), size):
            chunk = dispatches[start:start + size]
            await self._sale_orders_of(chunk)  # which dispatches are the Magento channel's
            yield chunk

    async def _sale_orders_of(self, dispatches: Sequence[Dispatch]) -> list[SaleOrder]:
        wanted = sorted({d.sale_order_id for d in dispatches if d.status == "dispatched"})
        return [so for so in await asyncio.gather(*(self._ours(i) for i in wanted)) if so is not None]

    async def prepare(self, records: Sequence[Dispatch]) -> None:
        """The claimed dispatches' Magento orders and shipments, in a few batched requests."""
        ours = await self._sale_orders_of(records)
        numbers = sorted({so.source_reference_id for so in ours if so.source_reference_id})
        orders = await self.ctx.magento.orders(increment_ids=numbers) if numbers else []
        by_number: dict[str, list[Order]] = {}
        for order in orders:
            by_number.setdefault(order.increment_id, []).append(order)
        ids = {o.entity_id for o in orders}
        shipments = await self.ctx.magento.shipments(order_ids=sorted(ids)) if ids else []
        self._magento = {}  # this batch only: serves the first dispatch of each order
        for so in ours:
            known = self.ctx.ledger.source_of(ORDERS, so.sale_order_id)
            found = [o for o in by_number.get(so.source_reference_id or "", [])
                     if known is None or str(o.entity_id) == known]
            if len(found) == 1:
                self._magento[so.sale_order_id] = (found[0], [x for x in shipments if x.order_id == found[0].entity_id])

    async def _ours(self, sale_order_id: str) -> SaleOrder | None:
        """The sale order (with lines) if it belongs to the Magento channel, else None (cached per run)."""
        if sale_order_id not in self._sale_orders:
            try:
                order: SaleOrder | None = await self.ctx.sale_orders.get(sale_order_id)
            except UpstreamError as exc:
                if exc.status != 404:
                    raise
                order = None
            channel = self.ctx.integration.stokly.channel_id
            mine = order is not None and (order.source_id == channel or
                                          self.ctx.ledger.source_of(ORDERS, sale_order_id) is not None)
            self._sale_orders[sale_order_id] = order if mine else None
        return self._sale_orders[sale_order_id]

    def key(self, record: Dispatch) -> Key:
        wanted = record.status == "dispatched" and self._sale_orders.get(record.sale_order_id) is not None
        return Key(record.dispatch_id, group=record.sale_order_id, source_ref=record.sale_order_id,
                   source_time=record.dispatched_at,
                   position={"time": record.dispatched_at.isoformat(), "id": record.dispatch_id}, wanted=wanted)

    async def refetch(self, due: Due) -> Dispatch | None:
        if due.source_ref is None:
            return None
        found = await self.ctx.stokly.dispatches(sale_order_id=due.source_ref)
        return next((d for d in found if d.dispatch_id == due.source_id), None)

    async def process(self, record: Dispatch, attempt: Attempt) -> Done:
        sale_order = await self._ours(record.sale_order_id)
        if sale_order is None:
            raise Quarantine(f"Stokly dispatch #{record.nice_id} belongs to a sale order of another channel")
        order, shipments = await self._magento_side(sale_order)
        done = self._already(shipments, record)
        if done is not None:
            return done
        return await self._ship(order, sale_order, shipments, record, attempt)

    async def _magento_side(self, sale_order: SaleOrder) -> tuple[Order, list[Shipment]]:
        """The Magento order and its shipments: as prepared for the first dispatch of the order in the
        chunk, read again for any later one (the earlier dispatch changed them)."""
        read = self._magento.pop(sale_order.sale_order_id, None)
        if read is not None:
            return read
        order_id = await magento_order_id(self.ctx, sale_order)
        return await self.ctx.magento.order(order_id), await self.ctx.magento.shipments(order_id=order_id)

    def _already(self, shipments: Sequence[Shipment], dispatch: Dispatch) -> Done | None:
        """Check-before-create: a shipment carrying our tracking number (or comment) means this dispatch is done."""
        ours = shipment_of(shipments, dispatch)
        if ours is None:
            return None
        self.ctx.ledger.nudge(POSTINGS, dispatch.sale_order_id)
        return Done(str(ours.entity_id), wrote=False)

    async def _ship(self, order: Order, sale_order: SaleOrder, shipments: Sequence[Shipment], dispatch: Dispatch,
                    attempt: Attempt) -> Done:
        try:
            units = dispatched_skus(dispatch, sale_order)
        except KeyError as exc:
            raise Quarantine(f"Stokly dispatch #{dispatch.nice_id} names line {exc} that sale order "
                             f"#{sale_order.nice_id} does not have") from None
        plan = plan_shipment(order, units)
        if plan.missing:
            raise Quarantine(f"Stokly dispatch #{dispatch.nice_id} ships SKU(s) {', '.join(plan.missing)} that "
                             f"Magento order {order.increment_id} does not have")
        if not plan.items:
            return await self._nothing_left(order, shipments, dispatch, attempt)
        if plan.short:
            log.warning("dispatch %s: Magento order %s has no room left for %s", dispatch.dispatch_id,
                        order.increment_id, dict(plan.short))
        request = ship_request(plan, dispatch, self.ctx.integration.magento.source_code)
        attempt.sending("POST /V1/order/{orderId}/ship", {
            "order_id": order.entity_id, "items": [[i.order_item_id, str(i.qty)] for i in request.items],
            "tracks": [t.track_number for t in request.tracks], "source_code": request.source_code})
        try:
            shipment_id = await self.ctx.magento.ship(order.entity_id, request)
        except UpstreamError as exc:
            return await self._after_failed_ship(exc, order, dispatch, attempt)
        self.ctx.ledger.nudge(POSTINGS, dispatch.sale_order_id)
        return Done(str(shipment_id))  # Magento saved the shipment and its track in one transaction

    async def _after_failed_ship(self, exc: UpstreamError, order: Order, dispatch: Dispatch,
                                 attempt: Attempt) -> Done:
        """The ambiguous 400 or a timeout: read the shipments back before anything else."""
        if not (is_already_shipped(exc) or exc.kind is ErrorKind.AMBIGUOUS):
            raise exc
        shipments = await self.ctx.magento.shipments(order_id=order.entity_id)
        ours = shipment_of(shipments, dispatch)
        if ours is not None:
            self.ctx.ledger.nudge(POSTINGS, dispatch.sale_order_id)
            return Done(str(ours.entity_id))
        if is_already_shipped(exc):
            fresh = await self.ctx.magento.order(order.entity_id)
            return await self._nothing_left(fresh, shipments, dispatch, attempt)
        raise exc  # a timed-out write may still land: re-checked after the ambiguous delay

    async def _nothing_left(self, order: Order, shipments: Sequence[Shipment], dispatch: Dispatch,
                            attempt: Attempt) -> Done:
        """Magento has nothing left to ship for this dispatch: a hand-made shipment, or a refund."""
        numbers = [d.tracking_number for d in await self.ctx.stokly.dispatches(sale_order_id=dispatch.sale_order_id)]
        manual = [s for s in shipments if not carries_any(s, numbers)]
        if not manual:
            raise Quarantine(f"Magento order {order.increment_id} has nothing left to ship for Stokly dispatch "
                             f"#{dispatch.nice_id} (refunded or cancelled in Magento)")
        shipment = manual[-1]
        if not dispatch.tracking_number.strip():  # shipped by hand already, and there is no tracking to add
            log.info("dispatch %s (no tracking): Magento order %s was shipped by hand (shipment %s)",
                     dispatch.dispatch_id, order.increment_id, shipment.entity_id)
            self.ctx.ledger.nudge(POSTINGS, dispatch.sale_order_id)
            return Done(str(shipment.entity_id), wrote=False)
        if not self.ctx.integration.sync.attach_tracking_to_existing_shipment:
            raise Quarantine(
                f"rejected tracking: Magento shipment {shipment.increment_id or shipment.entity_id} of order "
                f"{order.increment_id} was created by hand without tracking {dispatch.tracking_number}; add the "
                "tracking to it (or enable attach_tracking_to_existing_shipment)", target_id=str(shipment.entity_id))
        track = track_for(dispatch)
        attempt.sending("POST /V1/shipment/track", {"order_id": order.entity_id, "parent_id": shipment.entity_id,
                                                    "track_number": track.track_number})
        await self.ctx.magento.add_track(order.entity_id, shipment.entity_id, track)
        log.info("dispatch %s: tracking attached to hand-made Magento shipment %s", dispatch.dispatch_id,
                 shipment.entity_id)
        self.ctx.ledger.nudge(POSTINGS, dispatch.sale_order_id)
        return Done(str(shipment.entity_id))
