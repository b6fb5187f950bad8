"""``/_sim/...``: the simulator's control plane (NOT part of Magento's API).

Scenarios, the demo's trading simulation and people drive the store through these routes; each
maps onto one method of ``MagentoState``. Bodies are JSON; answers are JSON. A misuse answers
400 ``{"message": ...}``; a Magento-side refusal answers what the REST API would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import MagentoError
from .render import json_response
from .specs import AddressSpec, BundleOptionSpec, CustomerSpec, OrderItemSpec, ShippingSpec, SimClock, TrackSpec
from .state import MagentoState

__all__ = ["control_routes"]

Action = Callable[[MagentoState, dict[str, Any], dict[str, str]], Any]


def _endpoint(state: MagentoState, action: Action) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        try:
            raw = await request.body()
            payload = json.loads(raw) if raw else {}
            if not isinstance(payload, dict):
                raise TypeError("expected a JSON object")
            return json_response(action(state, payload, dict(request.path_params)))
        except MagentoError as exc:
            return json_response(exc.body(), exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"message": f"{type(exc).__name__}: {exc}"}, 400)

    return handle


def _settings(state: MagentoState, payload: dict[str, Any], _: dict[str, str]) -> Any:
    return (state.configure(**payload) if payload else state.settings).to_json()


def _clock(state: MagentoState, payload: dict[str, Any], _: dict[str, str]) -> Any:
    if not isinstance(state.clock, SimClock):
        raise TypeError("this store runs on the wall clock")
    if "now" in payload:
        state.clock.set(datetime.fromisoformat(str(payload["now"])))
    else:
        state.clock.advance(float(payload.get("advance_s", 0)))
    return {"now": state.now().isoformat()}


def _product(state: MagentoState, p: dict[str, Any], _: dict[str, str]) -> Any:
    kind, sku, name = p.get("type", "simple"), str(p["sku"]), p.get("name")
    price = Decimal(str(p.get("price", "10")))
    if kind == "configurable":
        return {"id": state.add_configurable(sku, list(p["children"]), name, price=price)}
    if kind == "bundle":
        options = [BundleOptionSpec(str(o["title"]), tuple(o["skus"]), Decimal(str(o.get("qty", 1))))
                   for o in p["options"]]
        return {"id": state.add_bundle(sku, options, name, dynamic_sku=bool(p.get("dynamic_sku", True)),
                                       ship_together=bool(p.get("ship_together", True)), price=price)}
    return {"id": state.add_simple(sku, name, price=price, min_qty=Decimal(str(p.get("min_qty", 0))),
                                   type_id=kind)}


def _order(state: MagentoState, p: dict[str, Any], _: dict[str, str]) -> Any:
    items = [OrderItemSpec(str(i["sku"]), Decimal(str(i.get("qty", 1))),
                           Decimal(str(i["price"])) if i.get("price") is not None else None,
                           Decimal(str(i.get("tax_percent", 20))), i.get("child_sku"), tuple(i.get("selections", ())))
             for i in p["items"]]
    customer = CustomerSpec(**p["customer"]) if p.get("customer") else None
    fields: dict[str, Any] = {k: tuple(v) if k == "street" else v for k, v in (p.get("address") or {}).items()}
    address = AddressSpec(**fields) if fields else None
    shipping = ShippingSpec(**p["shipping"]) if p.get("shipping") else None
    order_id = state.place_order(items, customer=customer, address=address, shipping=shipping,
                                 stock_id=int(p.get("stock_id", 1)), invoice=bool(p.get("invoice", True)),
                                 currency=str(p.get("currency", "GBP")))
    return {"entity_id": order_id, "increment_id": state.orders[order_id].increment_id}


def _qty_map(raw: Any) -> dict[int, Decimal] | None:
    return {int(k): Decimal(str(v)) for k, v in raw.items()} if raw else None


def _ship(state: MagentoState, p: dict[str, Any], path: dict[str, str]) -> Any:
    tracks = [TrackSpec(str(t["track_number"]), str(t.get("title", "Royal Mail")), str(t.get("carrier_code", "custom")))
              for t in p.get("tracks", [])]
    method = state.ship_manually if p.get("manual") else state.ship
    return {"entity_id": method(int(path["id"]), _qty_map(p.get("items")), tracks=tracks,
                                source_code=p.get("source_code"))}


def _refund(state: MagentoState, p: dict[str, Any], path: dict[str, str]) -> Any:
    shipping = p.get("shipping_amount")
    return {"entity_id": state.refund(int(path["id"]), _qty_map(p.get("items")),
                                      shipping_amount=None if shipping is None else Decimal(str(shipping)),
                                      return_to_stock_items=[int(i) for i in p.get("return_to_stock_items", [])])}


def _integration(state: MagentoState, p: dict[str, Any], _: dict[str, str]) -> Any:
    creds = state.add_integration(str(p.get("name", "stokly")), resources=p.get("resources"))
    return {"name": creds.name, "consumer_key": creds.consumer_key, "consumer_secret": creds.consumer_secret,
            "access_token": creds.access_token, "access_token_secret": creds.access_token_secret}


ACTIONS: list[tuple[str, str, Action]] = [
    ("/_sim/state", "GET", lambda s, p, _: s.summary()),
    ("/_sim/settings", "GET", _settings),
    ("/_sim/settings", "POST", _settings),
    ("/_sim/clock", "POST", _clock),
    ("/_sim/sources", "POST", lambda s, p, _: s.add_source(str(p["code"]), p.get("name"),
                                                           enabled=bool(p.get("enabled", True)))),
    ("/_sim/stocks", "POST", lambda s, p, _: s.add_stock(int(p["stock_id"]), str(p["name"]),
                                                         channels=[tuple(c) for c in p.get("channels", [])])),
    ("/_sim/links", "POST", lambda s, p, _: s.link_source(int(p["stock_id"]), str(p["source_code"]),
                                                          p.get("priority"))),
    ("/_sim/products", "POST", _product),
    ("/_sim/source-items", "POST", lambda s, p, _: s.set_source_item(
        str(p["sku"]), str(p["source_code"]), Decimal(str(p["quantity"])), int(p.get("status", 1)))),
    ("/_sim/orders", "POST", _order),
    ("/_sim/orders/{id:int}/invoice", "POST", lambda s, p, a: {"entity_id": s.create_invoice(
        int(a["id"]), _qty_map(p.get("items")))}),
    ("/_sim/orders/{id:int}/ship", "POST", _ship),
    ("/_sim/orders/{id:int}/refund", "POST", _refund),
    ("/_sim/orders/{id:int}/cancel", "POST", lambda s, p, a: {"canceled": s.cancel(int(a["id"]))}),
    ("/_sim/integrations", "POST", _integration),
    ("/_sim/admin-users", "POST", lambda s, p, _: s.add_admin_user(str(p["username"]), str(p["password"]))),
    ("/_sim/reservations", "GET", lambda s, p, _: [
        {"sku": r.sku, "stock_id": r.stock_id, "quantity": r.quantity, "event_type": r.event_type,
         "object_id": r.object_id} for r in s.reservations_for()]),
]


def control_routes(state: MagentoState) -> list[Route]:
    """The ``/_sim/`` routes bound to ``state``."""
    return [Route(path, _endpoint(state, action), methods=[method]) for path, method, action in ACTIONS]
