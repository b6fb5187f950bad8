"""Handlers: admin token and products."""

from __future__ import annotations

from typing import Any

from .routing import ApiRoute, Call, route
from .views_catalog import product_json, product_row

__all__ = ["ROUTES"]

PRODUCTS = "Magento_Catalog::products"


@route("POST", "/V1/integration/admin/token", None)
def admin_token(call: Call) -> str:
    """A JSON string token, or 401 / 400 (2FA)."""
    return call.state.issue_admin_token(str(call.arg("username")), str(call.arg("password")))


@route("GET", "/V1/products", PRODUCTS)
def products(call: Call) -> dict[str, Any]:
    """Product search; list items carry no ``stock_item`` (magento/magento2#36533)."""
    items = list(call.state.products.values())
    return call.search([product_row(p) for p in items],
                       lambda i: product_json(items[i], call.state, with_stock_item=False))


@route("GET", "/V1/products/:sku", PRODUCTS)
def product(call: Call) -> dict[str, Any]:
    """One product with its legacy ``stock_item``; 404 with the ProductRepository text."""
    return product_json(call.state.product_or_404(call.params["sku"]), call.state, with_stock_item=True)


ROUTES: list[ApiRoute] = [admin_token, products, product]
