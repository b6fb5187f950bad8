"""The connector's writes against the simulator: check-before-create and the stock they move."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.stokly.conftest import Merchant
from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.stokly import (
    CreditNoteDraft,
    CreditNoteLineDraft,
    CustomerDraft,
    DispatchDraft,
    InvoiceDraft,
    InvoiceLineDraft,
    SaleOrderDraft,
    SaleOrderLineDraft,
    ShippingDraft,
    StoklyAddress,
    StoklyClient,
)
from watchdog.model import DispatchLine, Payment
from watchdog.simulators.stokly import StoklyState
from watchdog.stokly_assumed import credit_note_reference

D = Decimal


def order_draft(m: Merchant, customer_id: str | None, ref: str = "000000123") -> SaleOrderDraft:
    return SaleOrderDraft(
        source_reference_id=ref, channel_id=m.channel, currency="GBP", customer_id=customer_id,
        lines=(SaleOrderLineDraft.per_unit(m.widget, D(3), D("8.3333"), D("1.6667")),
               SaleOrderLineDraft.per_unit(m.kit, D(1), D("25"), D("5"))),
        shipping=ShippingDraft("Jane", "Doe", StoklyAddress("1 High St", city="Leeds", country="GB",
                                                            postcode="LS1 1AA"), "Tracked 48", D("3.3333"),
                               D("0.6667")),
        payments=(Payment(4, D(64)),),
    )


async def import_order(stokly: StoklyClient, m: Merchant, ref: str = "000000123") -> str:
    """What the order flow does: find or create the customer, then check before creating the order."""
    customer = await stokly.customer_by_barcode("MAG-C-9")
    customer_id = customer.customer_id if customer else await stokly.create_customer(
        CustomerDraft("MAG-C-9", "Ann", "Other", "ann@example.com", address=StoklyAddress("2 Low St")))
    existing = await stokly.sale_order_by_reference(ref)
    return existing.sale_order_id if existing else await stokly.create_sale_order(order_draft(m, customer_id, ref))


async def test_check_before_create_by_source_reference(stokly: StoklyClient, state: StoklyState,
                                                       merchant: Merchant) -> None:
    assert await stokly.sale_order_by_reference("000000123") is None
    first = await import_order(stokly, merchant)
    again = await import_order(stokly, merchant)
    assert first == again
    assert len(state.sale_orders()) == 1
    assert len(state.customers()) == 2
    order = await stokly.sale_order_by_reference("000000123")
    assert order is not None
    assert order.sale_order_id == first
    assert (order.total, order.tax, order.payments) == (D(64), D("10.6668"), (Payment(4, D(64)),))
    assert [ln.sku for ln in order.lines if ln.parent_id is None] == ["WID-1", "KIT-1"]
    assert state.allocated(merchant.widget, merchant.warehouse) == 4  # 3 + the kit's one
    assert state.sale_order(first).shipping.postcode == "LS1 1AA"


async def test_duplicates_are_reported_oldest_first(stokly: StoklyClient, state: StoklyState,
                                                    merchant: Merchant) -> None:
    first = await stokly.create_sale_order(order_draft(merchant, None))
    await stokly.create_sale_order(order_draft(merchant, None))  # Stokly is not known to refuse duplicates
    found = await stokly.sale_order_by_reference("000000123")
    assert found is not None
    assert found.sale_order_id == first
    assert len(await stokly.sale_orders(source_reference_ids=["000000123"])) == 2


async def test_fulfil_invoice_and_credit_with_restock(stokly: StoklyClient, state: StoklyState,
                                                      merchant: Merchant) -> None:
    so = await import_order(stokly, merchant)
    order = await stokly.sale_order(so)
    widget_line, kit_line = (ln for ln in order.lines if ln.parent_id is None)
    await stokly.collect_items(so, merchant.warehouse, {widget_line.line_id: D(1)})
    assert (state.on_hand(merchant.widget, merchant.warehouse), state.allocated(merchant.widget)) == (19, 3)
    shipment = await stokly.create_dispatch(so, DispatchDraft(
        merchant.warehouse, "Royal Mail", "RM123456789GB",
        (DispatchLine(widget_line.line_id, D(3)), DispatchLine(kit_line.line_id, D(1))), service="Tracked 48"))
    [dispatch] = await stokly.dispatches(sale_order_id=so)
    assert (dispatch.dispatch_id, dispatch.tracking_number, dispatch.service) == (shipment, "RM123456789GB",
                                                                                   "Tracked 48")
    assert (state.on_hand(merchant.widget, merchant.warehouse), state.allocated(merchant.widget)) == (16, 0)
    invoice_id = await stokly.create_invoice(so, InvoiceDraft("GBP", (
        InvoiceLineDraft(merchant.widget, "Widget", D(3), D("8.3333"), D("1.6667")),), (Payment(4, D(30)),)))
    [invoice] = await stokly.invoices(sale_order_id=so)
    assert (invoice.sale_invoice_id, invoice.tax) == (invoice_id, D("5.0001"))
    draft = CreditNoteDraft.for_credit_memo(
        "000000045", invoice_id=invoice_id, currency="GBP", refund_amount=D(10), lines=(
            CreditNoteLineDraft(merchant.widget, D(1), D("8.3333"), D("1.6667"), True, merchant.warehouse),))
    assert await stokly.credit_note_by_reference(credit_note_reference("000000045")) is None
    note_id = await stokly.create_credit_note(draft)
    note = await stokly.credit_note_by_reference("MAG-CM-000000045")
    assert note is not None
    assert (note.credit_note_id, note.amount, note.vat) == (note_id, D(10), D("1.6667"))
    assert note.lines[0].restock
    assert state.on_hand(merchant.widget, merchant.warehouse) == 17


async def test_cancel_lines_before_fulfilment_releases_allocation(stokly: StoklyClient, state: StoklyState,
                                                                  merchant: Merchant) -> None:
    so = await import_order(stokly, merchant)
    widget_line = (await stokly.sale_order(so)).lines[0]
    await stokly.cancel_sale_order_lines(so, {widget_line.line_id: D(2)})
    line = (await stokly.sale_order(so)).lines[0]
    assert (line.quantity_cancelled, line.status) == (D(2), "unprocessed")
    assert state.allocated(merchant.widget, merchant.warehouse) == 2
    await stokly.cancel_sale_order_lines(so, {widget_line.line_id: D(1)})
    assert (await stokly.sale_order(so)).lines[0].status == "cancelled"


async def test_adjust_moves_stock_in_a_bin(stokly: StoklyClient, state: StoklyState, merchant: Merchant) -> None:
    [bin_] = await stokly.bins(merchant.shop)
    adjustment = await stokly.adjust(merchant.shop, bin_.bin_id, "Magento sync correction",
                                     {merchant.widget: D(5), merchant.gadget: D(-1)})
    assert adjustment
    assert (state.on_hand(merchant.widget, merchant.shop), state.on_hand(merchant.gadget,
                                                                                         merchant.shop)) == (5, 2)
    with pytest.raises(ValueError, match="1 to 500"):
        await stokly.adjust(merchant.shop, bin_.bin_id, "too many", {str(n): D(1) for n in range(501)})


async def test_validation_errors_are_permanent_with_stokly_message(stokly: StoklyClient, merchant: Merchant) -> None:
    draft = order_draft(merchant, None)
    bad = SaleOrderDraft(draft.source_reference_id, draft.channel_id, "", draft.lines)
    with pytest.raises(UpstreamError) as caught:
        await stokly.create_sale_order(bad)
    assert (caught.value.kind, caught.value.status) == (ErrorKind.PERMANENT, 400)
    assert "currency is required" in str(caught.value)


def test_drafts_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        SaleOrderLineDraft.per_unit("i", D(0), D(1), D(0))
    with pytest.raises(ValueError, match="at least one line"):
        SaleOrderDraft("1", "c", "GBP", ())
    with pytest.raises(ValueError, match="location_id"):
        CreditNoteLineDraft("i", D(1), D(1), D(0), restock=True)
