"""JSON of catalogue and inventory entities, shaped like Magento's responses (sections 7, 13.1-13.3)."""

from __future__ import annotations

from typing import Any

from .core import StateCore
from .records import ZERO, ProductRec, SourceItemRec, SourceRec, StockRec
from .render import compact, num, ts

__all__ = ["link_json", "product_json", "product_row", "source_item_json", "source_json", "stock_json"]

STOCK_ITEM_REQUIRED = (
    "qty", "is_in_stock", "is_qty_decimal", "show_default_notification_message", "use_config_min_qty", "min_qty",
    "use_config_min_sale_qty", "min_sale_qty", "use_config_max_sale_qty", "max_sale_qty", "use_config_backorders",
    "backorders", "use_config_notify_stock_qty", "notify_stock_qty", "use_config_qty_increments", "qty_increments",
    "use_config_enable_qty_inc", "enable_qty_increments", "use_config_manage_stock", "manage_stock",
    "low_stock_date", "is_decimal_divided", "stock_status_changed_auto",
)


def product_row(p: ProductRec) -> dict[str, Any]:
    """The filterable columns of a product (the catalog collection)."""
    return {"entity_id": p.id, "id": p.id, "sku": p.sku, "name": p.name, "type_id": p.type_id,
            "price": num(p.price), "status": p.status, "visibility": p.visibility,
            "attribute_set_id": p.attribute_set_id, "created_at": ts(p.created_at),
            "updated_at": ts(p.updated_at), "weight": num(p.weight)}


def product_json(p: ProductRec, state: StateCore, *, with_stock_item: bool) -> dict[str, Any]:
    """A product; ``stock_item`` only on the single GET (magento/magento2#36533)."""
    ext: dict[str, Any] = {"website_ids": [1], "category_links": [{"position": 0, "category_id": "2"}]}
    if p.type_id == "bundle":
        ext["bundle_product_options"] = [_bundle_option(p, o) for o in p.bundle_options]
    if p.type_id == "configurable":
        ext["configurable_product_options"] = [{"id": p.id, "attribute_id": "93", "label": "Size",
                                                "position": 0, "values": [{"value_index": c} for c in p.child_ids],
                                                "product_id": p.id}]
        ext["configurable_product_links"] = list(p.child_ids)
    if with_stock_item:
        ext["stock_item"] = _stock_item(p, state)
    body = product_row(p)
    body.pop("entity_id")
    return {**body, "extension_attributes": ext, "product_links": [], "options": [], "media_gallery_entries": [],
            "tier_prices": [], "custom_attributes": _custom_attributes(p)}


def _custom_attributes(p: ProductRec) -> list[dict[str, Any]]:
    attrs = [{"attribute_code": "url_key", "value": p.sku.lower().replace(" ", "-")},
             {"attribute_code": "tax_class_id", "value": p.tax_class_id}]
    if p.type_id == "bundle":
        attrs += [{"attribute_code": "sku_type", "value": "0" if p.dynamic_sku else "1"},
                  {"attribute_code": "price_type", "value": "0"},
                  {"attribute_code": "shipment_type", "value": "0" if p.ship_together else "1"}]
    return attrs


def _bundle_option(p: ProductRec, option: Any) -> dict[str, Any]:
    links = [{"id": str(lk.id), "sku": lk.sku, "option_id": lk.option_id, "qty": num(lk.qty),
              "position": lk.position, "is_default": False, "price": num(lk.price), "price_type": None,
              "can_change_quantity": 0} for lk in option.links]
    return {"option_id": option.option_id, "title": option.title, "required": True, "type": "select",
            "position": option.position, "sku": p.sku, "product_links": links}


def _stock_item(p: ProductRec, state: StateCore) -> dict[str, Any]:
    """The legacy stock item: it mirrors the ``default`` source only (section 6.1)."""
    item = state.source_items.get((p.sku, "default"))
    qty = item.quantity if item else ZERO
    return compact(
        STOCK_ITEM_REQUIRED, item_id=p.id, product_id=p.id, stock_id=1, qty=num(qty),
        is_in_stock=bool(item and item.status == 1 and qty > 0), is_qty_decimal=False,
        show_default_notification_message=False, use_config_min_qty=True, min_qty=num(p.min_qty),
        use_config_min_sale_qty=1, min_sale_qty=1, use_config_max_sale_qty=True, max_sale_qty=10000,
        use_config_backorders=True, backorders=0, use_config_notify_stock_qty=True, notify_stock_qty=1,
        use_config_qty_increments=True, qty_increments=0, use_config_enable_qty_inc=True,
        enable_qty_increments=False, use_config_manage_stock=True, manage_stock=True, low_stock_date=None,
        is_decimal_divided=False, stock_status_changed_auto=0)


def source_item_json(item: SourceItemRec) -> dict[str, Any]:
    """``{"sku", "source_code", "quantity", "status"}``."""
    return {"sku": item.sku, "source_code": item.source_code, "quantity": num(item.quantity), "status": item.status}


def source_json(source: SourceRec) -> dict[str, Any]:
    """An MSI source (carrier links empty, default carrier config)."""
    return compact((), source_code=source.code, name=source.name, enabled=source.enabled,
                   country_id=source.country_id, postcode=source.postcode or None,
                   use_default_carrier_config=True, carrier_links=[])


def stock_json(stock: StockRec) -> dict[str, Any]:
    """A stock with its sales channels."""
    channels = [{"type": t, "code": c} for t, c in stock.channels]
    return {"stock_id": stock.stock_id, "name": stock.name, "extension_attributes": {"sales_channels": channels}}


def link_json(stock_id: int, source_code: str, priority: int) -> dict[str, Any]:
    """A stock-source link."""
    return {"stock_id": stock_id, "source_code": source_code, "priority": priority}
