"""The simulator's read-shape rules over real HTTP: confirmed-only, drop and rename, ``/_sim/shape``, scenarios."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.stokly.conftest import Merchant
from watchdog.commands.simulate import stokly_shape
from watchdog.simulators.embedded import DEFAULT_CREDENTIALS, EmbeddedSystems
from watchdog.simulators.merchant import build_merchant as build_scenario_merchant
from watchdog.simulators.scenario import ScenarioError, load_scenario
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly import CreditLineSpec, CreditNoteSpec, LineSpec, StoklySimApp, StoklyState, sign
from watchdog.simulators.stokly.settings import StoklySimSettings
from watchdog.simulators.stokly.shape import ShapeError, ShapeRules
from watchdog.simulators.stokly.views_sales import sale_order_json
from watchdog.stokly_assumed import READ_SHAPES, Evidence


@dataclass(frozen=True)
class Sales:
    order: str
    credit_note: str


@pytest.fixture
def sales(state: StoklyState, merchant: Merchant) -> Sales:
    """A listing, an order with a customer, dispatched with tracking, invoiced and credited."""
    state.add_listing(merchant.channel, merchant.widget, reference_id="1234")
    order = state.create_sale_order(merchant.channel, "000000009", [LineSpec(merchant.widget, D(2), D(10), D(2))],
                                    customer_id=merchant.customer, payments=[(4, D(24))])
    state.dispatch(order, carrier="Royal Mail", tracking_number="RM1GB", tracking_url="https://rm.example/RM1GB")
    invoice = state.invoice(order)
    note = state.credit_note(CreditNoteSpec("MAG-CM-1", "GBP", (CreditLineSpec(merchant.widget, D(1), D(10), D(2)),),
                                            reference_id=invoice, shipping_tax=D("0.5"), refund_amount=D("12.5")))
    return Sales(order, note)


@contextmanager
def _client(url: str, account: str, client_id: str, secret: str) -> Iterator[httpx.Client]:
    """A client on a served simulator, holding a valid token."""
    with httpx.Client(base_url=url, timeout=10) as client:
        grant = client.post("/v1/grant", json={"accountkey": account, "clientId": client_id,
                                               "signature": sign(client_id, secret)})
        client.headers["Authorization"] = f"Bearer {grant.json()['data']['authenticationResult']['accessToken']}"
        yield client


@pytest.fixture
def http(served: ServedApp, settings: StoklySimSettings) -> Iterator[httpx.Client]:
    """A client over real HTTP holding a valid token."""
    with _client(served.url, settings.account_key, settings.client_id, settings.client_secret) as client:
        yield client


def read_routes(m: Merchant, s: Sales) -> dict[str, str]:
    """Every read URL of the merchant -> the READ_SHAPES route that describes its records."""
    return {
        "/v0/items": "/v0/items", f"/v0/items/{m.widget}": "/v0/items", "/v0/variable-items": "/v0/items",
        "/v0/composing-items": "/v0/composing-items", f"/v0/items/{m.tee}/children": "/v0/items/{id}/children",
        "/v0/locations": "/v0/locations", f"/v0/locations/{m.warehouse}": "/v0/locations",
        f"/v0/locations/{m.warehouse}/bins": "/v0/locations/{id}/bins",
        "/v1/inventory-records": "/v1/inventory-records",
        "/v0/channels": "/v0/channels", f"/v0/channels/{m.channel}": "/v0/channels",
        f"/v0/channels/{m.channel}/listings": "/v0/channels/{id}/listings",
        "/v0/customers": "/v0/customers", f"/v0/customers/{m.customer}": "/v0/customers",
        "/v2/saleorders": "/v2/saleorders", f"/v2/saleorders/{s.order}": "/v2/saleorders",
        f"/v2/saleorders/{s.order}/items": "/v2/saleorders/{id}/items",
        "/v0/invoices": "/v0/invoices", f"/v2/saleorders/{s.order}/invoices": "/v0/invoices",
        "/v2/shipments": "/v2/shipments", f"/v2/saleorders/{s.order}/shipments": "/v2/shipments",
        "/v0/credit-notes": "/v0/credit-notes", f"/v0/credit-notes/{s.credit_note}": "/v0/credit-notes",
    }


def records(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text)
    data = response.json()["data"]
    return data if isinstance(data, list) else [data]


def found(node: Any, path: str) -> list[Any]:
    """The values at a READ_SHAPES path of a record (one per element for ``items[].x``); [] if absent."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        children = node.get(head[:-2]) if isinstance(node, dict) else None
        return [v for child in children or [] for v in found(child, rest)]
    if not isinstance(node, dict) or head not in node:
        return []
    return found(node[head], rest) if rest else [node[head]]


def snapshot(client: httpx.Client, urls: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    return {url: records(client, url) for url in urls}


def set_shape(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/_sim/shape", json=body)


# --------------------------------------------------------------------------- default mode


def test_by_default_every_read_shapes_route_and_field_is_served(http: httpx.Client, merchant: Merchant,
                                                                 sales: Sales) -> None:
    urls = read_routes(merchant, sales)
    assert set(urls.values()) == set(READ_SHAPES)
    for url, route in urls.items():
        rows = records(http, url)
        assert rows, url
        for f in READ_SHAPES[route]:
            assert any(found(row, f.path) for row in rows), (url, f.path)


def test_default_mode_serves_the_views_unchanged(http: httpx.Client, sim: StoklySimApp, state: StoklyState,
                                                 merchant: Merchant, sales: Sales) -> None:
    urls = read_routes(merchant, sales)
    before = snapshot(http, urls)
    expected = json.loads(json.dumps(sale_order_json(state, state.sale_order(sales.order))))
    assert records(http, f"/v2/saleorders/{sales.order}") == [expected]
    sim.settings.set_shape(ShapeRules(drop=frozenset({("/v0/customers", "email")})))
    others = {u: r for u, r in urls.items() if r != "/v0/customers"}
    assert snapshot(http, others) == {u: before[u] for u in others}
    sim.settings.set_shape(ShapeRules(confirmed_only=True))
    sim.settings.set_shape(ShapeRules())
    assert snapshot(http, urls) == before
    assert http.get("/_sim/shape").json() == {"confirmed_only": False, "drop": [], "rename": []}


# --------------------------------------------------------------------------- confirmed only


def test_confirmed_only_serves_every_confirmed_field_and_no_other(http: httpx.Client, merchant: Merchant,
                                                                  sales: Sales) -> None:
    urls = read_routes(merchant, sales)
    before = snapshot(http, urls)
    assert set_shape(http, {"confirmed_only": True}).status_code == 200
    after = snapshot(http, urls)
    for url, route in urls.items():
        assert len(after[url]) == len(before[url]), url
        for old, new in zip(before[url], after[url], strict=True):
            for f in READ_SHAPES[route]:
                if f.evidence is Evidence.CONFIRMED:
                    assert found(new, f.path) == found(old, f.path), (url, f.path)
                else:
                    assert found(new, f.path) == [], (url, f.path)


def test_shaping_changes_only_what_is_served_never_the_state_or_writes(http: httpx.Client, sim: StoklySimApp,
                                                                       state: StoklyState, merchant: Merchant,
                                                                       sales: Sales) -> None:
    sim.settings.set_shape(ShapeRules(confirmed_only=True))
    created = http.post("/v2/saleorders", json={
        "sourceId": merchant.channel, "sourceReferenceId": "000000010", "currency": "GBP",
        "items": [{"referenceId": merchant.widget, "quantity": 1, "displayPrice": 10, "displayTax": 2}]})
    assert created.status_code == 202, created.text
    new_id = created.json()["data"]["id"]
    assert "tax" not in records(http, f"/v2/saleorders/{new_id}")[0]
    assert state.sale_order(new_id).tax == D(2)
    assert state.sale_order(sales.order).tax == D(4)
    sim.settings.set_shape(ShapeRules())
    assert records(http, f"/v2/saleorders/{new_id}")[0]["tax"] == 2


# --------------------------------------------------------------------------- drop and rename


@pytest.mark.parametrize(("route", "path", "urls"), [
    ("/v2/saleorders", "tax", ["/v2/saleorders", "/v2/saleorders/{order}"]),
    ("/v0/credit-notes", "refund.amount", ["/v0/credit-notes", "/v0/credit-notes/{credit_note}"]),
    ("/v2/shipments", "items[].quantity", ["/v2/shipments", "/v2/saleorders/{order}/shipments"]),
], ids=["top-level", "nested", "list"])
def test_drop_and_rename_a_field(http: httpx.Client, sales: Sales, route: str, path: str, urls: list[str]) -> None:
    concrete = [u.format(order=sales.order, credit_note=sales.credit_note) for u in urls]
    before = {u: records(http, u) for u in concrete}
    ancestors = tuple(f"{f.path}{sep}" for f in READ_SHAPES[route] for sep in (".", "[]"))
    others = [f.path for f in READ_SHAPES[route] if f.path != path and not path.startswith(ancestors)]
    renamed = path.rsplit(".", 1)[0] + ".moved" if "." in path else "moved"

    assert set_shape(http, {"drop": [{"route": route, "field": path}]}).status_code == 200
    for url in concrete:
        for old, new in zip(before[url], records(http, url), strict=True):
            assert found(old, path)
            assert found(new, path) == []
            assert all(found(new, p) == found(old, p) for p in others), url

    answer = set_shape(http, {"rename": [{"route": route, "field": path, "to": "moved"}]})
    assert answer.json()["rename"] == [{"route": route, "field": path, "to": "moved"}]
    for url in concrete:
        for old, new in zip(before[url], records(http, url), strict=True):
            assert found(new, path) == [], url
            assert found(new, renamed) == found(old, path), url
            assert all(found(new, p) == found(old, p) for p in others), url


def test_a_renamed_field_is_served_even_when_only_confirmed_fields_are(http: httpx.Client, sales: Sales) -> None:
    set_shape(http, {"confirmed_only": True,
                     "rename": [{"route": "/v2/shipments", "field": "trackingNumber", "to": "tracking_no"}]})
    [shipment] = records(http, "/v2/shipments")
    assert shipment["tracking_no"] == "RM1GB"
    assert "trackingNumber" not in shipment
    assert "carrier" not in shipment


# --------------------------------------------------------------------------- the control route


def test_the_control_route_round_trips_the_active_rules(http: httpx.Client, sim: StoklySimApp) -> None:
    body = {"confirmed_only": True, "drop": [{"route": "/v2/saleorders", "field": "tax"}],
            "rename": [{"route": "/v2/shipments", "field": "trackingNumber", "to": "tracking_no"}]}
    assert set_shape(http, body).json() == body
    assert http.get("/_sim/shape").json() == body
    assert sim.settings.shape == ShapeRules(True, frozenset({("/v2/saleorders", "tax")}),
                                            {("/v2/shipments", "trackingNumber"): "tracking_no"})
    assert ("/v0/invoices", "total") in sim.settings.shape.withheld()


@pytest.mark.parametrize(("body", "named"), [
    ({"drop": [{"route": "/v9/nothing", "field": "tax"}]}, ["drop[0].route", "/v9/nothing"]),
    ({"drop": [{"route": "/v2/saleorders", "field": "taxx"}]}, ["drop[0].field", "taxx", "/v2/saleorders"]),
    ({"drop": [{"route": "/v2/saleorders/{id}", "field": "tax"}]}, ["/v2/saleorders/{id}"]),
    ({"rename": [{"route": "/v2/shipments", "field": "items[].nope", "to": "x"}]}, ["rename[0].field", "items[].nope"]),
    ({"rename": [{"route": "/v2/shipments", "field": "carrier"}]}, ["rename[0]", "to"]),
    ({"rename": [{"route": "/v2/shipments", "field": "carrier", "to": "a.b"}]}, ["rename[0].to"]),
    ({"drop": [{"route": "/v2/shipments", "field": "carrier"}],
      "rename": [{"route": "/v2/shipments", "field": "carrier", "to": "c"}]}, ["carrier", "dropped and renamed"]),
    ({"drop": {"route": "/v2/shipments"}}, ["drop", "array"]),
    ({"confirmed_only": "yes"}, ["confirmed_only"]),
    ({"confirmed": True}, ["confirmed", "unknown key"]),
    ([], ["shape", "object"]),
])
def test_the_control_route_refuses_bad_rules_naming_them(http: httpx.Client, body: Any, named: list[str]) -> None:
    set_shape(http, {"confirmed_only": True})
    answer = set_shape(http, body)
    assert answer.status_code == 400
    assert all(text in answer.json()["message"] for text in named), answer.text
    assert http.get("/_sim/shape").json()["confirmed_only"] is True


def test_rules_built_in_process_are_checked_too() -> None:
    with pytest.raises(ShapeError, match="taxx"):
        ShapeRules(drop=frozenset({("/v2/saleorders", "taxx")}))
    assert not ShapeRules().active
    assert ShapeRules(confirmed_only=True).active


def test_http_client_not_json_is_400(http: httpx.Client) -> None:
    answer = http.post("/_sim/shape", content=b"{nope")
    assert answer.status_code == 400
    assert "JSON" in answer.json()["message"] or "Expecting" in answer.json()["message"]


# --------------------------------------------------------------------------- scenarios


SCENARIO = """
[merchant]
simple_skus = 8
configurables = 0
bundles = 0
orders = 4
shipped_share = 1.0
refunded_share = 0.0
in_flight_orders = 0

[stokly.shape]
drop = [{route = "/v2/saleorders", field = "tax"}]
rename = [{route = "/v2/shipments", field = "trackingNumber", to = "tracking_no"}]
"""


def test_a_scenario_shape_is_applied_by_the_embedded_simulators(tmp_path: Path) -> None:
    path = tmp_path / "shape.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    spec = load_scenario(path)
    merchant = build_scenario_merchant(spec, datetime.now(UTC))
    c = DEFAULT_CREDENTIALS
    with EmbeddedSystems(merchant, stokly_shape=spec.stokly_shape) as systems, \
            _client(systems.stokly_url, c.stokly_account, c.stokly_client_id, c.stokly_client_secret) as client:
        assert client.get("/_sim/shape").json()["drop"] == [{"route": "/v2/saleorders", "field": "tax"}]
        orders, shipments = records(client, "/v2/saleorders"), records(client, "/v2/shipments")
    assert orders
    assert all("tax" not in o and "total" in o for o in orders)
    assert shipments
    assert all("trackingNumber" not in s and s["tracking_no"] for s in shipments)


def test_the_simulate_option_adds_confirmed_only_to_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "shape.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    spec = load_scenario(path)
    assert stokly_shape(spec, None) == spec.stokly_shape
    both = stokly_shape(spec, "confirmed-only")
    assert both == ShapeRules(True, spec.stokly_shape.drop, spec.stokly_shape.rename)


@pytest.mark.parametrize(("table", "named"), [
    ('[stokly.shape]\ndrop = [{route = "/v9/x", field = "tax"}]', "stokly.shape.drop[0].route"),
    ('[stokly.shape]\ndrop = [{route = "/v2/saleorders", field = "taxx"}]', "stokly.shape.drop[0].field"),
    ('[stokly.shape]\nrename = [{route = "/v2/shipments", field = "carrier"}]', "stokly.shape.rename[0]"),
    ('[stokly.shape]\nconfirmed_only = "yes"', "stokly.shape.confirmed_only"),
    ("[stokly.shape]\nkeep = []", "stokly.shape.keep"),
    ("[stokly.shaping]\nconfirmed_only = true", "stokly.shaping"),
    ('stokly = "confirmed"', "stokly"),
    ('stokly = {shape = "confirmed"}', "stokly.shape"),
])
def test_a_bad_scenario_shape_names_the_file_and_key(tmp_path: Path, table: str, named: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(table + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: {named}:"), caught.value
