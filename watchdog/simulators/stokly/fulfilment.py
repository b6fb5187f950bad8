"""Dispatches with tracking (assumed), invoices, and VAT credit notes (assumed).

A dispatch ships quantities of an order's lines from a location; any part not yet collected
is collected first (stock falls there). An invoice is a financial posting only. A credit note
with ``restock`` lines puts the quantity back into the location's default bin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from watchdog.simulators.stokly.base import locked
from watchdog.simulators.stokly.records import (
    CreditNoteSpec,
    Invalid,
    InvoiceLineSpec,
    SimCreditNote,
    SimDispatch,
    SimInvoice,
    SimLine,
    SimSaleOrder,
)
from watchdog.simulators.stokly.sales import Quantities, SalesMixin, _with_line
from watchdog.stokly_assumed import REFERENCE_TYPE_SALE_INVOICE, msg_invalid, msg_required

__all__ = ["FulfilmentMixin"]


def _dispatchable(line: SimLine) -> Decimal:
    return line.quantity - line.cancelled - line.dispatched


class FulfilmentMixin(SalesMixin):
    """Dispatches, invoices and credit notes."""

    # ------------------------------------------------------------------ dispatch (assumed)

    @locked
    def dispatch(
        self,
        sale_order_id: str,
        *,
        carrier: str,
        tracking_number: str,
        location_id: str | None = None,
        lines: Quantities | None = None,
        service: str = "",
        tracking_url: str = "",
        dispatched_at: datetime | None = None,
        dispatch_id: str | None = None,
    ) -> str:
        """Dispatch with tracking; returns the shipment id.

        ``location_id`` defaults to the order's allocated location; ``lines`` (lineId ->
        quantity) to everything not yet dispatched. Uncollected quantity is collected first.
        Raises NotFound or Invalid (no location, nothing to dispatch, too much).
        """
        order = self._open_order(sale_order_id)
        location_id = location_id or order.allocated_location_id
        if location_id is None:
            raise Invalid(msg_required("locationId"))
        self._get(self._locations, location_id)
        wanted = dict(lines) if lines is not None else {
            ln.line_id: _dispatchable(ln) for ln in order.top_lines if _dispatchable(ln) > 0}
        if not wanted:
            raise Invalid(msg_invalid("items", "has nothing left to dispatch"))
        order = self._ship(order, location_id, self._expand(order, wanted))
        self._orders[sale_order_id] = order
        dispatch_id = dispatch_id or self.new_id()
        self._dispatches[dispatch_id] = SimDispatch(
            dispatch_id, self._next_nice("shipment"), sale_order_id, location_id, carrier, service,
            tracking_number, tracking_url, dispatched_at or self.now(),
            tuple((line_id, Decimal(q)) for line_id, q in wanted.items()),
        )
        return dispatch_id

    def _ship(self, order: SimSaleOrder, location_id: str, work: list[tuple[SimLine, Decimal]]) -> SimSaleOrder:
        for line, qty in work:
            if qty > _dispatchable(line):
                raise Invalid(msg_invalid("quantity", "is more than the line's undispatched quantity"))
        to_collect = [(ln, ln.dispatched + q - ln.collected) for ln, q in work if ln.dispatched + q > ln.collected]
        order = self._collect(order, location_id, to_collect)
        for line, qty in work:
            current = order.line(line.line_id) or line
            order = _with_line(order, replace(current, dispatched=current.dispatched + qty))
        return order

    @locked
    def dispatches(self, sale_order_id: str | None = None) -> list[SimDispatch]:
        """Dispatches (oldest first) of one order or all."""
        return [d for d in self._dispatches.values() if sale_order_id in (None, d.sale_order_id)]

    @locked
    def dispatch_record(self, dispatch_id: str) -> SimDispatch:
        return self._get(self._dispatches, dispatch_id)

    # ------------------------------------------------------------------ invoices

    @locked
    def invoice(
        self,
        sale_order_id: str,
        *,
        lines: Sequence[InvoiceLineSpec] | None = None,
        status: str = "paid",
        payments: Iterable[tuple[int, Decimal]] = (),
        currency: str | None = None,
        issue_date: datetime | None = None,
        invoice_id: str | None = None,
    ) -> str:
        """Post an invoice for an order (default: every uncancelled top-level line); returns its id."""
        order = self._get(self._orders, sale_order_id)
        chosen = tuple(lines) if lines is not None else tuple(
            InvoiceLineSpec(ln.item_id, ln.quantity - ln.cancelled, ln.unit_price, ln.unit_tax,
                            self._items[ln.item_id].name)
            for ln in order.top_lines if ln.quantity > ln.cancelled)
        for spec in chosen:
            self._get(self._items, spec.item_id)
        invoice_id = invoice_id or self.new_id()
        self._invoices[invoice_id] = SimInvoice(
            invoice_id, self._next_nice("invoice"), sale_order_id, order.nice_id, issue_date or self.now(),
            currency or order.currency, status, chosen, tuple(payments),
        )
        return invoice_id

    @locked
    def invoices(self, sale_order_id: str | None = None) -> list[SimInvoice]:
        return [i for i in self._invoices.values() if sale_order_id in (None, i.sale_order_id)]

    @locked
    def invoice_record(self, invoice_id: str) -> SimInvoice:
        return self._get(self._invoices, invoice_id)

    # ------------------------------------------------------------------ credit notes (assumed)

    @locked
    def credit_note(self, spec: CreditNoteSpec, *, credit_note_id: str | None = None) -> str:
        """Issue a credit note; restock lines add their quantity at their location. Returns its id.

        Raises NotFound (invoice, item, location) or Invalid (restock without a location).
        """
        if spec.reference_type == REFERENCE_TYPE_SALE_INVOICE and spec.reference_id is not None:
            self._get(self._invoices, spec.reference_id)
        for line in spec.lines:
            self._get(self._items, line.item_id)
            if line.restock and line.location_id is None:
                raise Invalid(msg_required("items.locationId"))
        credit_note_id = credit_note_id or self.new_id()
        for line in spec.lines:
            if line.restock and line.location_id is not None:
                bin_id = self.default_bin(line.location_id).bin_id
                self._move(line.item_id, bin_id, line.quantity, "Credit note restock", credit_note_id)
        self._credit_notes[credit_note_id] = SimCreditNote(
            credit_note_id, self._next_nice("creditnote"), spec, self.now())
        return credit_note_id

    @locked
    def credit_notes(self) -> list[SimCreditNote]:
        return list(self._credit_notes.values())

    @locked
    def credit_note_record(self, credit_note_id: str) -> SimCreditNote:
        return self._get(self._credit_notes, credit_note_id)

    @locked
    def credit_note_by_reference(self, source_reference_id: str) -> SimCreditNote | None:
        """The first credit note with this ``sourceReferenceId``, or None."""
        return next((c for c in self._credit_notes.values()
                     if c.spec.source_reference_id == source_reference_id), None)
