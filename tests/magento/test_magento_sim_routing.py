"""Routing, store codes, ACL and error bodies of the simulator."""

from __future__ import annotations

import json

import httpx
import pytest

from watchdog.simulators.magento import IntegrationCredentials, MagentoState, OrderItemSpec
from watchdog.simulators.magento.errors import render_fault

ROUTE_404 = {"message": "Request does not match any route."}


async def test_unknown_route_and_wrong_verb_are_404(api: httpx.AsyncClient) -> None:
    assert (await api.get("/rest/V1/nothing-here")).json() == ROUTE_404
    response = await api.delete("/rest/V1/orders/1")
    assert response.status_code == 404
    assert response.json() == ROUTE_404
    assert (await api.get("/rest/mars/V1/orders/1")).status_code == 404  # unknown store code


async def test_store_codes(api: httpx.AsyncClient, state: MagentoState) -> None:
    order_id = state.place_order([OrderItemSpec("MUG")])
    assert (await api.get(f"/rest/default/V1/orders/{order_id}")).status_code == 200
    response = await api.get(f"/rest/all/V1/orders/{order_id}")
    assert response.status_code == 400
    assert response.json() == {"message": "Cannot perform GET operation with store code 'all'"}
    write = await api.post("/rest/all/V1/inventory/source-items",
                           json={"sourceItems": [{"sku": "MUG", "source_code": "wh1", "quantity": 3, "status": 1}]})
    assert write.status_code == 200
    assert write.json() == []


@pytest.mark.parametrize(("method", "path", "resource"), [
    ("GET", "/rest/V1/orders/1", "Magento_Sales::actions_view"),
    ("POST", "/rest/V1/order/1/ship", "Magento_Sales::ship"),
    ("GET", "/rest/V1/shipments?searchCriteria=all", "Magento_Sales::shipment"),
    ("POST", "/rest/V1/order/1/refund", "Magento_Sales::creditmemo"),
    ("GET", "/rest/V1/creditmemos?searchCriteria=all", "Magento_Sales::sales_creditmemo"),
    ("POST", "/rest/V1/inventory/source-items", "Magento_InventoryApi::stock_source_item_assign"),
    ("GET", "/rest/V1/inventory/source-items?searchCriteria=all", "Magento_InventoryApi::source"),
    ("GET", "/rest/V1/inventory/get-product-salable-quantity/MUG/1", "Magento_InventorySalesApi::stock"),
    ("GET", "/rest/V1/products?searchCriteria=all", "Magento_Catalog::products"),
])
async def test_missing_or_invalid_token_is_401_naming_the_acl_resource(app: object, method: str, path: str,
                                                                        resource: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://magento.test") as anonymous:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = await anonymous.request(method, path, headers=headers, json={})
            assert response.status_code == 401
            assert response.json() == {"message": "The consumer isn't authorized to access %resources.",
                                       "parameters": {"resources": resource}}


async def test_an_integration_without_the_resource_is_refused(app: object, state: MagentoState) -> None:
    limited = state.add_integration("stock-only", resources=["Magento_InventoryApi::source"])
    headers = {"Authorization": f"Bearer {limited.access_token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://magento.test",
                                 headers=headers) as client:
        assert (await client.get("/rest/V1/inventory/source-items?searchCriteria=all")).status_code == 200
        assert (await client.get("/rest/V1/orders?searchCriteria=all")).status_code == 401


async def test_entity_errors(api: httpx.AsyncClient) -> None:
    entity = {"message": "The entity that was requested doesn't exist. Verify the entity and try again."}
    for path in ("/rest/V1/orders/99", "/rest/V1/shipment/99", "/rest/V1/creditmemo/99", "/rest/V1/invoices/99"):
        response = await api.get(path)
        assert (response.status_code, response.json()) == (404, entity), path
    zero = await api.get("/rest/V1/orders/0")
    assert (zero.status_code, zero.json()) == (400, {"message": "An ID is needed. Set the ID and try again."})
    text = await api.get("/rest/V1/orders/abc")
    assert text.json() == {"message": 'The "abc" value\'s type is invalid. The "int" type was expected. '
                                      "Verify and try again."}
    product = await api.get("/rest/V1/products/NOPE")
    assert (product.status_code, product.json()) == (404, {
        "message": "The product that was requested doesn't exist. Verify the product and try again."})


async def test_sku_with_a_slash_travels_percent_encoded(api: httpx.AsyncClient, state: MagentoState) -> None:
    state.add_simple("BOX/2")
    response = await api.get("/rest/V1/products/BOX%2F2")
    assert response.status_code == 200
    assert response.json()["sku"] == "BOX/2"


async def test_bad_json_body_is_a_400(api: httpx.AsyncClient) -> None:
    response = await api.post("/rest/V1/inventory/source-items", content=b"{nope",
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"message": "Decoding error."}


async def test_missing_body_argument(api: httpx.AsyncClient) -> None:
    response = await api.post("/rest/V1/inventory/source-items", json={})
    assert response.json() == {"message": '"%fieldName" is required. Enter and try again.',
                               "parameters": {"fieldName": "sourceItems"}}


def test_fault_bodies_look_like_magento_and_its_web_server() -> None:
    body, kind = render_fault(500, "abc123")
    assert json.loads(body) == {"message": "Internal Error. Details are available in Magento log file. "
                                           "Report ID: webapi-abc123"}
    assert kind == "application/json"
    assert json.loads(render_fault(429)[0]) == {"message": "Too Many Requests", "trace": None}
    html, kind = render_fault(503)
    assert kind.startswith("text/html")
    assert b"Service Temporarily Unavailable" in html


async def test_injected_faults_use_the_magento_renderer(api: httpx.AsyncClient, app: object) -> None:
    injector = app.injector  # type: ignore[attr-defined]
    response = await api.post("/_sim/faults", json={"kind": "rate_limit", "route": "GET /rest/V1/orders",
                                                    "retry_after": 3, "count": 1})
    assert response.status_code == 201
    assert injector.rules()
    limited = await api.get("/rest/V1/orders?searchCriteria=all")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json() == {"message": "Too Many Requests", "trace": None}
    assert (await api.get("/rest/V1/orders?searchCriteria=all")).status_code == 200


async def test_control_plane(api: httpx.AsyncClient, state: MagentoState, creds: IntegrationCredentials) -> None:
    await api.post("/_sim/products", json={"sku": "PEN", "price": 2})
    await api.post("/_sim/source-items", json={"sku": "PEN", "source_code": "wh1", "quantity": 4})
    placed = (await api.post("/_sim/orders", json={"items": [{"sku": "PEN", "qty": 3, "tax_percent": 5}]})).json()
    shipped = await api.post(f"/_sim/orders/{placed['entity_id']}/ship",
                             json={"manual": True, "tracks": [{"track_number": "RM1"}]})
    assert shipped.status_code == 200
    summary = (await api.get("/_sim/state")).json()
    assert summary["source_items"]["PEN"] == {"wh1": 1}
    assert summary["orders"]["by_state"] == {"complete": 1}
    settings = (await api.post("/_sim/settings", json={"ids_as_strings": True})).json()
    assert settings["ids_as_strings"] is True
    assert state.settings.ids_as_strings
    bad = await api.post("/_sim/settings", json={"no_such": 1})
    assert bad.status_code == 400
    assert "unknown setting" in bad.json()["message"]
    refused = await api.post(f"/_sim/orders/{placed['entity_id']}/ship", json={})
    assert refused.status_code == 400
    assert "does not allow a shipment" in refused.json()["message"]
