"""Contract tests: simulator answers and connector requests against Adobe's 2.4.8 schema subset."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from magento_kit import Contract, Recorder, make_client, oauth, v1_path

from watchdog.connectors.magento import ORDERS, ItemQty, ShipRequest
from watchdog.model import SourceItem, Track
from watchdog.simulators.magento import IntegrationCredentials, MagentoState, OrderItemSpec, SimClock

#: Operations of the subset the simulator does not serve (legacy stock API, online refund, bulk details).
NOT_SIMULATED = {
    "GetV1StockItemsProductSku", "PutV1ProductsProductSkuStockItemsItemId", "GetV1StockItemsLowStock",
    "GetV1StockStatusesProductSku", "PostV1InvoiceInvoiceIdRefund", "GetV1BulkBulkUuidDetailedstatus",
    "GetV1BulkBulkUuidOperationstatusStatus",
}


def check_all(contract: Contract, exchanges: list[Any]) -> set[str]:
    """Validate every recorded REST answer; returns the operation ids seen."""
    seen = set()
    for exchange in exchanges:
        path = v1_path(exchange.url)
        if path is None:
            continue  # /_sim/ control routes and the async bulk route (not in Adobe's schema)
        seen.add(contract.check_response(exchange.method, path, exchange.status, exchange.response_body,
                                        partial="fields" in exchange.url.params))
    return seen


def sc(field: str, value: Any, condition: str = "eq") -> dict[str, str]:
    prefix = "searchCriteria[filter_groups][0][filters][0]"
    return {f"{prefix}[field]": field, f"{prefix}[value]": str(value), f"{prefix}[condition_type]": condition}


async def tour(api: httpx.AsyncClient, state: MagentoState) -> None:
    """Touch every simulated operation, successes and refusals."""
    state.add_admin_user("ops", "pw")
    order_id = state.place_order([OrderItemSpec("MUG", 2), OrderItemSpec("TEE", 1, child_sku="TEE-S"),
                                  OrderItemSpec("DESKTOP", 1, selections=("RAM-24GB", "MONITOR-15"))])
    mug = next(i.item_id for i in state.orders[order_id].items if i.sku == "MUG")
    calls: list[tuple[str, str, Any]] = [
        ("POST", "/rest/V1/integration/admin/token", {"username": "ops", "password": "pw"}),
        ("POST", "/rest/V1/integration/admin/token", {"username": "ops", "password": "wrong"}),
        ("GET", "/rest/V1/products?searchCriteria[pageSize]=50", None),
        ("GET", "/rest/V1/products/DESKTOP", None), ("GET", "/rest/V1/products/TEE", None),
        ("GET", "/rest/V1/products/NOPE", None),
        ("GET", "/rest/V1/inventory/source-items?searchCriteria=all", None),
        ("POST", "/rest/V1/inventory/source-items",
         {"sourceItems": [{"sku": "MUG", "source_code": "wh1", "quantity": 40, "status": 1}]}),
        ("POST", "/rest/V1/inventory/source-items", {"sourceItems": [{"sku": "", "source_code": "wh1"}]}),
        ("POST", "/rest/V1/inventory/source-items-delete", {"sourceItems": [{"sku": "CABLE", "source_code": "wh1"}]}),
        ("GET", "/rest/V1/inventory/sources", None), ("GET", "/rest/V1/inventory/sources/wh1", None),
        ("GET", "/rest/V1/inventory/stocks", None), ("GET", "/rest/V1/inventory/stocks/1", None),
        ("GET", "/rest/V1/inventory/stock-source-links?searchCriteria=all", None),
        ("GET", "/rest/V1/inventory/stock-resolver/website/base", None),
        ("GET", "/rest/V1/inventory/get-product-salable-quantity/MUG/1", None),
        ("GET", "/rest/V1/inventory/get-product-salable-quantity/TEE/1", None),
        ("GET", "/rest/V1/inventory/is-product-salable/MUG/1", None),
        ("GET", "/rest/V1/inventory/is-product-salable-for-requested-qty/MUG/1/500", None),
        ("GET", "/rest/V1/inventory/are-products-salable?skus[0]=MUG&skus[1]=TEE-S&stockId=1", None),
        ("GET", "/rest/V1/orders?searchCriteria[pageSize]=10", None), ("GET", f"/rest/V1/orders/{order_id}", None),
        ("GET", "/rest/V1/orders/items?searchCriteria=all", None), ("GET", "/rest/V1/orders/77", None),
        ("POST", f"/rest/V1/orders/{order_id}/comments",
         {"statusHistory": {"comment": "ERP", "is_customer_notified": 0, "is_visible_on_front": 0,
                            "parent_id": order_id}}),
        ("GET", f"/rest/V1/orders/{order_id}/comments", None), ("GET", f"/rest/V1/orders/{order_id}/statuses", None),
        ("POST", f"/rest/V1/orders/{order_id}/hold", None), ("POST", f"/rest/V1/orders/{order_id}/unhold", None),
        ("POST", f"/rest/V1/orders/{order_id}/cancel", None),
        ("POST", f"/rest/V1/order/{order_id}/ship", {"items": [{"order_item_id": mug, "qty": 1}], "tracks": [
            {"track_number": "RM1", "title": "Royal Mail", "carrier_code": "custom"}]}),
        ("POST", f"/rest/V1/order/{order_id}/ship", {}), ("POST", f"/rest/V1/order/{order_id}/ship", {}),
        ("GET", "/rest/V1/shipments?searchCriteria=all", None), ("GET", "/rest/V1/shipment/1", None),
        ("POST", "/rest/V1/shipment/track", {"entity": {"order_id": order_id, "parent_id": 1, "track_number": "X1",
                                                        "title": "DPD", "carrier_code": "custom", "weight": 0,
                                                        "qty": 0, "description": ""}}),
        ("DELETE", "/rest/V1/shipment/track/2", None), ("DELETE", "/rest/V1/shipment/track/99", None),
        ("POST", f"/rest/V1/order/{order_id}/refund", {"items": [{"order_item_id": mug, "qty": 1}],
                                                      "arguments": {"shipping_amount": 0}}),
        ("POST", f"/rest/V1/order/{order_id}/refund", {"items": [{"order_item_id": mug, "qty": 9}]}),
        ("GET", "/rest/V1/creditmemos?searchCriteria=all", None), ("GET", "/rest/V1/creditmemo/1", None),
        ("POST", f"/rest/V1/order/{order_id}/invoice", {"capture": True}),
        ("GET", "/rest/V1/invoices?searchCriteria=all", None), ("GET", "/rest/V1/invoices/1", None),
    ]
    for method, path, body in calls:
        await api.request(method, path, json=body)
    bulk = await api.post("/rest/default/async/bulk/V1/inventory/source-items",
                          json=[{"sourceItems": [{"sku": "MUG", "source_code": "wh1", "quantity": 3, "status": 1}]}])
    await api.get(f"/rest/V1/bulk/{bulk.json()['bulk_uuid']}/status")


async def test_every_simulated_operation_answers_per_schema(api: httpx.AsyncClient, state: MagentoState,
                                                           contract: Contract) -> None:
    await tour(api, state)
    seen = check_all(contract, api.recorder.exchanges)  # type: ignore[attr-defined]
    every = {str(op.spec["operationId"]) for op in contract.operations}
    assert seen == every - NOT_SIMULATED


async def test_error_bodies_per_schema(api: httpx.AsyncClient, contract: Contract) -> None:
    for path in ("/rest/V1/orders", "/rest/V1/orders/0", "/rest/V1/orders/abc", "/rest/all/V1/orders/1"):
        await api.get(path)
    async with httpx.AsyncClient(transport=api._transport, base_url="https://magento.test") as anonymous:
        await anonymous.get("/rest/V1/orders/1")
    statuses = {e.status for e in api.recorder.exchanges}  # type: ignore[attr-defined]
    assert statuses >= {400, 401}
    check_all(contract, api.recorder.exchanges)  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.fromtimestamp(int(time.time()), UTC))


async def test_every_connector_request_and_answer_per_schema(app: Any, state: MagentoState,
                                                             creds: IntegrationCredentials, contract: Contract) -> None:
    state.add_admin_user("ops", "pw")
    order_id = state.place_order([OrderItemSpec("MUG", 3)])
    mug = state.orders[order_id].items[0].item_id
    recorder = Recorder(httpx.ASGITransport(app))
    async with make_client("https://magento.test", oauth(creds), transport=recorder, page_size=2) as client:
        from watchdog.secret import Secret

        await client.admin_token("ops", Secret("pw"))
        await client.products()
        await client.product("MUG")
        await client.sources()
        await client.source_items(skus=["MUG", "CABLE"])
        await client.save_source_items([SourceItem("MUG", "wh1", Decimal("40.5")),
                                        SourceItem("CABLE", "wh1", Decimal(0), 0)])
        await client.bulk_status(await client.save_source_items_bulk([SourceItem("MUG", "wh1", Decimal(41))]))
        await client.salable_qty("MUG", 1)
        await client.orders(updated_from=datetime(2020, 1, 1, tzinfo=UTC), states=["processing"])
        await client.order(order_id)
        assert [o.entity_id async for o in client.iter_changed(ORDERS, datetime(2020, 1, 1, tzinfo=UTC))] == [order_id]
        await client.add_comment(order_id, "Exported to Stokly")
        request = ShipRequest((ItemQty(mug, Decimal(1)),), (Track("RM1", "RM", "custom"),), "wh1", comment="Dispatched")
        shipment_id = await client.ship(order_id, request)
        await client.add_track(order_id, shipment_id, Track("RM2", "Royal Mail", "custom"))
        await client.shipments(order_id=order_id)
        await client.refund(order_id, [ItemQty(mug, Decimal(1))], shipping_amount=Decimal(0), return_to_stock=True)
        await client.credit_memos(order_id=order_id)
        await client.credit_memo(1)
        await client.invoices(order_id=order_id)
        other = state.place_order([OrderItemSpec("CABLE")], invoice=False)
        await client.create_invoice(other)
    requests = 0
    for exchange in recorder.exchanges:
        path = v1_path(exchange.url)
        if path is None:
            continue
        if exchange.method in ("POST", "PUT"):
            contract.check_request(exchange.method, path, exchange.request_body)
            requests += 1
        contract.check_response(exchange.method, path, exchange.status, exchange.response_body,
                                partial="fields" in exchange.url.params)
    assert requests == 7  # token, source items, comment, ship, track, refund, invoice
    assert all(e.status in (200, 202) for e in recorder.exchanges)
