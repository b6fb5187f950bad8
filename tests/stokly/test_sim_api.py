"""The simulator's REST surface: envelopes, paging, sorting, filters, errors, writes, control routes."""

from __future__ import annotations

import httpx
import pytest

from tests.stokly.conftest import FakeClock, Merchant
from watchdog.simulators.faults import FaultRule
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly import StoklySimApp, StoklyState
from watchdog.stokly_assumed import CHANNEL_ALLOCATE_SOLD_LOCATION, INVENTORY_ALLOCATED, INVENTORY_AVAILABLE


@pytest.fixture
def many_items(state: StoklyState) -> list[str]:
    return [state.add_item(f"SKU-{n:04d}", f"Item {n}") for n in range(25)]


async def test_list_envelope_counts_all_matches_and_pages_from_zero(raw: httpx.AsyncClient,
                                                                      many_items: list[str]) -> None:
    first = (await raw.get("/v0/items", params={"size": 10, "page": 0, "sortField": "sku"})).json()
    last = (await raw.get("/v0/items", params={"size": 10, "page": 2, "sortField": "sku"})).json()
    past = (await raw.get("/v0/items", params={"size": 10, "page": 3})).json()
    assert first["metadata"] == {"count": 25}
    assert len(first["data"]) == 10
    assert [r["sku"] for r in first["data"]][:2] == ["SKU-0000", "SKU-0001"]
    assert [r["sku"] for r in last["data"]] == [f"SKU-{n:04d}" for n in range(20, 25)]
    assert past == {"data": [], "metadata": {"count": 25}}


async def test_pages_cover_every_record_once_across_boundaries(raw: httpx.AsyncClient, many_items: list[str]) -> None:
    seen = []
    for page in range(4):
        body = (await raw.get("/v0/items", params={"size": 7, "page": page})).json()
        seen += [r["itemId"] for r in body["data"]]
    assert seen == many_items


async def test_default_size_is_100_and_size_is_clamped_to_1000(raw: httpx.AsyncClient, state: StoklyState) -> None:
    for n in range(1005):
        state.add_item(f"B-{n}", "bulk")
    assert len((await raw.get("/v0/items")).json()["data"]) == 100
    body = (await raw.get("/v0/items", params={"size": 5000})).json()
    assert len(body["data"]) == 1000
    assert body["metadata"]["count"] == 1005


async def test_sort_descending_and_filter_together(raw: httpx.AsyncClient, many_items: list[str]) -> None:
    body = (await raw.get("/v0/items", params={
        "filter": "[sku]=*{SKU-0003,SKU-0001,SKU-0002}", "sortField": "sku", "sortDirection": "DESC"})).json()
    assert [r["sku"] for r in body["data"]] == ["SKU-0003", "SKU-0002", "SKU-0001"]
    assert body["metadata"]["count"] == 3


@pytest.mark.parametrize("params", [
    {"filter": "[sku]=={A"}, {"page": "-1"}, {"size": "0"}, {"size": "ten"}, {"sortDirection": "UP"},
])
async def test_bad_list_parameters_are_400_with_a_message(raw: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await raw.get("/v0/items", params=params)
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


async def test_unknown_id_and_route_are_404_not_found(raw: httpx.AsyncClient) -> None:
    for path in ("/v0/items/00000000-0000-4000-8000-000000000000", "/v9/nothing"):
        response = await raw.get(path)
        assert (response.status_code, response.json()) == (404, {"message": "Not found"})


async def test_create_answers_202_with_id_and_ignores_unknown_fields(raw: httpx.AsyncClient,
                                                                      state: StoklyState) -> None:
    response = await raw.post("/v0/items", json={"sku": "NEW-1", "name": "New", "format": 0, "colour": "red"})
    assert response.status_code == 202
    item_id = response.json()["data"]["id"]
    assert state.item(item_id).sku == "NEW-1"
    assert (await raw.get(f"/v0/items/{item_id}")).json()["data"]["sku"] == "NEW-1"


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/v0/items", {"name": "No sku"}, "sku is required"),
    ("/v2/saleorders", {"currency": "GBP"}, "items is required"),
    ("/v2/saleorders", {"items": [{"referenceId": "x", "quantity": 1}]}, "currency is required"),
    ("/v1/adjustments", {"items": []}, "locationId is required"),
    ("/v0/customers", {"barcode": "X"}, "name is required"),
])
async def test_validation_failures_are_400_field_is_required(raw: httpx.AsyncClient, merchant: Merchant, path: str,
                                                             body: dict[str, object], message: str) -> None:
    response = await raw.post(path, json=body)
    assert (response.status_code, response.json()) == (400, {"message": message})


async def test_every_response_carries_the_remaining_header(raw: httpx.AsyncClient, sim: StoklySimApp) -> None:
    sim.faults.add(FaultRule("status", route="GET /v0/locations$", status=503, count=1))
    responses = [await raw.get("/v0/locations"), await raw.get("/v0/items"), await raw.get("/nope"),
                 await raw.post("/v0/items", json={}), await raw.get("/v0/items", headers={"Authorization": ""})]
    assert [r.status_code for r in responses] == [503, 200, 404, 400, 401]
    assert all(r.headers["x-ratelimit-remaining"].isdigit() for r in responses)
    assert responses[0].json() == {"message": "Internal server error"}


async def test_inventory_records_have_bin_location_and_account_rows(raw: httpx.AsyncClient, state: StoklyState,
                                                                    merchant: Merchant) -> None:
    rows = (await raw.get("/v1/inventory-records", params={"filter": f"[itemId]=={{{merchant.gadget}}}"})).json()
    by_level = {(r["locationId"] == "UNASSIGNED", r["binId"] == "UNASSIGNED"): r for r in rows["data"]}
    assert rows["metadata"]["count"] == 5  # two bins, two locations, one account row
    assert by_level[(True, True)]["onHand"] == 13
    loc_rows = [r for r in rows["data"] if r["binId"] == "UNASSIGNED" and r["locationId"] != "UNASSIGNED"]
    assert {r["locationName"]: r["onHand"] for r in loc_rows} == {"Warehouse": 10, "Shop": 3}
    assert all(INVENTORY_ALLOCATED in r and INVENTORY_AVAILABLE in r for r in loc_rows)
    bin_rows = [r for r in rows["data"] if r["binId"] != "UNASSIGNED"]
    assert {r["binId"] for r in bin_rows} == {state.default_bin(merchant.warehouse).bin_id,
                                              state.default_bin(merchant.shop).bin_id}


async def test_channel_and_default_bin_shapes(raw: httpx.AsyncClient, merchant: Merchant) -> None:
    channel = (await raw.get(f"/v0/channels/{merchant.channel}")).json()["data"]
    assert (channel["type"], channel[CHANNEL_ALLOCATE_SOLD_LOCATION]) == (5, merchant.warehouse)
    bins = (await raw.get(f"/v0/locations/{merchant.warehouse}/bins", params={"filter": "[default]=={1}"})).json()
    assert bins["metadata"]["count"] == 1
    assert bins["data"][0]["status"] == "active"


async def test_customer_found_by_barcode_or_email(raw: httpx.AsyncClient, merchant: Merchant) -> None:
    for where in ("[barcode]=={@string;MAG-C-1}", "[email]=={jane@example.com}"):
        body = (await raw.get("/v0/customers", params={"filter": where})).json()
        assert [c["customerId"] for c in body["data"]] == [merchant.customer]


async def test_writes_become_visible_after_the_consistency_delay(raw: httpx.AsyncClient, sim: StoklySimApp,
                                                                 clock: FakeClock) -> None:
    sim.settings.update(consistency_delay_s=5.0)
    created = await raw.post("/v0/items", json={"sku": "LATE-1", "name": "Late"})
    item_id = created.json()["data"]["id"]
    assert created.status_code == 202
    assert (await raw.get(f"/v0/items/{item_id}")).status_code == 404
    clock.advance(5)
    assert (await raw.get(f"/v0/items/{item_id}")).json()["data"]["sku"] == "LATE-1"


async def test_a_deferred_write_that_fails_is_dropped_and_recorded(raw: httpx.AsyncClient, sim: StoklySimApp,
                                                                   clock: FakeClock, merchant: Merchant) -> None:
    sim.settings.update(consistency_delay_s=1.0)
    response = await raw.post("/v2/saleorders", json={
        "currency": "GBP", "sourceId": merchant.channel, "items": [{"referenceId": "nope", "quantity": 1}]})
    assert response.status_code == 202
    clock.advance(2)
    summary = (await raw.get("/_sim/state")).json()
    assert summary["saleorders"] == 0
    assert summary["rejectedWrites"] == ["sale order: Not found"]


async def test_control_routes_are_outside_the_api(raw: httpx.AsyncClient, sim: StoklySimApp) -> None:
    raw.headers.pop("Authorization")
    location = (await raw.post("/_sim/locations", json={"name": "Depot"})).json()
    await raw.post("/_sim/items", json={"sku": "CTL-1", "name": "Control"})
    stock = (await raw.post("/_sim/stock", json={"sku": "CTL-1", "locationId": location["id"], "quantity": 4})).json()
    assert stock["onHand"] == 4
    assert "x-ratelimit-remaining" not in (await raw.get("/_sim/state")).headers
    settings = (await raw.post("/_sim/settings", json={"rate_limit": 50})).json()
    assert settings["rate_limit"] == 50
    assert "client_secret" not in settings
    assert (await raw.post("/_sim/settings", json={"client_secret": "x"})).status_code == 400
    assert (await raw.post("/_sim/settings", json={"rate_limit": "many"})).status_code == 400


async def test_control_routes_drive_a_whole_order_over_real_http(served: ServedApp, state: StoklyState) -> None:
    async with httpx.AsyncClient(base_url=served.url) as sim:
        warehouse = (await sim.post("/_sim/locations", json={"name": "Warehouse"})).json()["id"]
        await sim.post("/_sim/bins", json={"locationId": warehouse, "name": "A-01"})
        await sim.post("/_sim/items", json={"sku": "W", "name": "Widget"})
        await sim.post("/_sim/items", json={"sku": "G", "name": "Gadget"})
        await sim.post("/_sim/items", json={"sku": "K", "components": [{"sku": "W", "quantity": 1},
                                                                        {"sku": "G", "quantity": 2}]})
        await sim.post("/_sim/stock", json={"sku": "W", "locationId": warehouse, "quantity": 10})
        await sim.post("/_sim/stock", json={"sku": "G", "locationId": warehouse, "delta": 10})
        channel = (await sim.post("/_sim/channels", json={"name": "Magento"})).json()["id"]
        await sim.post(f"/_sim/channels/{channel}/designated-location", json={"locationId": warehouse})
        await sim.post("/_sim/listings", json={"channelId": channel, "sku": "K", "referenceId": "55"})
        customer = (await sim.post("/_sim/customers", json={"forename": "A", "barcode": "C1"})).json()["id"]
        order = (await sim.post("/_sim/saleorders", json={
            "channelId": channel, "sourceReferenceId": "100", "customerId": customer,
            "lines": [{"sku": "K", "quantity": 2, "price": 20, "tax": 4}, {"sku": "W", "quantity": 1}]})).json()["id"]
        assert (await sim.get("/_sim/stock", params={"sku": "G", "locationId": warehouse})).json()["allocated"] == 4
        kit_line = state.sale_order(order).top_lines[0].line_id
        await sim.post(f"/_sim/saleorders/{order}/collect", json={"locationId": warehouse, "lines": {kit_line: 1}})
        await sim.post(f"/_sim/saleorders/{order}/cancel", json={})
        shipment = await sim.post(f"/_sim/saleorders/{order}/dispatch", json={"carrier": "DPD", "trackingNumber": "9"})
        invoice = (await sim.post(f"/_sim/saleorders/{order}/invoice", json={})).json()["id"]
        await sim.post("/_sim/credit-notes", json={
            "sourceReferenceId": "MAG-CM-1", "invoiceId": invoice,
            "lines": [{"sku": "G", "quantity": 2, "restock": True, "locationId": warehouse}]})
        stock = (await sim.get("/_sim/stock", params={"sku": "G", "locationId": warehouse})).json()
        summary = (await sim.get("/_sim/state")).json()
        unknown = await sim.post(f"/_sim/saleorders/{order}/explode", json={})
    assert shipment.status_code == 200
    assert stock == {"itemId": state.item_id_for("G"), "locationId": warehouse, "onHand": 10, "allocated": 0,
                     "available": 10}  # 10 - 2 collected + 2 restocked; the rest cancelled
    assert (summary["saleorders"], summary["shipments"], summary["invoices"], summary["creditNotes"]) == (1, 1, 1, 1)
    assert unknown.status_code == 404
