"""Refunds, Magento -> Stokly: each credit memo is mirrored exactly once.

Read by keyset cursor on the memos' (``updated_at``, ``entity_id``); memos of one order go one
after another. For each memo (claimed by its ``entity_id``):

1. check Stokly for the credit note ``MAG-CM-<memo increment id>``: there means done;
2. plan (``refund_plan``) and store the plan before writing anything: units still open in
   Stokly are cancelled on the sale order (a refund before fulfilment; with
   ``refund_before_fulfilment = "hold"`` the memo is quarantined for a person instead),
   dispatched units go on a credit note;
3. the cancellation is checked before it is sent: the sale order's cancelled quantities
   against those of this order's memos already applied. While another memo of the same
   order is half-applied, this one waits;
4. the credit note, with per-line VAT and the shipping refund, is raised against the sale
   order's invoice, so only once fulfilment is confirmed and posted; until then it waits.
   A refund before fulfilment never creates a credit note.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from watchdog.connectors.http import UpstreamError
from watchdog.connectors.magento import CREDIT_MEMOS
from watchdog.connectors.stokly import CreditNoteDraft, CreditNoteLineDraft
from watchdog.model import CreditMemo, CreditNote, Dispatch, Invoice, Order, SaleOrder
from watchdog.stokly_assumed import CANCEL_ITEMS_PATH, cancel_items_body, credit_note_reference
from watchdog.sync.context import FlowContext
from watchdog.sync.errors import Quarantine, Retry, Waiting
from watchdog.sync.ledger import CONFIRMED, DEAD, QUARANTINED, WRITTEN, Due, Sibling
from watchdog.sync.orders import FLOW as ORDERS
from watchdog.sync.orders import find_sale_order
from watchdog.sync.refund_plan import RefundPlan, plan_refund
from watchdog.sync.runner import Attempt, Done, Key

__all__ = ["FLOW", "VOID", "RefundsFeed", "dispatched_units"]

FLOW = "refunds"
CANCELED_MEMO = 3
VOID = frozenset({"void", "voided", "cancelled", "canceled"})
ZERO = Decimal(0)


def dispatched_units(dispatches: Sequence[Dispatch]) -> dict[str, Decimal]:
    """Stokly line id -> units dispatched, over ``dispatches``."""
    units: dict[str, Decimal] = {}
    for dispatch in dispatches:
        for line in dispatch.lines:
            units[line.line_id] = units.get(line.line_id, ZERO) + line.quantity
    return units


class RefundsFeed:
    """The refunds flow as a ``Feed`` for the ``FeedRunner``."""

    flow = FLOW

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._notes: dict[str, CreditNote | None] = {}  # claimed memos' references, checked in one request

    async def read(self, since: datetime, until: datetime) -> AsyncIterator[Sequence[CreditMemo]]:
        chunk: list[CreditMemo] = []
        async for memo in self.ctx.magento.iter_changed(CREDIT_MEMOS, since, until):
            chunk.append(memo)
            if len(chunk) >= self.ctx.options.chunk:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    async def prepare(self, records: Sequence[CreditMemo]) -> None:
        """The claimed memos' credit notes, by reference, a request per 200."""
        references = [credit_note_reference(m.increment_id) for m in records if m.state != CANCELED_MEMO]
        found = await self.ctx.stokly.credit_notes(source_reference_ids=references) if references else []
        self._notes = dict.fromkeys(references)  # this batch only: each look-up serves one claim
        for note in sorted(found, key=lambda n: -(n.nice_id or 0)):  # the oldest wins (unknown niceId: last)
            self._notes[note.source_reference_id or ""] = note

    def key(self, record: CreditMemo) -> Key:
        return Key(str(record.entity_id), group=str(record.order_id), source_ref=str(record.order_id),
                   source_time=record.created_at,
                   position={"time": record.updated_at.isoformat(), "id": record.entity_id},
                   wanted=record.state != CANCELED_MEMO)

    async def refetch(self, due: Due) -> CreditMemo | None:
        try:
            return await self.ctx.magento.credit_memo(int(due.source_id))
        except UpstreamError as exc:
            if exc.status == 404:
                return None
            raise

    async def process(self, record: CreditMemo, attempt: Attempt) -> Done:
        reference = credit_note_reference(record.increment_id)
        if reference in self._notes:
            existing = self._notes.pop(reference)  # prepared for the claimed chunk
        else:
            existing = await self.ctx.stokly.credit_note_by_reference(reference)
        if existing is not None:
            return Done(existing.credit_note_id, wrote=False)
        if attempt.claim.target_id is not None and not attempt.claim.target_id.startswith("amend:"):
            raise Retry(f"credit note {attempt.claim.target_id} was created but Stokly does not show it yet")
        if record.state == CANCELED_MEMO:
            return Done(None, wrote=False)
        order = await self.ctx.magento.order(record.order_id)
        sale_order = await self._sale_order(order)
        siblings = self.ctx.ledger.siblings(FLOW, str(record.order_id), exclude=attempt.claim.source_id)
        _wait_for_half_applied(siblings, order)
        dispatches = await self.ctx.stokly.dispatches(sale_order_id=sale_order.sale_order_id)
        plan = self._plan(record, order, sale_order, dispatches, attempt)
        if plan.cancel and not plan.amended:
            plan = await self._amend(record, sale_order, plan, siblings, attempt)
        if plan.credit or (not plan.cancel and plan.refund_amount > 0 and dispatches):
            return await self._credit(record, sale_order, plan, attempt)
        return Done(f"amend:{sale_order.sale_order_id}" if plan.cancel else None)

    async def _sale_order(self, order: Order) -> SaleOrder:
        """The order's Stokly sale order (with lines). Raises Waiting while it has none."""
        entry = self.ctx.ledger.entry(ORDERS, str(order.entity_id))
        if entry is not None and entry[0] in (WRITTEN, CONFIRMED) and entry[1]:
            return await self.ctx.stokly.sale_order(entry[1])
        found = await find_sale_order(self.ctx, order.increment_id)
        if found is None:
            why = f" (the order is {entry[0]} in the orders ledger)" if entry is not None else ""
            raise Waiting(f"Magento order {order.increment_id} has no Stokly sale order yet{why}")
        return await self.ctx.stokly.sale_order(found.sale_order_id)

    def _plan(self, memo: CreditMemo, order: Order, sale_order: SaleOrder, dispatches: Sequence[Dispatch],
              attempt: Attempt) -> RefundPlan:
        """The stored plan, or a new one stored before anything is written."""
        if attempt.claim.plan:
            return RefundPlan.from_json(attempt.claim.plan)
        plan = plan_refund(memo, order, sale_order, dispatched_units(dispatches))
        if plan.unmatched:
            raise Quarantine(f"credit memo {memo.increment_id} refunds SKU(s) {', '.join(plan.unmatched)} that "
                             f"Stokly sale order #{sale_order.nice_id} does not have")
        if plan.cancel and self.ctx.integration.sync.refund_before_fulfilment == "hold":
            raise Quarantine(f"credit memo {memo.increment_id} refunds units not yet dispatched; held for a person "
                             f"(refund_before_fulfilment = hold): amend Stokly sale order #{sale_order.nice_id}")
        attempt.save_plan(plan.to_json())
        return plan

    async def _amend(self, memo: CreditMemo, sale_order: SaleOrder, plan: RefundPlan, siblings: Sequence[Sibling],
                     attempt: Attempt) -> RefundPlan:
        """Cancel the open units, unless this memo's cancellation is already on the sale order."""
        applied: dict[str, Decimal] = {}
        for sibling in siblings:
            if sibling.plan and sibling.plan.get("amended"):
                for line_id, qty in RefundPlan.from_json(sibling.plan).cancel.items():
                    applied[line_id] = applied.get(line_id, ZERO) + qty
        cancelled = {ln.line_id: ln.quantity_cancelled for ln in sale_order.lines}
        if not all(cancelled.get(k, ZERO) >= applied.get(k, ZERO) + v for k, v in plan.cancel.items()):
            reason = f"Magento credit memo {memo.increment_id}: refunded before fulfilment"
            attempt.sending(CANCEL_ITEMS_PATH, cancel_items_body(list(plan.cancel.items()), reason))
            try:
                await self.ctx.stokly.cancel_sale_order_lines(sale_order.sale_order_id, plan.cancel, reason)
            except UpstreamError as exc:
                if exc.status == 400:  # the order moved on (e.g. dispatched meanwhile): plan again
                    attempt.save_plan({})
                    raise Retry(f"Stokly refused the cancellation ({exc.message}); the refund is planned again",
                                response=exc.body) from exc
                raise
        amended = RefundPlan(**{**plan.__dict__, "amended": True})
        attempt.save_plan(amended.to_json())
        attempt.written(f"amend:{sale_order.sale_order_id}")  # one write landed; the credit note may follow
        return amended

    async def _credit(self, memo: CreditMemo, sale_order: SaleOrder, plan: RefundPlan, attempt: Attempt) -> Done:
        invoice = await self._invoice(sale_order)
        draft = CreditNoteDraft.for_credit_memo(
            memo.increment_id, invoice_id=invoice.sale_invoice_id, currency=memo.currency or sale_order.currency,
            lines=tuple(CreditNoteLineDraft(c.item_id, c.quantity, c.unit_price, c.unit_tax) for c in plan.credit),
            refund_amount=plan.refund_amount, reason=f"Magento credit memo {memo.increment_id}",
            shipping_cost=plan.shipping_cost, shipping_tax=plan.shipping_tax)
        attempt.sending("POST /v0/credit-notes", draft.body())
        return Done(await self.ctx.stokly.create_credit_note(draft))  # Stokly answered with the new note's id

    async def _invoice(self, sale_order: SaleOrder) -> Invoice:
        invoices = [i for i in await self.ctx.stokly.invoices(sale_order_id=sale_order.sale_order_id)
                    if i.status not in VOID]
        if not invoices:
            raise Waiting(f"the credit note waits for Stokly sale order #{sale_order.nice_id}'s invoice (posted "
                          "once its fulfilment is confirmed)")
        return max(invoices, key=lambda i: i.nice_id)


def _wait_for_half_applied(siblings: Sequence[Sibling], order: Order) -> None:
    """Raise Waiting while another memo of the order has a plan whose cancellation may be half-applied."""
    for sibling in siblings:
        plan: Mapping[str, object] | None = sibling.plan
        if plan and plan.get("cancel") and not plan.get("amended") and sibling.state not in (DEAD, QUARANTINED):
            raise Waiting(f"credit memo {sibling.source_id} of order {order.increment_id} is being applied first")
