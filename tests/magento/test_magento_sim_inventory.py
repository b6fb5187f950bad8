"""MSI on the simulator: source items, reservations and salable quantity, async bulk, legacy stock item."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from watchdog.simulators.magento import MagentoError, MagentoState, OrderItemSpec, TrackSpec

D = Decimal


async def salable(api: httpx.AsyncClient, sku: str, stock_id: int = 1) -> object:
    response = await api.get(f"/rest/V1/inventory/get-product-salable-quantity/{sku}/{stock_id}")
    return response.json() if response.status_code == 200 else (response.status_code, response.json())


async def test_salable_follows_the_reservation_lifecycle(api: httpx.AsyncClient, state: MagentoState) -> None:
    assert await salable(api, "MUG") == 50
    order_id = state.place_order([OrderItemSpec("MUG", 3)])
    assert (state.source_qty("MUG", "wh1"), await salable(api, "MUG")) == (D(50), 47)  # reserved, not deducted
    mug = state.orders[order_id].items[0].item_id
    state.ship(order_id, {mug: 1})
    assert (state.source_qty("MUG", "wh1"), await salable(api, "MUG")) == (D(49), 47)  # deducted + compensated
    state.refund(order_id, {mug: 1}, shipping_amount=0)  # refund one never shipped: reservation released
    assert (state.source_qty("MUG", "wh1"), await salable(api, "MUG")) == (D(49), 48)
    state.ship(order_id)
    assert (state.source_qty("MUG", "wh1"), await salable(api, "MUG")) == (D(48), 48)
    events = [(r.event_type, r.quantity) for r in state.reservations_for("MUG")]
    assert events == [("order_placed", D(-3)), ("shipment_created", D(1)), ("creditmemo_created", D(1)),
                      ("shipment_created", D(1))]
    assert sum(q for _, q in events) == 0


async def test_cancel_gives_the_unshipped_quantity_back(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("CABLE", 4)], invoice=False)
    assert await salable(api, "CABLE") == 46
    assert (await api.post(f"/rest/V1/orders/{order_id}/cancel")).json() is True
    assert await salable(api, "CABLE") == 50
    assert state.order_json(order_id)["state"] == "canceled"
    assert (await api.post(f"/rest/V1/orders/{order_id}/cancel")).json() is False


async def test_refund_after_shipment_with_return_to_stock(state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 2)])
    state.ship(order_id)
    item = state.orders[order_id].items[0].item_id
    state.refund(order_id, {item: 1}, shipping_amount=0, return_to_stock_items=[item])
    assert state.source_qty("MUG", "wh1") == 49
    assert state.salable_qty("MUG") == 49


async def test_salable_counts_only_enabled_linked_in_stock_sources(api: httpx.AsyncClient, state: MagentoState) -> None:
    state.add_source("wh2")
    state.set_source_item("MUG", "wh2", 10)
    assert await salable(api, "MUG") == 50  # wh2 not linked to stock 1
    state.link_source(1, "wh2")
    assert await salable(api, "MUG") == 60
    state.set_source_item("MUG", "wh2", 10, status=0)
    assert await salable(api, "MUG") == 50
    state.set_source_item("MUG", "wh2", 10)
    state.set_source_enabled("wh2", False)
    assert await salable(api, "MUG") == 50
    state.add_simple("FLOOR", min_qty=2)
    state.set_source_item("FLOOR", "wh1", 5)
    assert await salable(api, "FLOOR") == 3
    assert await salable(api, "MUG", 9) == 0  # not in that stock


async def test_salable_errors(api: httpx.AsyncClient) -> None:
    assert await salable(api, "NOPE") == (404, {
        "message": "The product that was requested doesn't exist. Verify the product and try again."})
    assert await salable(api, "TEE") == (400, {
        "message": "Can't check requested quantity for products without Source Items support."})
    assert (await api.get("/rest/V1/inventory/is-product-salable/MUG/1")).json() is True
    answer = (await api.get("/rest/V1/inventory/are-products-salable",
                            params={"skus[0]": "MUG", "skus[1]": "NOPE", "stockId": "1"})).json()
    assert answer == [{"sku": "MUG", "stock_id": 1, "salable": True}, {"sku": "NOPE", "stock_id": 1, "salable": False}]
    too_many = (await api.get("/rest/V1/inventory/is-product-salable-for-requested-qty/MUG/1/51")).json()
    assert too_many == {"salable": False, "errors": [{"code": "is_salable_with_reservations-not_enough_qty",
                                                      "message": "Not enough items for sale"}]}


async def test_source_item_upsert_is_absolute_and_validated(api: httpx.AsyncClient, state: MagentoState) -> None:
    item = {"sku": "MUG", "source_code": "wh1", "quantity": 12.5, "status": 1}
    for _ in range(2):
        assert (await api.post("/rest/V1/inventory/source-items", json={"sourceItems": [item]})).json() == []
    assert state.source_qty("MUG", "wh1") == D("12.5")
    empty = await api.post("/rest/V1/inventory/source-items", json={"sourceItems": []})
    assert (empty.status_code, empty.json()) == (400, {"message": "Input data is empty"})
    one = await api.post("/rest/V1/inventory/source-items", json={"sourceItems": [{**item, "sku": ""}]})
    assert one.json() == {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}}
    two = await api.post("/rest/V1/inventory/source-items", json={"sourceItems": [{**item, "sku": "",
                                                                                     "quantity": "lots"}]})
    assert two.json() == {"message": 'Validation Failed: "sku" can not be empty.', "errors": [
        {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}},
        {"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}}]}
    unknown = await api.post("/rest/V1/inventory/source-items", json={"sourceItems": [{**item, "source_code": "zz"}]})
    assert unknown.json() == {"message": "Could not save Source Item"}
    status = await api.post("/rest/V1/inventory/source-items", json={"sourceItems": [{**item, "status": 7}]})
    assert status.json() == {"message": '"%field" should a known status.', "parameters": {"field": "status"}}
    deleted = await api.post("/rest/V1/inventory/source-items-delete",
                             json={"sourceItems": [{"sku": "MUG", "source_code": "wh1"}]})
    assert deleted.json() == []
    assert state.source_qty("MUG", "wh1") is None


async def test_async_bulk_applies_every_operation(api: httpx.AsyncClient, state: MagentoState) -> None:
    body = [{"sourceItems": [{"sku": "MUG", "source_code": "wh1", "quantity": 9, "status": 1}]},
            {"sourceItems": [{"sku": "", "source_code": "wh1", "quantity": 9, "status": 1}]}]
    response = await api.post("/rest/default/async/bulk/V1/inventory/source-items", json=body)
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["errors"] is False
    assert [r["status"] for r in accepted["request_items"]] == ["accepted"] * 2
    status = (await api.get(f"/rest/V1/bulk/{accepted['bulk_uuid']}/status")).json()
    assert [op["status"] for op in status["operations_list"]] == [1, 3]
    assert status["operations_list"][1]["result_message"] == '"sku" can not be empty.'
    assert status["operation_count"] == 2
    assert state.source_qty("MUG", "wh1") == 9
    missing = await api.get("/rest/V1/bulk/00000000-0000-4000-8000-000000000000/status")
    assert missing.status_code == 404


async def test_stock_item_only_on_the_single_product_get(api: httpx.AsyncClient, state: MagentoState) -> None:
    state.set_source_item("MUG", "default", 4)
    single = (await api.get("/rest/V1/products/MUG")).json()
    assert single["extension_attributes"]["stock_item"]["qty"] == 4
    assert single["extension_attributes"]["stock_item"]["low_stock_date"] is None  # required getter: null kept
    listed = (await api.get("/rest/V1/products", params={
        "searchCriteria[filter_groups][0][filters][0][field]": "sku",
        "searchCriteria[filter_groups][0][filters][0][value]": "MUG"})).json()
    assert listed["total_count"] == 1
    assert "stock_item" not in listed["items"][0]["extension_attributes"]


async def test_sources_stocks_and_links(api: httpx.AsyncClient) -> None:
    sources = (await api.get("/rest/V1/inventory/sources")).json()
    assert [s["source_code"] for s in sources["items"]] == ["default", "wh1"]
    assert (await api.get("/rest/V1/inventory/sources/wh1")).json()["name"] == "Warehouse 1"
    missing = await api.get("/rest/V1/inventory/sources/zz")
    assert missing.json() == {"message": 'Source with code "%value" does not exist.', "parameters": {"value": "zz"}}
    links = (await api.get("/rest/V1/inventory/stock-source-links?searchCriteria=all")).json()
    assert [(lk["source_code"], lk["priority"]) for lk in links["items"]] == [("default", 1), ("wh1", 2)]
    resolved = (await api.get("/rest/V1/inventory/stock-resolver/website/base")).json()
    assert resolved["stock_id"] == 1


def test_deduction_failure_changes_nothing(state: MagentoState) -> None:
    state.set_source_item("MUG", "wh1", 1)
    order_id = state.place_order([OrderItemSpec("MUG", 2)])
    with pytest.raises(MagentoError) as caught:
        state.ship(order_id, tracks=[TrackSpec("RM1")], source_code="wh1")
    assert (caught.value.status, caught.value.body()) == (400, {
        "message": "Could not save a shipment, see error log for details"})
    assert state.source_qty("MUG", "wh1") == 1
    assert not state.shipments
    assert not state.tracks
    assert state.order_json(order_id)["items"][0]["qty_shipped"] == 0
