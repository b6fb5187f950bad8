"""Which name in ``watchdog/stokly_assumed.py`` holds a field of ``READ_SHAPES``.

A fix says "correct ``SALE_ORDER.tax``", not just "the field tax": per route, the module-level
constants and field-name dataclasses that spell its keys, searched by the key's value (fields
inside a list element look in the ``*_ITEM`` names first). A key no name holds is spelled where
the connector reads it; the fix then names its ``READ_SHAPES`` entry.
"""

from __future__ import annotations

import dataclasses

from watchdog import stokly_assumed

__all__ = ["constant_for"]

#: Route -> the names in stokly_assumed that spell that route's assumed keys.
SOURCES: dict[str, tuple[str, ...]] = {
    "/v1/inventory-records": ("INVENTORY_ALLOCATED", "INVENTORY_AVAILABLE"),
    "/v0/channels": ("CHANNEL_ALLOCATE_SOLD_LOCATION",),
    "/v0/customers": ("CUSTOMER_EMAIL", "CUSTOMER_FULL_NAME"),
    "/v2/saleorders": ("SALE_ORDER",),
    "/v2/saleorders/{id}/items": ("LINE_QUANTITY_COLLECTED", "LINE_QUANTITY_DISPATCHED", "LINE_QUANTITY_CANCELLED"),
    "/v0/invoices": ("INVOICE_TOTAL", "INVOICE_TAX"),
    stokly_assumed.ACCOUNT_SHIPMENTS_PATH: ("SHIPMENT",),
    stokly_assumed.CREDIT_NOTES_PATH: ("CREDIT_NOTE", "CREDIT_NOTE_ITEM"),
}


def _matches(name: str, key: str) -> list[str]:
    """``name`` itself if it is a string constant spelling ``key``, or ``NAME.attr`` of a dataclass."""
    value = getattr(stokly_assumed, name, None)
    if isinstance(value, str):
        return [name] if value == key else []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [f"{name}.{f.name}" for f in dataclasses.fields(value) if getattr(value, f.name) == key]
    return []


def constant_for(route: str, path: str) -> str:
    """The stokly_assumed name spelling the last key of ``path`` on ``route``; "" when none does."""
    names = SOURCES.get(route, ())
    if "[]" in path:
        names = tuple(sorted(names, key=lambda n: not n.endswith("_ITEM")))
    key = path.rsplit(".", 1)[-1]
    for name in names:
        found = _matches(name, key)
        if found:
            return found[0]
    return ""
