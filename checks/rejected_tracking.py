"""rejected_tracking: a Stokly dispatch with tracking that never reached the Magento order.

A dispatch of a Magento-channel order, with a tracking number, dispatched before the
settle window (``settle``, default 30m), whose Magento order has no track with that
number (compared without spaces and case). When the Magento order has shipments that
carry none of the order's Stokly tracking numbers, they were made by hand in Magento
(the usual reason the sync's shipment was rejected): the summary and links name them.
Measure ``units``: the dispatched quantity. Orders Magento does not have are
``missing_orders``'s, not this check's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from checks._common import ZERO, channel_sale_orders, magento_link, orders_by_increment, settled_before, stokly_link
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import Dispatch, Order, Shipment

__all__ = ["RejectedTracking", "TrackingGap", "normalise_tracking", "tracking_gaps", "tracks_by_order", "untracked"]

DEFAULT_SETTLE = timedelta(minutes=30)


def normalise_tracking(number: str) -> str:
    """A tracking number without spaces, upper case: how two systems' copies are compared."""
    return number.translate(_NO_SPACE).upper()


_NO_SPACE = dict.fromkeys(map(ord, " \t\n\r\f\v\u00a0"))


@dataclass(frozen=True)
class TrackingGap:
    """A settled Stokly dispatch whose tracking number no Magento track of its order carries."""

    dispatch: Dispatch
    order: Order
    manual_shipments: tuple[Shipment, ...]  # the order's Magento shipments with none of Stokly's tracking


def tracks_by_order(shipments: Iterable[Shipment]) -> dict[int, set[str]]:
    """Per Magento order id, the track numbers of its shipments, as Magento spells them."""
    tracks: dict[int, set[str]] = defaultdict(set)
    for shipment in shipments:
        tracks[shipment.order_id].update(t.track_number for t in shipment.tracks)
    return tracks


def untracked(dispatch: Dispatch, magento_tracks: set[str]) -> bool:
    """True if the dispatch has a tracking number that none of ``magento_tracks`` carries."""
    number = dispatch.tracking_number
    if not number.strip() or number in magento_tracks:  # the common case, without normalising
        return False
    return normalise_tracking(number) not in {normalise_tracking(t) for t in magento_tracks}


def tracking_gaps(ctx: CheckContext, settled: datetime) -> Iterable[TrackingGap]:
    """Every gap of a dispatch made at or before ``settled``. Raises NotEvaluated when a part is missing."""
    sale_orders = {so.sale_order_id: so for so in
                   channel_sale_orders(ctx, need(ctx.stokly.sale_orders, "stokly.sale_orders"))}
    orders = orders_by_increment(need(ctx.magento.orders, "magento.orders"))
    shipments = need(ctx.magento.shipments, "magento.shipments")
    tracks = tracks_by_order(shipments)
    dispatches = need(ctx.stokly.dispatches, "stokly.dispatches")
    gaps: list[tuple[Dispatch, Order]] = []
    for d in dispatches:
        so = sale_orders.get(d.sale_order_id)
        order = orders.get(so.source_reference_id or "") if so is not None else None
        if order is not None and d.dispatched_at <= settled and untracked(d, tracks.get(order.entity_id, set())):
            gaps.append((d, order))
    yield from _with_manual_shipments(gaps, shipments, dispatches)


def _with_manual_shipments(gaps: Sequence[tuple[Dispatch, Order]], shipments: Iterable[Shipment],
                           dispatches: Iterable[Dispatch]) -> Iterable[TrackingGap]:
    """The gaps, each with its order's shipments that carry none of the order's Stokly tracking."""
    if not gaps:
        return
    order_ids = {order.entity_id for _, order in gaps}
    sale_order_ids = {d.sale_order_id for d, _ in gaps}
    ours: dict[str, set[str]] = defaultdict(set)
    for d in dispatches:
        if d.sale_order_id in sale_order_ids and d.tracking_number.strip():
            ours[d.sale_order_id].add(normalise_tracking(d.tracking_number))
    by_order: dict[int, list[Shipment]] = defaultdict(list)
    for shipment in shipments:
        if shipment.order_id in order_ids:
            by_order[shipment.order_id].append(shipment)
    for d, order in gaps:
        manual = tuple(s for s in by_order[order.entity_id]
                       if not {normalise_tracking(t.track_number) for t in s.tracks} & ours[d.sale_order_id])
        yield TrackingGap(dispatch=d, order=order, manual_shipments=manual)


class RejectedTracking:
    id: ClassVar[str] = "rejected_tracking"
    owner: ClassVar[Team] = Team.OPERATIONS
    runbook: ClassVar[str] = "docs/runbooks/rejected_tracking.md"
    needs: ClassVar[frozenset[str]] = frozenset({
        "magento.orders", "magento.shipments", "stokly.sale_orders", "stokly.dispatches",
    })

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        errors = {e.source_id: e.last_error for e in ctx.ledger.entries if e.flow == "fulfilment" and e.last_error}
        for gap in tracking_gaps(ctx, settled_before(ctx, DEFAULT_SETTLE)):
            yield self._finding(ctx, gap, errors.get(gap.dispatch.dispatch_id))

    def _finding(self, ctx: CheckContext, gap: TrackingGap, error: str | None) -> Finding:
        d, order = gap.dispatch, gap.order
        head = (f"Stokly dispatch #{d.nice_id} ({d.carrier} {d.tracking_number}) of Magento order "
                f"{order.increment_id}")
        links = {**stokly_link(ctx, f"sale-orders/{d.sale_order_id}"),
                 **magento_link(ctx, f"sales/order/view/order_id/{order.entity_id}/")}
        if gap.manual_shipments:
            names = ", ".join(s.increment_id for s in gap.manual_shipments)
            first = gap.manual_shipments[0]
            links.update({f"magento_{k}": v for k, v in
                          magento_link(ctx, f"sales/shipment/view/shipment_id/{first.entity_id}/").items()})
            summary = (f"{head} is not in Magento: shipment {names} was created by hand in Magento without this "
                       f"tracking; add tracking {d.tracking_number} to shipment {names}")
        else:
            reason = f" (the sync last said: {error})" if error else ""
            summary = (f"{head} has no Magento shipment{reason}: the customer has no tracking and the order still "
                       f"shows {order.state}; create the shipment with this tracking")
        return Finding(check=self.id, subject=f"dispatch:{d.dispatch_id}", severity=Severity.WARNING,
                       owner=self.owner, summary=summary, measures={"units": _units(d)}, links=links)


def _units(dispatch: Dispatch) -> Decimal:
    return sum((line.quantity for line in dispatch.lines), ZERO)


_: type[Check] = RejectedTracking
