"""missing_credit_notes: Magento refunds whose VAT was never credited in Stokly, or credited wrong.

A Magento credit memo (not canceled) older than the settle window (``settle``, default
30m) needs a Stokly credit note whose ``source_reference_id`` is ``MAG-CM-<memo
increment_id>`` (``reference_prefix``; it mirrors ``watchdog.stokly_assumed``). Several
notes with the same reference are added up (a duplicate over-credits).

- No note: warning, critical once older than ``critical_after`` (default 24h).
  Measures ``vat`` (the memo's VAT, still overstated) and ``amount`` (its gross).
- A note whose amount or VAT differs from the memo by 0.01 or more: warning. Measures
  ``vat`` and ``amount`` = memo minus credited (negative: credited too much).

A memo on an order Stokly has not invoiced needs no note: the sync amends the open
order instead (refund before fulfilment), and no VAT was posted to be overstated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import ClassVar

from checks._common import CENT, ZERO, channel_sale_orders, magento_link, money, settled_before, stokly_link
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import CreditMemo, CreditNote

__all__ = ["MissingCreditNotes"]

DEFAULT_SETTLE = timedelta(minutes=30)
CANCELED_MEMO = 3
VOID_NOTES = frozenset({"void", "voided", "cancelled", "canceled"})
VOID_INVOICES = VOID_NOTES


class MissingCreditNotes:
    id: ClassVar[str] = "missing_credit_notes"
    owner: ClassVar[Team] = Team.FINANCE
    runbook: ClassVar[str] = "docs/runbooks/missing_credit_notes.md"
    needs: ClassVar[frozenset[str]] = frozenset({
        "magento.credit_memos", "magento.orders", "stokly.credit_notes", "stokly.sale_orders", "stokly.invoices",
    })

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        prefix = ctx.setting("reference_prefix", "MAG-CM-")
        notes: dict[str, list[CreditNote]] = defaultdict(list)
        unmatched = 0  # notes whose reference could not be read: any memo might be theirs
        for note in need(ctx.stokly.credit_notes, "stokly.credit_notes"):
            if "source_reference_id" in note.unknown:
                unmatched += 1
            elif note.source_reference_id and note.status not in VOID_NOTES:
                notes[note.source_reference_id].append(note)
        uninvoiced = self._uninvoiced_orders(ctx)
        settled = settled_before(ctx, DEFAULT_SETTLE)
        for memo in need(ctx.magento.credit_memos, "magento.credit_memos"):
            if memo.state == CANCELED_MEMO or memo.created_at > settled or memo.order_id in uninvoiced:
                continue
            found = notes.get(prefix + memo.increment_id)
            if not found and unmatched:
                ctx.limit("Stokly credit notes without a readable sourceReferenceId: credit memos without a "
                          "matching note are not judged", subjects=[f"creditmemo:{memo.increment_id}"])
                continue
            if found and any(n.amount is None or n.vat is None for n in found):
                ctx.limit("Stokly credit notes whose amount or VAT could not be read: their amounts are not "
                          "compared", subjects=[f"creditmemo:{memo.increment_id}"])
                continue
            finding = self._missing(ctx, memo) if not found else self._different(ctx, memo, found)
            if finding is not None:
                yield finding

    def _uninvoiced_orders(self, ctx: CheckContext) -> set[int]:
        """Magento order ids whose Stokly sale order exists and has no (non-void) invoice."""
        invoiced = {i.sale_order_id for i in need(ctx.stokly.invoices, "stokly.invoices")
                    if i.status not in VOID_INVOICES}
        by_ref = {so.source_reference_id: so for so in
                  channel_sale_orders(ctx, need(ctx.stokly.sale_orders, "stokly.sale_orders"))}
        result: set[int] = set()
        for order in need(ctx.magento.orders, "magento.orders"):
            so = by_ref.get(order.increment_id)
            if so is not None and so.sale_order_id not in invoiced:
                result.add(order.entity_id)
        return result

    def _missing(self, ctx: CheckContext, memo: CreditMemo) -> Finding:
        critical_from = ctx.now - ctx.duration("critical_after", timedelta(hours=24))
        severity = Severity.CRITICAL if memo.created_at <= critical_from else Severity.WARNING
        return Finding(
            check=self.id, subject=f"creditmemo:{memo.increment_id}", severity=severity, owner=self.owner,
            summary=(f"Magento credit memo {memo.increment_id} ({money(ctx, memo.grand_total)}, VAT "
                     f"{money(ctx, memo.tax_amount)}) has no Stokly credit note: VAT is overstated by "
                     f"{money(ctx, memo.tax_amount)} until one is raised"),
            measures={"vat": memo.tax_amount, "amount": memo.grand_total},
            links=magento_link(ctx, f"sales/creditmemo/view/creditmemo_id/{memo.entity_id}/"),
        )

    def _different(self, ctx: CheckContext, memo: CreditMemo, notes: Sequence[CreditNote]) -> Finding | None:
        vat = memo.tax_amount - sum((n.vat or ZERO for n in notes), ZERO)
        amount = memo.grand_total - sum((n.amount or ZERO for n in notes), ZERO)
        if abs(vat) < CENT and abs(amount) < CENT:
            return None
        many = f" ({len(notes)} notes with this reference)" if len(notes) > 1 else ""
        verdict = "overstated" if vat > 0 else "understated" if vat < 0 else "right"
        return Finding(
            check=self.id, subject=f"creditmemo:{memo.increment_id}", severity=Severity.WARNING, owner=self.owner,
            summary=(f"Stokly credit note #{notes[0].nice_id}{many} for Magento credit memo {memo.increment_id} "
                     f"credits {money(ctx, memo.grand_total - amount)} (VAT {money(ctx, memo.tax_amount - vat)}) "
                     f"instead of {money(ctx, memo.grand_total)} (VAT {money(ctx, memo.tax_amount)}): VAT is "
                     f"{verdict} by {money(ctx, abs(vat))}"),
            measures={"vat": vat, "amount": amount},
            links={**magento_link(ctx, f"sales/creditmemo/view/creditmemo_id/{memo.entity_id}/"),
                   **stokly_link(ctx, f"credit-notes/{notes[0].credit_note_id}")},
        )


_: type[Check] = MissingCreditNotes
