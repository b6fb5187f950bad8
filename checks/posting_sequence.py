"""posting_sequence: financial postings out of step with fulfilment ("post only after dispatch").

Over Magento-channel sale orders in Stokly:

- ``invoice:<saleInvoiceId>``: an invoice (not void) issued before the order's first
  dispatch, or while nothing is dispatched. An invoice dated at midnight exactly is
  compared by calendar day (Stokly dates invoices by day), otherwise by the moment.
  Invoices issued inside the settle window (``settle``, default 1h) are left alone.
  Measures ``amount`` and ``tax`` of the invoice.
- ``order:<increment_id>``: dispatched more than ``invoice_within`` (default 24h) ago and
  not invoiced at all. Measures ``amount`` and ``tax`` of the order.

Warnings, owned by finance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from typing import ClassVar

from checks._common import channel_sale_orders, first_by, known, money, settled_before, stokly_link
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import Invoice, SaleOrder

__all__ = ["PostingSequence", "issued_before"]

DEFAULT_SETTLE = timedelta(hours=1)
VOID = frozenset({"void", "voided", "cancelled", "canceled"})


def issued_before(issued: datetime, dispatched: datetime) -> bool:
    """True if an invoice issued at ``issued`` precedes a dispatch at ``dispatched``.

    Stokly dates invoices at midnight: such a date is compared by day, so an invoice of
    the dispatch's own day is in order.
    """
    if issued.timetz().replace(tzinfo=None) == time(0):
        return issued.date() < dispatched.date()
    return issued < dispatched


class PostingSequence:
    id: ClassVar[str] = "posting_sequence"
    owner: ClassVar[Team] = Team.FINANCE
    runbook: ClassVar[str] = "docs/runbooks/posting_sequence.md"
    needs: ClassVar[frozenset[str]] = frozenset({"stokly.invoices", "stokly.dispatches", "stokly.sale_orders"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        orders = {so.sale_order_id: so for so in
                  channel_sale_orders(ctx, need(ctx.stokly.sale_orders, "stokly.sale_orders"))}
        first = first_by((d.sale_order_id, d.dispatched_at) for d in need(ctx.stokly.dispatches, "stokly.dispatches"))
        invoices = [i for i in need(ctx.stokly.invoices, "stokly.invoices")
                    if i.status not in VOID and i.sale_order_id in orders]
        yield from self._early_invoices(ctx, invoices, orders, first)
        yield from self._uninvoiced(ctx, {i.sale_order_id for i in invoices}, orders, first)

    def _early_invoices(self, ctx: CheckContext, invoices: Iterable[Invoice], orders: Mapping[str, SaleOrder],
                        first: Mapping[str, datetime]) -> Iterable[Finding]:
        settled = settled_before(ctx, DEFAULT_SETTLE)
        for invoice in invoices:
            dispatched = first.get(invoice.sale_order_id)
            if invoice.issue_date > settled or (dispatched and not issued_before(invoice.issue_date, dispatched)):
                continue
            so = orders[invoice.sale_order_id]
            when = f"before its first dispatch ({dispatched:%Y-%m-%d %H:%M} UTC)" if dispatched else \
                "although nothing is dispatched"
            yield Finding(
                check=self.id, subject=f"invoice:{invoice.sale_invoice_id}", severity=Severity.WARNING,
                owner=self.owner,
                summary=(f"Stokly invoice #{invoice.nice_id} ({money(ctx, invoice.total)}) for Magento order "
                         f"{so.source_reference_id or so.nice_id} was issued {invoice.issue_date:%Y-%m-%d} {when}: "
                         "revenue and VAT are posted for goods not shipped"),
                measures=known(amount=invoice.total, tax=invoice.tax),
                links=stokly_link(ctx, f"invoices/{invoice.sale_invoice_id}"),
            )

    def _uninvoiced(self, ctx: CheckContext, invoiced: set[str], orders: Mapping[str, SaleOrder],
                    first: Mapping[str, datetime]) -> Iterable[Finding]:
        due = ctx.now - ctx.duration("invoice_within", timedelta(hours=24))
        for sale_order_id, dispatched in first.items():
            so = orders.get(sale_order_id)
            if so is None or sale_order_id in invoiced or dispatched > due:
                continue
            ref = so.source_reference_id or f"stokly-{so.nice_id}"
            yield Finding(
                check=self.id, subject=f"order:{ref}", severity=Severity.WARNING, owner=self.owner,
                summary=(f"Magento order {ref} (Stokly #{so.nice_id}, {money(ctx, so.total)}) was dispatched "
                         f"{dispatched:%Y-%m-%d %H:%M} UTC and is still not invoiced in Stokly: revenue and VAT "
                         "are missing from the books"),
                measures=known(amount=so.total, tax=so.tax),
                links=stokly_link(ctx, f"sale-orders/{so.sale_order_id}"),
            )


_: type[Check] = PostingSequence
