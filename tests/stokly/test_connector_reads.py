"""The connector's reads against the simulator (in-process and over real HTTP), and its paging."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from tests.stokly.conftest import START, FakeClock, MakeClient, Merchant
from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.stokly import StoklyClient, StoklyCredentials
from watchdog.model import ItemFormat, StockLevel
from watchdog.secret import Secret
from watchdog.simulators.stokly import CreditLineSpec, CreditNoteSpec, LineSpec, StoklySimApp, StoklyState

D = Decimal


async def test_items_with_kit_components_and_variants(stokly: StoklyClient, merchant: Merchant) -> None:
    items = {i.sku: i for i in await stokly.items()}
    assert set(items) == {"WID-1", "GAD-1", "KIT-1", "TEE", "TEE-S", "TEE-M"}
    assert items["KIT-1"].format is ItemFormat.COMPOSITE
    assert items["KIT-1"].components == ((merchant.widget, D(1)), (merchant.gadget, D(2)))
    assert items["TEE"].variants == (merchant.tee_s, merchant.tee_m)
    assert items["WID-1"].barcodes == ("5055759212513",)
    assert (await stokly.item(merchant.kit)).components == items["KIT-1"].components


async def test_items_by_sku_are_exact_and_batched(make_client: MakeClient, state: StoklyState,
                                                  merchant: Merchant) -> None:
    for n in range(450):
        state.add_item(f"{n}", f"numeric sku {n}")  # numeric-looking SKUs compare as strings
    wanted = ["WID-1", "wid-1", "007", "7", *[str(n) for n in range(0, 450, 2)]]
    found = await make_client().items(skus=wanted)
    assert sorted(i.sku for i in found) == sorted(["WID-1", "7", *[str(n) for n in range(0, 450, 2)]])


async def test_items_updated_since(stokly: StoklyClient, state: StoklyState, clock: FakeClock,
                                   merchant: Merchant) -> None:
    clock.advance(60)
    state.update_item(merchant.gadget, name="Gadget v2")
    assert [i.sku for i in await stokly.items(updated_since=START + timedelta(seconds=30))] == ["GAD-1"]


async def test_a_sku_the_filter_cannot_carry_falls_back_to_a_full_read(stokly: StoklyClient, state: StoklyState,
                                                                       merchant: Merchant) -> None:
    state.add_item("ODD}SKU", "odd")
    assert [i.sku for i in await stokly.items(skus=["ODD}SKU", "WID-1"])] == ["WID-1", "ODD}SKU"]


async def test_locations_bins_and_stock_levels(stokly: StoklyClient, state: StoklyState, merchant: Merchant) -> None:
    assert [loc.name for loc in await stokly.locations()] == ["Warehouse", "Shop"]
    bins = await stokly.bins(merchant.warehouse)
    assert [(b.bin_id, b.default) for b in bins] == [(state.default_bin(merchant.warehouse).bin_id, True)]
    state.create_sale_order(merchant.channel, "1", [LineSpec(merchant.gadget, D(4))])
    levels = {(s.sku, s.location_id): s for s in await stokly.stock_levels()}
    assert levels[("GAD-1", merchant.warehouse)] == StockLevel(merchant.gadget, "GAD-1", merchant.warehouse, D(10),
                                                               D(0), D(4))
    assert levels[("GAD-1", merchant.warehouse)].available == 6
    shop_only = await stokly.stock_levels(location_id=merchant.shop)
    assert [(s.sku, s.on_hand) for s in shop_only] == [("GAD-1", 3)]


async def test_channels_listings_and_customers(stokly: StoklyClient, state: StoklyState, merchant: Merchant) -> None:
    listing = state.add_listing(merchant.channel, merchant.widget, reference_id="1234")
    state.remove_listing(state.add_listing(merchant.channel, merchant.gadget))
    channel = await stokly.channel(merchant.channel)
    assert (channel.type, channel.allocate_sold_location_id) == (5, merchant.warehouse)
    assert channel.inventory_location_ids == (merchant.warehouse,)
    assert [(ls.listing_id, ls.sku, ls.reference_id) for ls in await stokly.listings(merchant.channel)] == [
        (listing, "WID-1", "1234")]
    customer = await stokly.customer_by_barcode("MAG-C-1")
    assert customer is not None
    assert (customer.email, customer.name) == ("jane@example.com", "Jane Doe")
    assert await stokly.customer_by_barcode("MAG-C-2") is None


async def test_sale_orders_filters_and_lines(stokly: StoklyClient, state: StoklyState, clock: FakeClock,
                                             merchant: Merchant) -> None:
    early = state.create_sale_order(merchant.channel, "000000001", [LineSpec(merchant.kit, D(1), D(25), D(5))],
                                    customer_id=merchant.customer)
    clock.advance(3600)
    late = state.create_sale_order(None, "000000002", [LineSpec(merchant.widget, D(1))], source_type="other")
    assert [o.sale_order_id for o in await stokly.sale_orders()] == [early, late]
    window = await stokly.sale_orders(created_from=START, created_to=START + timedelta(minutes=30))
    assert [o.sale_order_id for o in window] == [early]
    assert [o.sale_order_id for o in await stokly.sale_orders(channel_id=merchant.channel)] == [early]
    by_ref = await stokly.sale_orders(source_reference_ids=["000000002", "000000003"])
    assert [o.sale_order_id for o in by_ref] == [late]
    assert by_ref[0].lines == ()
    assert by_ref[0].allocated_location_id is None
    full = await stokly.sale_order(early)
    assert (full.total, full.tax, full.allocated_location_id) == (D(30), D(5), merchant.warehouse)
    assert [(ln.sku, ln.quantity, ln.parent_id is None) for ln in full.lines] == [
        ("KIT-1", 1, True), ("WID-1", 1, False), ("GAD-1", 2, False)]


async def test_invoices_dispatches_and_credit_notes(stokly: StoklyClient, state: StoklyState, clock: FakeClock,
                                                    merchant: Merchant) -> None:
    so = state.create_sale_order(merchant.channel, "000000009", [LineSpec(merchant.widget, D(2), D(10), D(2))])
    state.dispatch(so, carrier="Royal Mail", tracking_number="RM1GB", tracking_url="https://rm.example/RM1GB")
    clock.advance(60)
    invoice_id = state.invoice(so)
    state.credit_note(CreditNoteSpec("MAG-CM-1", "GBP", (CreditLineSpec(merchant.widget, D(1), D(10), D(2)),),
                                     reference_id=invoice_id, shipping_tax=D("0.5"), refund_amount=D("12.5")))
    state.credit_note(CreditNoteSpec(None, "GBP", refund_amount=D(25), reference_type=0, barcode="GV-1"))
    [invoice] = await stokly.invoices(issued_from=START + timedelta(seconds=30))
    assert (invoice.sale_invoice_id, invoice.total, invoice.tax) == (invoice_id, D(24), D(4))
    assert await stokly.invoices(sale_order_id="nope") == []
    [dispatch] = await stokly.dispatches(since=START)
    assert (dispatch.sale_order_id, dispatch.tracking_number, dispatch.carrier) == (so, "RM1GB", "Royal Mail")
    assert await stokly.dispatches(since=START + timedelta(seconds=1)) == []
    assert [d.dispatch_id for d in await stokly.dispatches(sale_order_id=so)] == [dispatch.dispatch_id]
    [note] = await stokly.credit_notes()  # the voucher is not a VAT credit note
    assert (note.source_reference_id, note.amount, note.vat, note.reference_id) == (
        "MAG-CM-1", D("12.5"), D("2.5"), invoice_id)
    assert await stokly.credit_note_by_reference("MAG-CM-1") == note
    assert await stokly.credit_note_by_reference("MAG-CM-2") is None


async def test_paging_follows_the_count_when_the_server_pages_smaller(make_client: MakeClient, sim: StoklySimApp,
                                                                      state: StoklyState) -> None:
    sim.settings.update(max_page_size=7, default_page_size=7)
    ids = [state.add_item(f"P-{n}", "paged") for n in range(30)]
    assert [i.item_id for i in await make_client().items()] == ids


async def test_paging_across_1000_row_pages(make_client: MakeClient, state: StoklyState) -> None:
    ids = [state.add_item(f"BULK-{n}", "bulk") for n in range(2003)]
    assert [i.item_id for i in await make_client().items()] == ids


def paged_transport(pages: list[dict[str, object]]) -> httpx.MockTransport:
    """A Stokly stand-in answering the grant and then the given list pages in turn."""
    answers = iter(pages)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/grant":
            return httpx.Response(200, json={"data": {"authenticationResult": {
                "accessToken": "t", "expiry": "2999-01-01T00:00:00.000Z"}}})
        return httpx.Response(200, json=next(answers))

    return httpx.MockTransport(handle)


CREDS = StoklyCredentials("acme", "client", Secret("s"))
LOC = {"locationId": "l1", "name": "Warehouse", "status": 0}


async def test_an_empty_page_before_the_count_is_an_error_not_the_end(make_client: MakeClient) -> None:
    pages = [{"data": [LOC], "metadata": {"count": 3}}, {"data": [], "metadata": {"count": 3}}] * 4
    client = make_client(transport=paged_transport(pages), creds=CREDS)
    with pytest.raises(UpstreamError, match="changed while paging") as caught:
        await client.locations()
    assert caught.value.kind is ErrorKind.TRANSIENT


async def test_an_empty_listing_is_fine(make_client: MakeClient) -> None:
    client = make_client(transport=paged_transport([{"data": [], "metadata": {"count": 0}}]), creds=CREDS)
    assert await client.locations() == []
