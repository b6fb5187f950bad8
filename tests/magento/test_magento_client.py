"""The Magento connector against the simulator (in-process and over real HTTP) and crafted bodies."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from magento_kit import Recorder, bearer, make_client, oauth

from watchdog.connectors.http import ErrorKind, MalformedResponse, UpstreamError
from watchdog.connectors.magento import (
    CREDIT_MEMOS,
    ORDERS,
    PRODUCT_FIELDS,
    SHIPMENTS,
    BearerToken,
    ItemQty,
    SearchFilter,
    ShipRequest,
    is_already_shipped,
)
from watchdog.model import SourceItem, Track
from watchdog.secret import Secret
from watchdog.simulators.magento import IntegrationCredentials, MagentoState, OrderItemSpec, SimClock
from watchdog.simulators.serve import ServedApp

BASE = "https://magento.test"
D = Decimal


def queries(recorder: Recorder, path: str) -> list[dict[str, str]]:
    return [dict(parse_qsl(e.url.query.decode())) for e in recorder.exchanges if e.url.path == path]


async def test_paging_stops_on_total_count_across_page_boundaries(app: Any, state: MagentoState,
                                                                  creds: IntegrationCredentials) -> None:
    recorder = Recorder(httpx.ASGITransport(app))
    async with make_client(BASE, bearer(creds), transport=recorder, page_size=3) as client:
        products = await client.products()
        assert len(products) == 9  # 7 simples, the configurable, the bundle
        assert [q["searchCriteria[currentPage]"] for q in queries(recorder, "/rest/V1/products")] == ["1", "2", "3"]
        state.add_simple("EXTRA")
        assert len(await client.products()) == 10
        assert len(queries(recorder, "/rest/V1/products")) == 3 + 4  # 10 items: 4 pages, none past the end
    tee = next(p for p in products if p.sku == "TEE")
    desktop = next(p for p in products if p.sku == "DESKTOP")
    assert tee.configurable_children == ("TEE-S", "TEE-M")
    assert (desktop.dynamic_sku, desktop.bundle_children) == (True, ("RAM-12GB", "RAM-24GB", "MONITOR-15"))
    # only what parse_product reads came over the wire
    assert {q["fields"] for q in queries(recorder, "/rest/V1/products")} == {PRODUCT_FIELDS}
    [first, *_] = [e.response_body for e in recorder.exchanges if e.url.path == "/rest/V1/products"]
    assert set(first) == {"items", "total_count"}
    assert all("price" not in item and "media_gallery_entries" not in item for item in first["items"])


async def test_magento_23_repeating_the_last_page_is_harmless() -> None:
    """Magento 2.3 answers a page past the end with the last page again; we never ask for one."""
    rows = [{"sku": f"S{i}", "source_code": "wh1", "quantity": i, "status": 1} for i in range(5)]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["searchCriteria[currentPage]"])
        size = int(request.url.params["searchCriteria[pageSize]"])
        last = -(-len(rows) // size)
        start = (min(page, last) - 1) * size  # 2.3 behaviour: past the end, the last page again
        body = {"items": rows[start:start + size], "search_criteria": {"filter_groups": []}, "total_count": 5}
        return httpx.Response(200, json=body)

    async with make_client(BASE, BearerToken(Secret("t")), transport=httpx.MockTransport(handler),
                           page_size=2) as client:
        items = await client.source_items()
    assert [i.sku for i in items] == ["S0", "S1", "S2", "S3", "S4"]


async def test_source_items_filter_by_source_and_sku_batches(app: Any, state: MagentoState,
                                                             creds: IntegrationCredentials) -> None:
    state.add_simple("A,B")
    state.set_source_item("A,B", "wh1", 2)
    state.set_source_item("MUG", "default", 1)
    recorder = Recorder(httpx.ASGITransport(app))
    skus = ["mug", "A,B", *[f"GHOST-{i}" for i in range(150)]]
    async with make_client(BASE, bearer(creds), transport=recorder) as client:
        items = await client.source_items(source_code="wh1", skus=skus)
    assert sorted((i.sku, i.quantity) for i in items) == [("A,B", D(2)), ("MUG", D(50))]  # MySQL ignores case
    sent = queries(recorder, "/rest/V1/inventory/source-items")
    conditions = [(q["searchCriteria[filter_groups][1][filters][0][condition_type]"],
                   len(q["searchCriteria[filter_groups][1][filters][0][value]"].split(","))) for q in sent]
    assert conditions == [("in", 100), ("in", 51), ("eq", 2)]  # "A,B" cannot travel inside an "in" list
    assert all(q["searchCriteria[filter_groups][0][filters][0][value]"] == "wh1" for q in sent)


async def test_orders_filters(app: Any, state: MagentoState, clock: SimClock, creds: IntegrationCredentials) -> None:
    first = state.place_order([OrderItemSpec("MUG")])
    clock.advance(3600)
    second = state.place_order([OrderItemSpec("MUG")], invoice=False)
    clock.advance(3600)
    third = state.place_order([OrderItemSpec("CABLE")])
    async with make_client(BASE, bearer(creds), transport=httpx.ASGITransport(app)) as client:
        since = await client.orders(updated_from=clock() - timedelta(hours=1, minutes=1))
        window = await client.orders(updated_from=clock() - timedelta(hours=2), updated_to=clock() - timedelta(hours=1))
        processing = await client.orders(states=["processing"])
        by_number = await client.orders(increment_ids=[f"{third:09d}", f"{first:09d}"])
    assert [o.entity_id for o in since] == [second, third]
    assert [o.entity_id for o in window] == [first, second]
    assert [o.entity_id for o in processing] == [first, third]
    assert [o.entity_id for o in by_number] == [first, third]
    order = processing[0]
    assert (order.lines[0].sku, order.lines[0].qty_ordered, order.total_paid, order.shipping_method) == (
        "MUG", D(1), D("15.6"), "flatrate_flatrate")
    assert order.shipping_address is not None
    assert order.shipping_address.city == "London"


async def test_keyset_reader_reads_each_record_once_through_ties(app: Any, state: MagentoState, clock: SimClock,
                                                                 creds: IntegrationCredentials) -> None:
    start = clock()
    tied = [state.place_order([OrderItemSpec("MUG")]) for _ in range(11)]  # eleven orders, one updated_at
    clock.advance(1)
    later = [state.place_order([OrderItemSpec("CABLE")]) for _ in range(5)]
    clock.advance(1)
    state.ship(tied[0])  # moves the first order to the newest timestamp
    async with make_client(BASE, bearer(creds), transport=httpx.ASGITransport(app), page_size=4) as client:
        seen = [o.entity_id async for o in client.iter_changed(ORDERS, start)]
        assert seen == [*tied[1:], *later, tied[0]]
        bounded = [o.entity_id async for o in client.iter_changed(ORDERS, start, start + timedelta(seconds=1))]
        assert bounded == [*tied[1:], *later]
        processing = [o.entity_id async for o in client.iter_changed(
            ORDERS, start, filters=[SearchFilter("state", "complete")])]
        assert processing == [tied[0]]
        shipments = [s.entity_id async for s in client.iter_changed(SHIPMENTS, start)]
        assert shipments == [1]
        assert [m async for m in client.iter_changed(CREDIT_MEMOS, start)] == []


async def test_ship_track_refund_and_invoice(app: Any, state: MagentoState, creds: IntegrationCredentials) -> None:
    order_id = state.place_order([OrderItemSpec("MUG", 2), OrderItemSpec("CABLE", 1)])
    mug, cable = (i.item_id for i in state.orders[order_id].items)
    async with make_client(BASE, bearer(creds), transport=httpx.ASGITransport(app)) as client:
        first = await client.ship(order_id, ShipRequest((ItemQty(mug, D(1)),), (Track("RM1", "Royal Mail", "custom"),),
                                                        source_code="wh1"))
        track = await client.add_track(order_id, first, Track("RM1B", "Royal Mail", "custom"))
        second = await client.ship(order_id, ShipRequest(()))  # everything left
        with pytest.raises(UpstreamError) as repeated:
            await client.ship(order_id, ShipRequest(()))
        shipments = await client.shipments(order_ids=[order_id, 999])
        memo_id = await client.refund(order_id, [ItemQty(cable, D(1))], shipping_amount=D(5), return_to_stock=True)
        memo = await client.credit_memo(memo_id)
        invoices = await client.invoices(order_id=order_id)
    assert (first, second, track.track_number, track.parent_id) == (1, 2, "RM1B", first)
    assert is_already_shipped(repeated.value)
    assert repeated.value.kind is ErrorKind.PERMANENT
    assert [(s.entity_id, [t.track_number for t in s.tracks], s.source_code) for s in shipments] == [
        (1, ["RM1", "RM1B"], "wh1"), (2, [], "wh1")]
    assert (memo.grand_total, memo.tax_amount, memo.shipping_amount, memo.items[0].sku) == (D(12), D(2), D(5), "CABLE")
    assert state.source_qty("CABLE", "wh1") == 50  # shipped then returned to stock
    assert len(invoices) == 1


async def test_shipment_lists_without_source_code_are_tolerated(app: Any, state: MagentoState,
                                                               creds: IntegrationCredentials) -> None:
    state.configure(shipment_list_source_code=False)  # magento/magento2#24135, #38294
    order_id = state.place_order([OrderItemSpec("MUG")])
    state.ship(order_id, source_code="wh1")
    async with make_client(BASE, bearer(creds), transport=httpx.ASGITransport(app)) as client:
        listed = await client.shipments(order_id=order_id)
    assert listed[0].source_code is None
    assert state.shipments_json(order_id)[0]["extension_attributes"] == {"source_code": "wh1"}


async def test_ids_returned_as_strings_are_accepted(app: Any, state: MagentoState,
                                                    creds: IntegrationCredentials) -> None:
    state.configure(ids_as_strings=True)
    order_id = state.place_order([OrderItemSpec("MUG")], invoice=False)
    async with make_client(BASE, bearer(creds), transport=httpx.ASGITransport(app)) as client:
        assert await client.create_invoice(order_id) == 1
        assert await client.ship(order_id, ShipRequest(())) == 1


def test_already_shipped_is_recognised_by_substring() -> None:
    exact = {"message": "Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created."
                        "\nYou can't create a shipment without products."}
    one_line = {"message": "Shipment Document Validation Error(s): The order does not allow a shipment to be created."}
    other = {"message": "Could not save a shipment, see error log for details"}

    def error(body: dict[str, str], status: int = 400) -> UpstreamError:
        return UpstreamError("magento", "POST /V1/order/{orderId}/ship", body["message"], kind=ErrorKind.PERMANENT,
                             status=status, body=body)

    assert is_already_shipped(error(exact))
    assert is_already_shipped(error(one_line))
    assert not is_already_shipped(error(other))
    assert not is_already_shipped(error(exact, status=500))


async def test_save_source_items_in_chunks_of_twenty(app: Any, state: MagentoState,
                                                     creds: IntegrationCredentials) -> None:
    state.configure(input_limits=True)
    recorder = Recorder(httpx.ASGITransport(app))
    items = [SourceItem(f"BULK-{i}", "wh1", D(i)) for i in range(45)]
    async with make_client(BASE, bearer(creds), transport=recorder) as client:
        await client.save_source_items(items)
        status = await client.bulk_status(await client.save_source_items_bulk(items))
    posted = [e.request_body for e in recorder.exchanges if e.url.path == "/rest/V1/inventory/source-items"]
    assert sorted(len(b["sourceItems"]) for b in posted) == [5, 20, 20]
    assert state.source_qty("BULK-44", "wh1") == 44
    assert status.complete
    assert (status.operation_count, status.failed) == (3, ())


# ------------------------------------------------------------------ auth and errors


async def test_auth_failures_are_permanent_and_readable(app: Any, state: MagentoState,
                                                        creds: IntegrationCredentials) -> None:
    state.add_admin_user("ops", "right")
    transport = httpx.ASGITransport(app)
    async with make_client(BASE, BearerToken(Secret("bogus")), transport=transport) as client:
        with pytest.raises(UpstreamError) as denied:
            await client.order(1)
        with pytest.raises(UpstreamError) as login:
            await client.admin_token("ops", Secret("wrong"))
        token = await client.admin_token("ops", Secret("right"))
    assert (denied.value.status, denied.value.kind) == (401, ErrorKind.PERMANENT)
    assert denied.value.message.startswith("The consumer isn't authorized to access Magento_Sales::actions_view.")
    assert "cannot be renewed automatically" in denied.value.message  # a fixed token: a person must act
    assert login.value.message.startswith("The account sign-in was incorrect")
    async with make_client(BASE, BearerToken(Secret(token)), transport=transport) as admin:
        assert (await admin.salable_qty("MUG", 1)) == 50
    with pytest.raises(ValueError, match="https"):
        make_client("http://shop.example.com", oauth(creds))


async def test_secrets_never_show(app: Any, creds: IntegrationCredentials) -> None:
    wrong = oauth(creds, consumer_secret="s" * 32)
    client = make_client("https://magento.test", wrong, transport=httpx.ASGITransport(app))
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.orders()
    shown = [repr(client), repr(wrong), str(caught.value), repr(caught.value), repr(BearerToken(Secret("x")))]
    visible = " ".join(shown)
    for secret in (creds.consumer_key, creds.access_token, creds.access_token_secret, "s" * 32):
        assert secret not in visible
    assert caught.value.message.startswith("The signature is invalid. Verify and try again.")


def test_error_messages_are_rendered_for_people() -> None:
    from watchdog.connectors.magento_parse import render_error

    assert render_error({"message": 'Unable to add comment: The status "%1" is not part of the order status '
                                    "history.", "parameters": ["complete"]}).startswith(
        'Unable to add comment: The status "complete"')
    aggregated = render_error({"message": 'Validation Failed: "sku" can not be empty.', "errors": [
        {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}},
        {"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}}]})
    assert aggregated == ('Validation Failed: "sku" can not be empty. ["sku" can not be empty.; '
                          '"quantity" should be numeric.]')
    assert render_error(["no"]) == "no error message"


# ------------------------------------------------------------------ malformed bodies


def _order(**changes: Any) -> dict[str, Any]:
    order = {"entity_id": 3, "increment_id": "000000003", "state": "processing", "status": "processing",
             "created_at": "2024-05-01 09:30:12", "updated_at": "2024-05-01 09:31:40", "grand_total": 174,
             "base_grand_total": 174, "customer_email": "jdoe@example.com", "order_currency_code": "EUR",
             "items": [{"item_id": "3", "sku": "WS12-M-Orange", "qty_ordered": 2, "price": 18.18}]}
    order.update(changes)
    return order


@pytest.mark.parametrize(("body", "field"), [
    ({**_order(), "increment_id": None}, "'increment_id' is missing"),
    (_order(items=[{"item_id": 3, "sku": "A", "qty_ordered": 1}, {"item_id": 4, "sku": "B", "qty_ordered": "lots"}]),
     "'items[1].qty_ordered' is not a number"),
    (_order(items=[{"item_id": True, "sku": "A", "qty_ordered": 1}]), "'items[0].item_id' is a bool"),
    (_order(created_at="yesterday"), "'created_at' is 'yesterday'"),
    (_order(items={"sku": "A"}), "'items' is a dict, expected a list"),
    (_order(billing_address=[]), "'billing_address' is a list, expected an object"),
    (["not", "an", "order"], "body is a list, expected an object"),
])
async def test_malformed_records_name_route_and_field(body: Any, field: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with make_client(BASE, BearerToken(Secret("t")), transport=transport) as client:
        with pytest.raises(MalformedResponse) as caught:
            await client.order(3)
    assert caught.value.route == "GET /V1/orders/{id}"
    assert field in caught.value.message
    assert caught.value.kind is ErrorKind.PERMANENT


async def test_good_crafted_order_with_string_ids_parses() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=_order()))
    async with make_client(BASE, BearerToken(Secret("t")), transport=transport) as client:
        order = await client.order(3)
    assert (order.lines[0].item_id, order.lines[0].price, order.created_at) == (
        3, D("18.18"), datetime(2024, 5, 1, 9, 30, 12, tzinfo=UTC))
    assert order.customer_is_guest


@pytest.mark.parametrize(("body", "problem"), [
    ({"items": [], "search_criteria": {}}, "'total_count' is missing"),
    ({"items": None, "total_count": 0}, "'items' is missing, expected a list"),
    ({"items": [{"sku": "A", "source_code": "wh1"}], "total_count": 1}, "'items[0].quantity' is missing"),
])
async def test_malformed_pages(body: Any, problem: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with make_client(BASE, BearerToken(Secret("t")), transport=transport) as client:
        with pytest.raises(MalformedResponse) as caught:
            await client.source_items()
    assert problem in caught.value.message
    assert caught.value.route == "GET /V1/inventory/source-items"


async def test_malformed_new_id_is_reported_not_guessed() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=json.dumps({"id": 3}).encode()))
    async with make_client(BASE, BearerToken(Secret("t")), transport=transport) as client:
        with pytest.raises(MalformedResponse, match="expected an integer"):
            await client.ship(1, ShipRequest(()))


# ------------------------------------------------------------------ real HTTP


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.fromtimestamp(int(time.time()), UTC))


async def test_over_real_http_with_oauth(served: ServedApp, state: MagentoState,
                                         creds: IntegrationCredentials) -> None:
    order_ids = [state.place_order([OrderItemSpec("MUG")]) for _ in range(12)]
    async with make_client(served.url, oauth(creds), page_size=5) as client:
        numbers = [f"{i:09d}" for i in order_ids]
        found = await client.orders(increment_ids=numbers, updated_from=datetime(2020, 1, 1, tzinfo=UTC))
        assert [o.entity_id for o in found] == order_ids
        changed = [o.entity_id async for o in client.iter_changed(ORDERS, datetime(2020, 1, 1, tzinfo=UTC))]
        assert changed == order_ids
        assert await client.ship(order_ids[0], ShipRequest((), source_code="wh1")) == 1
        await client.save_source_items([SourceItem("MUG", "wh1", D(7))])
    assert state.source_qty("MUG", "wh1") == 7
    async with make_client(served.url, oauth(creds, consumer_secret="x" * 32)) as wrong:
        with pytest.raises(UpstreamError) as caught:
            await wrong.sources()
    assert (caught.value.status, caught.value.kind) == (401, ErrorKind.PERMANENT)
