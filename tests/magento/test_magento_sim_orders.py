"""Orders on the simulator: state machine, ship/refund/invoice validation and effects, composite lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from watchdog.simulators.magento import (
    BundleOptionSpec,
    CustomerSpec,
    MagentoError,
    MagentoState,
    OrderItemSpec,
    ShippingSpec,
)

D = Decimal
ALREADY_SHIPPED = {"message": "Shipment Document Validation Error(s):\nThe order does not allow a shipment to be "
                              "created.\nYou can't create a shipment without products."}


def item_id(state: MagentoState, order_id: int, sku: str, product_type: str | None = None) -> int:
    return next(i.item_id for i in state.orders[order_id].items
                if i.sku == sku and (product_type is None or i.product_type == product_type))


async def ship(api: httpx.AsyncClient, order_id: int, body: dict[str, Any] | None = None) -> httpx.Response:
    return await api.post(f"/rest/V1/order/{order_id}/ship", json=body or {})


def lines(state: MagentoState, order_id: int) -> list[tuple[str, str, Any, Any]]:
    return [(i["sku"], i["product_type"], i["qty_ordered"], i["qty_shipped"])
            for i in state.order_json(order_id)["items"]]


async def test_totals_with_several_vat_rates_and_shipping(state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 2, tax_percent=20), OrderItemSpec("CABLE", 1, tax_percent=5)],
                                 customer=CustomerSpec("c@example.com", "Carl", "Jones", customer_id=42),
                                 shipping=ShippingSpec(D("4.50"), 20))
    order = state.order_json(order_id)
    assert (order["subtotal"], order["tax_amount"], order["shipping_incl_tax"], order["grand_total"]) == (
        21, 4.35, 5.4, 29.85)  # 16 + 3.20 VAT, 5 + 0.25 VAT, shipping 4.50 + 0.90 VAT
    assert (order["customer_id"], order["customer_is_guest"]) == (42, 0)
    assert [(t["percent"], t["amount"]) for t in order["extension_attributes"]["applied_taxes"]] == [(5, 0.25),
                                                                                                     (20, 4.1)]
    assert order["payment"]["cc_last4"] is None
    assert "account_status" in order["payment"]
    assert "customer_dob" not in order
    assert "ext_order_id" not in order
    guest = state.order_json(state.place_order([OrderItemSpec("MUG")]))
    assert guest["customer_is_guest"] == 1
    assert "customer_id" not in guest


async def test_state_machine(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 2)], invoice=False)
    assert state.order_json(order_id)["state"] == "new"
    assert (await ship(api, order_id)).status_code == 200
    assert state.order_json(order_id)["state"] == "processing"  # shipped, not invoiced
    assert (await api.post(f"/rest/V1/order/{order_id}/invoice", json={"capture": True})).status_code == 200
    assert (state.order_json(order_id)["state"], state.order_json(order_id)["status"]) == ("complete", "complete")
    state.refund(order_id)
    assert state.order_json(order_id)["state"] == "closed"


async def test_already_shipped_answers_the_exact_multi_line_400(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 1)])
    assert (await ship(api, order_id)).json() == 1
    for body in ({}, {"items": [{"order_item_id": item_id(state, order_id, "MUG"), "qty": 1}]}):
        again = await ship(api, order_id, body)
        assert (again.status_code, again.json()) == (400, ALREADY_SHIPPED)


async def test_partial_shipments_then_a_second_shipment(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 3), OrderItemSpec("CABLE", 1)])
    mug = item_id(state, order_id, "MUG")
    first = await ship(api, order_id, {"items": [{"order_item_id": mug, "qty": 1}],
                                       "tracks": [{"track_number": "RM1", "title": "Royal Mail",
                                                   "carrier_code": "custom"}],
                                       "arguments": {"extension_attributes": {"source_code": "wh1"}}})
    assert first.status_code == 200
    assert state.order_json(order_id)["state"] == "processing"
    second = await ship(api, order_id, {"items": [{"order_item_id": mug, "qty": 2}]})  # no "already exists" check
    assert second.json() == 2
    assert lines(state, order_id) == [("MUG", "simple", 3, 3), ("CABLE", "simple", 1, 0)]
    listed = (await api.get("/rest/V1/shipments", params={
        "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
        "searchCriteria[filter_groups][0][filters][0][value]": str(order_id)})).json()
    assert listed["total_count"] == 2
    assert listed["items"][0]["tracks"][0]["track_number"] == "RM1"
    assert listed["items"][0]["extension_attributes"] == {"source_code": "wh1"}
    assert listed["items"][0]["tracks"][0]["weight"] is None  # required getter kept as null


async def test_over_shipping_is_clamped_or_rejected(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 2)])
    mug = item_id(state, order_id, "MUG")
    state.configure(over_ship="reject")
    refused = await ship(api, order_id, {"items": [{"order_item_id": mug, "qty": 5}]})
    assert refused.json() == {"message": "Shipment Document Validation Error(s):\nThe quantity to ship must not be "
                                         'greater than the unshipped quantity for product SKU "MUG".'}
    state.configure(over_ship="clamp")
    assert (await ship(api, order_id, {"items": [{"order_item_id": mug, "qty": 5}]})).status_code == 200
    assert lines(state, order_id) == [("MUG", "simple", 2, 2)]


async def test_ship_refusals_in_validation_order(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 1)])
    assert (await api.post(f"/rest/V1/orders/{order_id}/hold")).json() is True
    held = await ship(api, order_id, {"tracks": [{"track_number": "", "title": "x", "carrier_code": "custom"}]})
    assert held.json() == {"message": "Shipment Document Validation Error(s):\nA shipment cannot be created when an "
                                      "order has a status of holded\nPlease enter a tracking number."}
    assert (await api.post(f"/rest/V1/orders/{order_id}/unhold")).json() is True
    again = await api.post(f"/rest/V1/orders/{order_id}/unhold")
    assert again.json() == {"message": "You cannot remove the hold."}
    pending = state.place_order([OrderItemSpec("MUG", 1)], invoice=False)
    state.cancel(pending)
    canceled = await ship(api, pending)
    assert canceled.json() == {"message": "Shipment Document Validation Error(s):\nA shipment cannot be created when "
                                          "an order has a status of canceled\nYou can't create a shipment without "
                                          "products."}
    assert (await api.post(f"/rest/V1/orders/{pending}/hold")).json() == {"message": "A hold action is not available."}


async def test_configurable_ships_by_parent_and_the_child_follows(api: httpx.AsyncClient,
                                                                  state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("TEE", 2, child_sku="TEE-M")])
    order = state.order_json(order_id)
    parent, child = order["items"]
    assert (parent["sku"], parent["product_type"], child["sku"], child["parent_item_id"]) == (
        "TEE-M", "configurable", "TEE-M", parent["item_id"])
    assert child["parent_item"]["sku"] == "TEE-M"
    assert child["parent_item"]["item_id"] == parent["item_id"]
    child_only = await ship(api, order_id, {"items": [{"order_item_id": child["item_id"], "qty": 1}]})
    assert "You can't create a shipment without products." in child_only.json()["message"]
    assert (await ship(api, order_id, {"items": [{"order_item_id": parent["item_id"], "qty": 1}]})).status_code == 200
    assert lines(state, order_id) == [("TEE-M", "configurable", 2, 1), ("TEE-M", "simple", 2, 1)]
    assert state.source_qty("TEE-M", "wh1") == 49  # deducted once, not twice
    shipment = state.shipments_json(order_id)[0]
    assert [(i["sku"], i["qty"]) for i in shipment["items"]] == [("TEE-M", 1)]


async def test_dynamic_sku_bundle_ships_together(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("DESKTOP", 1, selections=("RAM-12GB", "MONITOR-15"))])
    assert [(sku, kind) for sku, kind, _, _ in lines(state, order_id)] == [
        ("DESKTOP-RAM-12GB-MONITOR-15", "bundle"), ("RAM-12GB", "simple"), ("MONITOR-15", "simple")]
    parent = item_id(state, order_id, "DESKTOP-RAM-12GB-MONITOR-15")
    assert (await ship(api, order_id, {"items": [{"order_item_id": parent, "qty": 1}]})).status_code == 200
    assert [shipped for _, _, _, shipped in lines(state, order_id)] == [1, 1, 1]
    assert (state.source_qty("RAM-12GB", "wh1"), state.source_qty("MONITOR-15", "wh1")) == (49, 49)
    assert state.salable_qty("RAM-12GB") == 49
    state.add_bundle("KIT", [BundleOptionSpec("Cable", ("CABLE",), qty=2)], dynamic_sku=False)
    kit_order = state.place_order([OrderItemSpec("KIT", 3, price=D(12), selections=("CABLE",))])
    assert [(sku, qty) for sku, _, qty, _ in lines(state, kit_order)] == [("KIT", 3), ("CABLE", 6)]


async def test_refund_before_and_after_shipment(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 2), OrderItemSpec("CABLE", 1)], shipping=ShippingSpec(5, 20))
    mug, cable = item_id(state, order_id, "MUG"), item_id(state, order_id, "CABLE")
    before = await api.post(f"/rest/V1/order/{order_id}/refund", json={
        "items": [{"order_item_id": cable, "qty": 1}], "arguments": {"shipping_amount": 0}})
    memo = state.credit_memos_json(order_id)[0]
    assert before.json() == memo["entity_id"]
    assert (memo["state"], memo["grand_total"], memo["tax_amount"], memo["shipping_amount"]) == (2, 6, 1, 0)
    assert state.salable_qty("CABLE") == 50  # never shipped: reservation released
    assert lines(state, order_id)[1] == ("CABLE", "simple", 1, 0)
    await ship(api, order_id)
    assert lines(state, order_id) == [("MUG", "simple", 2, 2), ("CABLE", "simple", 1, 0)]
    after = await api.post(f"/rest/V1/order/{order_id}/refund", json={
        "items": [{"order_item_id": mug, "qty": 2}], "arguments": {"shipping_amount": 5}})
    assert after.status_code == 200
    last = state.credit_memos_json(order_id)[-1]
    assert (last["grand_total"], last["tax_amount"], last["shipping_incl_tax"]) == (25.2, 4.2, 6)  # 16+3.20 + 5+1
    order = state.order_json(order_id)
    assert (order["state"], order["total_refunded"]) == ("closed", 31.2)
    closed = await api.post(f"/rest/V1/order/{order_id}/refund", json={"items": []})
    assert closed.json() == {"message": "Creditmemo Document Validation Error(s):\nA creditmemo can not be created "
                                        "when an order has a status of closed"}


async def test_refund_refusals(api: httpx.AsyncClient, state: MagentoState) -> None:
    unpaid = state.place_order([OrderItemSpec("MUG", 1)], invoice=False)
    response = await api.post(f"/rest/V1/order/{unpaid}/refund", json={})
    assert response.json() == {"message": "Creditmemo Document Validation Error(s):\nThe order does not allow a "
                                          "creditmemo to be created."}
    paid = state.place_order([OrderItemSpec("MUG", 1)])
    mug = item_id(state, paid, "MUG")
    too_many = await api.post(f"/rest/V1/order/{paid}/refund", json={"items": [{"order_item_id": mug, "qty": 3}]})
    assert too_many.json()["message"] == ("Creditmemo Document Validation Error(s):\nThe quantity to creditmemo must "
                                          'not be greater than the unrefunded quantity for product SKU "MUG".')
    too_much = await api.post(f"/rest/V1/order/{paid}/refund", json={
        "items": [{"order_item_id": mug, "qty": 1}], "arguments": {"adjustment_positive": 100}})
    assert too_much.json()["message"].endswith("The most money available to refund is 15.6.")


async def test_invoices(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 2)], invoice=False)
    mug = item_id(state, order_id, "MUG")
    partial = await api.post(f"/rest/V1/order/{order_id}/invoice", json={"capture": True,
                                                                         "items": [{"order_item_id": mug, "qty": 1}]})
    assert partial.status_code == 200
    over = await api.post(f"/rest/V1/order/{order_id}/invoice", json={"items": [{"order_item_id": mug, "qty": 5}]})
    assert over.json() == {"message": "Invoice Document Validation Error(s):\nThe quantity to invoice must not be "
                                      'greater than the uninvoiced quantity for product SKU "MUG".'}
    assert (await api.post(f"/rest/V1/order/{order_id}/invoice", json={})).status_code == 200
    done = await api.post(f"/rest/V1/order/{order_id}/invoice", json={})
    assert done.json()["message"].startswith("Invoice Document Validation Error(s):\nThe order does not allow an "
                                             "invoice to be created.")
    invoices = state.invoices_json(order_id)
    assert [(i["state"], i["grand_total"]) for i in invoices] == [(2, 15.6), (2, 9.6)]  # shipping on the first
    assert state.order_json(order_id)["total_paid"] == 25.2


async def test_comments(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG")])
    history = {"comment": "Exported to ERP as SO-1", "is_customer_notified": 0, "is_visible_on_front": 0,
               "parent_id": order_id}
    assert (await api.post(f"/rest/V1/orders/{order_id}/comments", json={"statusHistory": history})).json() is True
    foreign = await api.post(f"/rest/V1/orders/{order_id}/comments",
                             json={"statusHistory": {**history, "status": "complete"}})
    assert foreign.json() == {"message": 'Unable to add comment: The status "%1" is not part of the order status '
                                         "history.", "parameters": ["complete"]}
    listed = (await api.get(f"/rest/V1/orders/{order_id}/comments")).json()
    assert listed["total_count"] == 1
    assert listed["items"][0]["comment"] == "Exported to ERP as SO-1"
    assert (await api.get(f"/rest/V1/orders/{order_id}/statuses")).json() == "processing"


async def test_tracks_on_an_existing_shipment(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG")])
    shipment_id = state.ship_manually(order_id)
    entity = {"order_id": order_id, "parent_id": shipment_id, "track_number": "1Z9", "title": "UPS",
              "carrier_code": "ups", "weight": 0, "qty": 0, "description": ""}
    saved = (await api.post("/rest/V1/shipment/track", json={"entity": entity})).json()
    assert (saved["parent_id"], saved["track_number"]) == (shipment_id, "1Z9")
    wrong = await api.post("/rest/V1/shipment/track", json={"entity": {**entity, "order_id": order_id + 1}})
    assert wrong.json() == {"message": "Could not save the shipment tracking."}
    assert (await api.delete(f"/rest/V1/shipment/track/{saved['entity_id']}")).json() is True
    assert (await api.get(f"/rest/V1/shipment/{shipment_id}")).json()["tracks"] == []


async def test_ids_may_come_back_as_strings(api: httpx.AsyncClient, state: MagentoState) -> None:
    state.configure(ids_as_strings=True)
    order_id = state.place_order([OrderItemSpec("MUG")])
    assert (await ship(api, order_id)).json() == "1"


def test_domain_api_misuse_is_a_value_error(state: MagentoState) -> None:
    with pytest.raises(ValueError, match="unknown product"):
        state.place_order([OrderItemSpec("NOPE")])
    with pytest.raises(ValueError, match="not a variant"):
        state.place_order([OrderItemSpec("TEE", child_sku="MUG")])
    with pytest.raises(ValueError, match="one selection per option"):
        state.place_order([OrderItemSpec("DESKTOP", selections=("RAM-12GB",))])
    with pytest.raises(MagentoError):
        state.ship(999)


def test_runs_repeat_given_the_seed(state: MagentoState) -> None:
    def credentials(seed: int) -> object:
        return MagentoState(seed=seed, clock=state.clock).add_integration("x")

    assert credentials(3) == credentials(3)
    assert credentials(3) != credentials(4)
