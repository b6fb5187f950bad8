"""Stock arithmetic of the simulated account: allocation, collection, dispatch, cancellation, restock."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.stokly.conftest import Merchant
from watchdog.simulators.stokly import CreditLineSpec, CreditNoteSpec, Invalid, LineSpec, NotFound, StoklyState
from watchdog.stokly_assumed import LineStatus, OrderStage

D = Decimal


def levels(state: StoklyState, item_id: str, location_id: str) -> tuple[Decimal, Decimal, Decimal]:
    return state.on_hand(item_id, location_id), state.allocated(item_id, location_id), state.available(
        item_id, location_id)


def order(state: StoklyState, m: Merchant, ref: str = "000000001", kits: int = 1, widgets: int = 2) -> str:
    return state.create_sale_order(m.channel, ref, [
        LineSpec(m.widget, D(widgets), D("8.3333"), D("1.6667")),
        LineSpec(m.kit, D(kits), D("25"), D("5")),
    ], customer_id=m.customer)


def test_an_order_allocates_at_the_designated_location_including_kit_components(state: StoklyState,
                                                                                 merchant: Merchant) -> None:
    order(state, merchant, kits=2)
    assert levels(state, merchant.widget, merchant.warehouse) == (20, 4, 16)  # 2 + 2 kits x 1
    assert levels(state, merchant.gadget, merchant.warehouse) == (10, 4, 6)  # 2 kits x 2
    assert levels(state, merchant.gadget, merchant.shop) == (3, 0, 3)


def test_an_order_on_a_channel_without_designated_location_allocates_nothing(state: StoklyState,
                                                                              merchant: Merchant) -> None:
    state.set_allocate_sold_location(merchant.channel, None)
    so = order(state, merchant)
    assert state.sale_order(so).allocated_location_id is None
    assert state.allocations() == {}


def test_collect_deducts_on_hand_and_releases_the_allocation(state: StoklyState, merchant: Merchant) -> None:
    so = order(state, merchant)
    widget_line = state.sale_order(so).top_lines[0]
    state.collect(so, merchant.warehouse, {widget_line.line_id: 1})
    assert levels(state, merchant.widget, merchant.warehouse) == (19, 2, 17)
    assert state.sale_order(so).line(widget_line.line_id).status is LineStatus.PART_COLLECTED  # type: ignore[union-attr]
    state.collect(so, merchant.warehouse)  # the rest, kit included
    assert levels(state, merchant.widget, merchant.warehouse) == (17, 0, 17)
    assert levels(state, merchant.gadget, merchant.warehouse) == (8, 0, 8)
    assert {ln.status for ln in state.sale_order(so).lines} == {LineStatus.COLLECTED}


def test_collect_at_another_location_deducts_there(state: StoklyState, merchant: Merchant) -> None:
    so = order(state, merchant, widgets=1, kits=1)
    state.collect(so, merchant.shop, {state.sale_order(so).top_lines[1].line_id: 1})
    assert levels(state, merchant.gadget, merchant.shop) == (1, 0, 1)
    assert levels(state, merchant.gadget, merchant.warehouse) == (10, 0, 10)


def test_dispatch_collects_what_is_left_and_records_tracking(state: StoklyState, merchant: Merchant) -> None:
    so = order(state, merchant)
    shipment = state.dispatch(so, carrier="Royal Mail", tracking_number="RM1GB", service="Tracked 48")
    record = state.dispatch_record(shipment)
    assert (record.location_id, record.tracking_number, len(record.lines)) == (merchant.warehouse, "RM1GB", 2)
    assert levels(state, merchant.widget, merchant.warehouse) == (17, 0, 17)
    assert {ln.status for ln in state.sale_order(so).lines} == {LineStatus.DISPATCHED}
    with pytest.raises(Invalid, match="nothing left to dispatch"):
        state.dispatch(so, carrier="Royal Mail", tracking_number="RM2GB")


def test_cancelling_lines_releases_allocation_without_touching_stock(state: StoklyState, merchant: Merchant) -> None:
    so = order(state, merchant, widgets=2, kits=1)
    widget_line, kit_line = state.sale_order(so).top_lines
    state.cancel_lines(so, {widget_line.line_id: 2, kit_line.line_id: 1})
    assert levels(state, merchant.widget, merchant.warehouse) == (20, 0, 20)
    assert levels(state, merchant.gadget, merchant.warehouse) == (10, 0, 10)
    assert state.sale_order(so).line(widget_line.line_id).status is LineStatus.CANCELLED  # type: ignore[union-attr]
    with pytest.raises(Invalid, match="open quantity"):
        state.cancel_lines(so, {widget_line.line_id: 1})


def test_removing_an_order_releases_its_allocation(state: StoklyState, merchant: Merchant) -> None:
    so = order(state, merchant)
    state.update_sale_order(so, stage=OrderStage.REMOVED)
    assert state.allocated(merchant.widget) == 0
    with pytest.raises(Invalid, match="not open"):
        state.collect(so, merchant.warehouse)


def test_credit_note_with_restock_adds_stock_back(state: StoklyState, merchant: Merchant) -> None:
    so = order(state, merchant)
    state.dispatch(so, carrier="DPD", tracking_number="15501234")
    invoice = state.invoice(so)
    assert state.invoice_record(invoice).tax == D("1.6667") * 2 + 5
    spec = CreditNoteSpec("MAG-CM-000045", "GBP", (
        CreditLineSpec(merchant.widget, D(1), D("8.3333"), D("1.6667"), restock=True, location_id=merchant.warehouse),
        CreditLineSpec(merchant.gadget, D(1), D(0), D(0)),
    ), reference_id=invoice, shipping_tax=D("0.5"))
    note = state.credit_note_record(state.credit_note(spec))
    assert levels(state, merchant.widget, merchant.warehouse) == (18, 0, 18)
    assert levels(state, merchant.gadget, merchant.warehouse) == (8, 0, 8)  # not restocked
    assert (note.vat, note.amount) == (D("2.1667"), D("10.5"))
    assert state.credit_note_by_reference("MAG-CM-000045") == note


def test_movements_sum_to_on_hand(state: StoklyState, merchant: Merchant) -> None:
    so = order(state, merchant)
    state.dispatch(so, carrier="DPD", tracking_number="1")
    state.adjust(merchant.shop, {merchant.widget: 4, merchant.gadget: -1}, reason="count")
    for item in (merchant.widget, merchant.gadget):
        assert sum(m.quantity for m in state.movements(item)) == state.on_hand(item)


def test_domain_api_refusals(state: StoklyState, merchant: Merchant) -> None:
    with pytest.raises(Invalid, match="holds no stock"):
        state.adjust(merchant.warehouse, {merchant.kit: 1})
    with pytest.raises(Invalid, match="not a sellable item"):
        state.create_sale_order(merchant.channel, "1", [LineSpec(merchant.tee, D(1))])
    with pytest.raises(Invalid, match="already exists"):
        state.add_item("WID-1", "dupe")
    with pytest.raises(NotFound):
        state.create_sale_order("no-such-channel", "1", [LineSpec(merchant.widget, D(1))])
    with pytest.raises(Invalid, match="not a bin of that location"):
        state.adjust(merchant.shop, {merchant.widget: 1}, bin_id=state.default_bin(merchant.warehouse).bin_id)


def test_seeded_ids_make_runs_repeat(clock: object) -> None:
    first, second = StoklyState(seed=3), StoklyState(seed=3)
    assert first.add_location("A") == second.add_location("A")
    assert first.add_item("X", "x") == second.add_item("X", "x")


async def test_http_collect_and_lines_show_the_arithmetic(raw: httpx.AsyncClient, state: StoklyState,
                                                          merchant: Merchant) -> None:
    so = order(state, merchant)
    lines = (await raw.get(f"/v2/saleorders/{so}/items", params={"filter": "[parentId]=={@null;}"})).json()["data"]
    assert [ln["itemSku"] for ln in lines] == ["WID-1", "KIT-1"]
    response = await raw.post(f"/v2/saleorders/{so}/collect-items", json={
        "locationId": merchant.warehouse, "items": [{"lineId": lines[0]["lineId"], "quantity": 2}]})
    assert response.status_code == 202
    record = (await raw.get("/v1/inventory-records", params={
        "filter": f"[binId]=={{UNASSIGNED}}&&[locationId]=={{{merchant.warehouse}}}&&[itemSku]=={{WID-1}}"})).json()
    assert [(r["onHand"], r["allocated"], r["available"]) for r in record["data"]] == [(18, 1, 17)]
    orders = (await raw.get("/v2/saleorders", params={"filter": "[itemStatuses]::{collected}"})).json()
    assert [o["saleOrderId"] for o in orders["data"]] == [so]
