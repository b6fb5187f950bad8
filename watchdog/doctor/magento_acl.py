"""The Magento ACL resource behind each route the service uses (reference/magento-api.md 3.3).

When Magento answers 401/403 its body usually names the resource (``parameters.resources``);
this table is the fallback and the list a person ticks in the admin. Products and bulk status
are not in the reference table: the first is confirmed from Magento_Catalog's webapi.xml, the
second is what the simulator uses (Magento's AsynchronousOperations admin resource).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["READ_ACL", "WRITE_ACL", "resource_named"]

READ_ACL: dict[str, str] = {
    "GET /V1/products": "Magento_Catalog::products",
    "GET /V1/inventory/sources": "Magento_InventoryApi::source",
    "GET /V1/inventory/source-items": "Magento_InventoryApi::source",
    "GET /V1/inventory/stocks/{stockId}": "Magento_InventoryApi::stock",
    "GET /V1/inventory/stock-source-links": "Magento_InventoryApi::stock_source_link",
    "GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}": "Magento_InventorySalesApi::stock",
    "GET /V1/orders": "Magento_Sales::actions_view",
    "GET /V1/orders/{id}": "Magento_Sales::actions_view",
    "GET /V1/shipments": "Magento_Sales::shipment",
    "GET /V1/creditmemos": "Magento_Sales::sales_creditmemo",
    "GET /V1/creditmemo/{id}": "Magento_Sales::sales_creditmemo",
    "GET /V1/invoices": "Magento_Sales::sales_invoice",
    "GET /V1/bulk/{bulkUuid}/status": "Magento_Logging::system_magento_logging_bulk_operations",
}

#: What the sync writes (doctor never calls these): route -> resource.
WRITE_ACL: dict[str, str] = {
    "POST /V1/inventory/source-items (and its async bulk twin)": "Magento_InventoryApi::stock_source_item_assign",
    "POST /V1/order/{orderId}/ship": "Magento_Sales::ship",
    "POST /V1/shipment/track": "Magento_Sales::shipment",
}


def resource_named(route: str, error_body: Any) -> str:
    """The resource Magento named in a 401/403 body, else the table's entry for ``route``."""
    params = error_body.get("parameters") if isinstance(error_body, Mapping) else None
    named = params.get("resources") if isinstance(params, Mapping) else None
    return named if isinstance(named, str) and named else READ_ACL.get(route, "an ACL resource")
