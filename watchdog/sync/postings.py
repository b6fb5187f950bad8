"""Financial postings: the Stokly invoice of a sale order, only once its fulfilment is confirmed.

One invoice per sale order (ledger flow ``postings``, keyed by the sale order id), created
when every unit of the order is dispatched or cancelled in Stokly *and* every dispatch has
its Magento shipment (ours, or a hand-made one recorded as rejected tracking). The invoice
covers the dispatched units only (units cancelled by a refund before fulfilment are not
revenue), paid by the Magento payment. Check-before-create: an order that already has an
invoice is never invoiced again.

Candidates are sale orders with a shipped dispatch and no posting yet, plus postings due for
a retry; a dispatch confirmed by the fulfilment flow makes its order's waiting posting due.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from functools import partial

from watchdog.connectors.http import UpstreamError
from watchdog.connectors.stokly import InvoiceDraft, InvoiceLineDraft
from watchdog.model import Dispatch, Invoice, Payment, SaleOrder, SaleOrderLine
from watchdog.stokly_assumed import PAYMENT_METHOD_EXTERNAL
from watchdog.sync.context import FlowContext
from watchdog.sync.errors import FlowAborted, Retry, Waiting
from watchdog.sync.fulfilment import FLOW as FULFILMENT
from watchdog.sync.fulfilment import magento_order_id
from watchdog.sync.ledger import Claim, ClaimRequest
from watchdog.sync.order_mapping import NOT_SHIPPED
from watchdog.sync.orders import FLOW as ORDERS
from watchdog.sync.refunds import FLOW as REFUNDS
from watchdog.sync.refunds import VOID, dispatched_units
from watchdog.sync.results import FlowResult, Tally
from watchdog.sync.runner import Attempt, Done, in_groups, settle_record

__all__ = ["FLOW", "run_postings"]

log = logging.getLogger(__name__)

FLOW = "postings"
ZERO = Decimal(0)


async def run_postings(ctx: FlowContext) -> FlowResult:
    """Post every sale order whose fulfilment is confirmed; one run of the flow."""
    started, tally = ctx.now(), Tally()
    candidates = list(dict.fromkeys([*ctx.ledger.unposted(FULFILMENT, FLOW),
                                     *(d.source_id for d in ctx.ledger.due(FLOW))]))
    size = ctx.options.claim_batch
    try:
        for start in range(0, len(candidates), size):
            await _post_chunk(ctx, candidates[start:start + size], tally)
    except FlowAborted as exc:
        return FlowResult.of(FLOW, tally, started, ctx.now(), aborted=str(exc))
    return FlowResult.of(FLOW, tally, started, ctx.now())


async def _post_chunk(ctx: FlowContext, sale_order_ids: list[str], tally: Tally) -> None:
    """Claim, look the invoices up in one listing, then post each order held. Raises FlowAborted."""
    claims = ctx.ledger.claim_many(FLOW, [ClaimRequest(s, s) for s in sale_order_ids])
    invoiced = await _invoiced_since(ctx, list(claims)) if claims else {}

    async def post(claim: Claim) -> None:
        known = invoiced.get(claim.source_id)
        tally.add(await settle_record(ctx, claim, partial(_post, ctx, claim.source_id, known=known)))

    try:
        await in_groups(list(claims.values()), lambda c: c.source_id, post, ctx.options.concurrency)
    except FlowAborted as exc:
        ctx.ledger.release(FLOW, list(claims), f"the run stopped: {exc}")
        raise


async def _invoiced_since(ctx: FlowContext, sale_order_ids: list[str]) -> dict[str, list[Invoice]]:
    """The invoices of these just-claimed sale orders, read in one listing (from the oldest order's day).

    An invoice cannot predate its order, so the listing starts at the oldest order's creation
    (Magento's order time, kept in the orders ledger), a day earlier for Stokly's day-dated
    invoices. Orders the ledger cannot date are left out (each checks on its own).
    """
    orders = {i: s for i in sale_order_ids if (s := ctx.ledger.source_of(ORDERS, i)) is not None}
    times = ctx.ledger.source_times(ORDERS, list(orders.values()))
    if not times or len(times) < len(orders):
        return {}
    try:
        listed = await ctx.stokly.invoices(issued_from=min(times) - timedelta(days=1))
    except UpstreamError as exc:
        log.info("postings: batched invoice look-up failed (%s); orders check one by one", exc)
        return {}
    found: dict[str, list[Invoice]] = {i: [] for i in orders}
    for invoice in listed:
        if invoice.sale_order_id in found and invoice.status not in VOID:
            found[invoice.sale_order_id].append(invoice)
    return found


async def _post(ctx: FlowContext, sale_order_id: str, attempt: Attempt, *, known: list[Invoice] | None) -> Done:
    """Check (``known``: the run's listing, for a first attempt), wait for fulfilment, then invoice."""
    if known is None:
        known = [i for i in await ctx.stokly.invoices(sale_order_id=sale_order_id) if i.status not in VOID]
    if known:
        return Done(known[0].sale_invoice_id, wrote=False)
    if attempt.claim.target_id is not None:
        raise Retry(f"invoice {attempt.claim.target_id} was created but Stokly does not show it yet")
    sale_order = await ctx.sale_orders.get(sale_order_id)  # its lines; cancellations only ever add up
    dispatches = await ctx.stokly.dispatches(sale_order_id=sale_order_id)
    units = dispatched_units(dispatches)
    await _wait_for_fulfilment(ctx, sale_order, dispatches, units)
    lines = tuple(_invoice_line(line, units) for line in _top(sale_order) if _invoiced(line, units) > 0)
    if not lines:
        return Done(None, wrote=False)  # every unit was cancelled: nothing to post
    gross = sum(((ln.unit_price + ln.unit_tax) * ln.quantity for ln in lines), ZERO)
    draft = InvoiceDraft(currency=sale_order.currency, lines=lines,
                         payments=(Payment(PAYMENT_METHOD_EXTERNAL, gross),))
    attempt.sending("POST /v2/saleorders/{id}/invoices", draft.body())
    invoice_id = await ctx.stokly.create_invoice(sale_order_id, draft)
    order_id = ctx.ledger.source_of(ORDERS, sale_order_id)
    if order_id is not None:
        ctx.ledger.nudge_ref(REFUNDS, order_id)  # credit notes waiting for this invoice
    return Done(invoice_id)  # Stokly answered with the new invoice's id


def _top(sale_order: SaleOrder) -> list[SaleOrderLine]:
    return [line for line in sale_order.lines if line.parent_id is None]


def _invoiced(line: SaleOrderLine, units: dict[str, Decimal]) -> Decimal:
    return min(units.get(line.line_id, ZERO), line.quantity - line.quantity_cancelled)


def _invoice_line(line: SaleOrderLine, units: dict[str, Decimal]) -> InvoiceLineDraft:
    return InvoiceLineDraft(line.item_id, line.sku, _invoiced(line, units), line.unit_price, line.unit_tax)


async def _wait_for_fulfilment(ctx: FlowContext, sale_order: SaleOrder, dispatches: list[Dispatch],
                               units: dict[str, Decimal]) -> None:
    """Raise Waiting until every unit is dispatched or cancelled and every dispatch is in Magento."""
    open_lines = [ln for ln in _top(sale_order)
                  if ln.quantity - ln.quantity_cancelled - units.get(ln.line_id, ZERO) > 0]
    if open_lines and await _needs_dispatch(ctx, sale_order, open_lines):
        left = sum((ln.quantity - ln.quantity_cancelled - units.get(ln.line_id, ZERO) for ln in open_lines), ZERO)
        raise Waiting(f"sale order #{sale_order.nice_id} has {left} unit(s) not dispatched yet")
    shipped = ctx.ledger.targets(FULFILMENT, sale_order.sale_order_id)
    pending = [d for d in dispatches if not shipped.get(d.dispatch_id)]
    if pending:
        raise Waiting(f"Stokly dispatch #{pending[0].nice_id} of sale order #{sale_order.nice_id} has no Magento "
                      "shipment yet")


async def _needs_dispatch(ctx: FlowContext, sale_order: SaleOrder, open_lines: list[SaleOrderLine]) -> bool:
    """False when every open line is a virtual or downloadable Magento product (nothing to ship)."""
    order = await ctx.magento.order(await magento_order_id(ctx, sale_order))
    not_shipped = {ln.sku for ln in order.lines if ln.parent_item_id is None and ln.product_type in NOT_SHIPPED}
    return any(line.sku not in not_shipped for line in open_lines)
