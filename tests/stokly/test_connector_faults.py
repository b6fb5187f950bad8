"""Every injected fault, the rate limit, and malformed records, as the connector sees them."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.stokly.conftest import MakeClient, Merchant, Sleeps
from watchdog.connectors.http import ErrorKind, MalformedResponse, UpstreamError
from watchdog.connectors.stokly import SaleOrderDraft, SaleOrderLineDraft, StoklyClient, StoklyCredentials
from watchdog.secret import Secret
from watchdog.simulators.faults import FaultRule
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.stokly import StoklySimApp, StoklyState

D = Decimal
READ = "GET /v0/locations$"
CREATE = "POST /v2/saleorders$"


def draft(m: Merchant, ref: str = "000000777") -> SaleOrderDraft:
    return SaleOrderDraft(ref, m.channel, "GBP", (SaleOrderLineDraft.per_unit(m.widget, D(1), D(10), D(2)),))


@pytest.mark.parametrize("rule", [
    FaultRule("latency", route=READ, latency_s=0.02),
    FaultRule("rate_limit", route=READ, retry_after=7, count=2),
    FaultRule("status", route=READ, status=502, count=2),
    FaultRule("status", route=READ, status=503, count=3),
    FaultRule("malformed", route=READ, count=2),
    FaultRule("truncated", route=READ, count=2),
], ids=lambda r: f"{r.kind}-{r.status}")
async def test_read_faults_are_retried_then_succeed(make_client: MakeClient, sim: StoklySimApp, sleeps: Sleeps,
                                                    merchant: Merchant, rule: FaultRule) -> None:
    sim.faults.add(rule)
    assert len(await make_client().locations()) == 2
    assert len(sleeps.waits) == (rule.count or 0)
    if rule.kind == "rate_limit":
        assert sleeps.waits == [7, 7]  # Retry-After honoured


async def test_a_read_timeout_over_http_is_retried(make_client: MakeClient, sim: StoklySimApp, served: ServedApp,
                                                   sleeps: Sleeps, merchant: Merchant) -> None:
    sim.faults.add(FaultRule("timeout", route=READ, latency_s=0.4, count=1))
    assert len(await make_client(url=served.url, timeout_s=0.1).locations()) == 2
    assert len(sleeps.waits) == 1


async def test_persistent_5xx_ends_transient_after_the_attempts(make_client: MakeClient, sim: StoklySimApp,
                                                                sleeps: Sleeps, merchant: Merchant) -> None:
    sim.faults.add(FaultRule("status", route=READ, status=500))
    with pytest.raises(UpstreamError) as caught:
        await make_client().locations()
    assert (caught.value.kind, caught.value.status, caught.value.route) == (ErrorKind.TRANSIENT, 500,
                                                                            "/v0/locations")
    assert len(sleeps.waits) == 3


async def test_not_found_is_permanent_and_not_retried(make_client: MakeClient, sleeps: Sleeps,
                                                      merchant: Merchant) -> None:
    with pytest.raises(UpstreamError) as caught:
        await make_client().item("00000000-0000-4000-8000-000000000000")
    assert (caught.value.kind, caught.value.status, caught.value.route) == (ErrorKind.PERMANENT, 404,
                                                                            "/v0/items/{id}")
    assert sleeps.waits == []


@pytest.mark.parametrize(("rule", "created"), [
    (FaultRule("truncated", route=CREATE, count=1), 1),  # the write happened; only the answer was cut
    (FaultRule("status", route=CREATE, status=500, count=1), 0),
    (FaultRule("status", route=CREATE, status=502, count=1), 0),
    (FaultRule("malformed", route=CREATE, count=1), 0),
], ids=lambda v: v.kind if isinstance(v, FaultRule) else str(v))
async def test_an_uncertain_create_is_ambiguous_and_resolved_by_reading_back(
    make_client: MakeClient, sim: StoklySimApp, state: StoklyState, sleeps: Sleeps, merchant: Merchant,
    rule: FaultRule, created: int,
) -> None:
    sim.faults.add(rule)
    stokly = make_client()
    with pytest.raises(UpstreamError) as caught:
        await stokly.create_sale_order(draft(merchant))
    assert caught.value.kind is ErrorKind.AMBIGUOUS
    assert sleeps.waits == []
    assert len(state.sale_orders()) == created
    if await stokly.sale_order_by_reference("000000777") is None:
        await stokly.create_sale_order(draft(merchant))
    assert len(state.sale_orders()) == 1


@pytest.mark.parametrize("rule", [
    FaultRule("status", route=CREATE, status=503, count=2),
    FaultRule("rate_limit", route=CREATE, retry_after=3, count=1),
], ids=lambda r: r.kind)
async def test_a_refused_create_is_retried_and_creates_once(make_client: MakeClient, sim: StoklySimApp,
                                                            state: StoklyState, merchant: Merchant,
                                                            rule: FaultRule) -> None:
    sim.faults.add(rule)
    await make_client().create_sale_order(draft(merchant))
    assert len(state.sale_orders()) == 1


async def test_a_create_timeout_over_http_is_ambiguous(make_client: MakeClient, sim: StoklySimApp, served: ServedApp,
                                                       state: StoklyState, merchant: Merchant) -> None:
    sim.faults.add(FaultRule("timeout", route=CREATE, latency_s=0.5, count=1))
    stokly = make_client(url=served.url, timeout_s=0.1)
    with pytest.raises(UpstreamError) as caught:
        await stokly.create_sale_order(draft(merchant))
    assert caught.value.kind is ErrorKind.AMBIGUOUS
    if await stokly.sale_order_by_reference("000000777") is None:
        await stokly.create_sale_order(draft(merchant))
    await asyncio.sleep(0.6)  # let the abandoned request finish at the server (it finds the client gone)
    assert len(state.sale_orders()) == 1


async def test_rate_limit_backs_off_by_retry_after_and_succeeds(make_client: MakeClient, sim: StoklySimApp,
                                                                sleeps: Sleeps, merchant: Merchant) -> None:
    sim.settings.update(rate_limit=4, rate_window_s=60)
    stokly = make_client()
    for _ in range(6):
        assert len(await stokly.locations()) == 2
    assert sleeps.waits == [60]  # the grant and three reads spend the window; the fifth read waits it out


async def test_few_remaining_requests_drain_the_client_limiter(make_client: MakeClient, sim: StoklySimApp,
                                                               merchant: Merchant) -> None:
    sim.settings.update(rate_limit=100)
    stokly = make_client(rate_per_s=50.0, burst=10)
    await stokly.locations()
    assert stokly.limiter._tokens >= 1
    sim.settings.update(rate_limit=4)  # the next answer says 1 remaining
    await stokly.locations()
    assert stokly.limiter._tokens < 1


# --------------------------------------------------------------------------- malformed records

CREDS = StoklyCredentials("acme", "client", Secret("s"))
GRANT = {"data": {"authenticationResult": {"accessToken": "t", "expiry": "2999-01-01T00:00:00.000Z"}}}


def answering(body: Any) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=GRANT if request.url.path == "/v1/grant" else body)

    return httpx.MockTransport(handle)


def listing(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(rows), "metadata": {"count": len(rows)}}


ITEM = {"itemId": "i1", "sku": "A", "name": "a", "format": 0, "status": 0, "barcodes": []}
STOCK = {"itemId": "i1", "itemSku": "A", "locationId": "l1", "onHand": 3, "quarantined": 0, "allocated": 1}
ORDER = {"saleOrderId": "s1", "niceId": 1, "stage": "order", "currency": "GBP",
         "createdAt": "2025-05-12T09:00:00.000Z", "total": 1, "tax": 0, "itemStatuses": []}


@pytest.mark.parametrize(("call", "body", "route", "field_name"), [
    ("items", listing({**ITEM, "sku": None}), "/v0/items", "'sku' is missing"),
    ("items", listing({**ITEM, "format": 9}), "/v0/items", "'format' has unknown value 9"),
    ("items", listing({**ITEM, "barcodes": [1]}), "/v0/items", "'barcodes' holds a non-string"),
    ("items", {"data": {}, "metadata": {"count": 1}}, "/v0/items", "'data' has type dict"),
    ("items", {"data": []}, "/v0/items", "'count' is missing"),
    ("items", [ITEM], "/v0/items", "list body is not an object"),
    ("stock_levels", listing({**STOCK, "onHand": "lots"}), "/v1/inventory-records", "'onHand' is not a number"),
    ("sale_orders", listing({**ORDER, "createdAt": "yesterday"}), "/v2/saleorders", "'createdAt' is not an ISO"),
    ("sale_orders", listing({**ORDER, "niceId": True}), "/v2/saleorders", "'niceId' is a boolean"),
    ("sale_orders", listing("not an object"), "/v2/saleorders", "'data' holds a non-object"),  # type: ignore[arg-type]
])
async def test_malformed_records_name_route_and_field(make_client: MakeClient, call: str, body: Any, route: str,
                                                      field_name: str) -> None:
    stokly = make_client(transport=answering(body), creds=CREDS)
    with pytest.raises(MalformedResponse) as caught:
        await getattr(stokly, call)()
    assert caught.value.route == route
    assert caught.value.kind is ErrorKind.PERMANENT
    assert field_name in str(caught.value)


async def test_an_assumed_field_missing_or_odd_costs_only_that_field(make_client: MakeClient) -> None:
    """Outside a snapshot too: an assumed field never fails the record (required ones do, above)."""
    levels = await make_client(transport=answering(listing({k: v for k, v in STOCK.items() if k != "allocated"})),
                               creds=CREDS).stock_levels()
    assert levels[0].allocated is None
    assert levels[0].available is None
    assert levels[0].on_hand == 3
    dispatch = (await make_client(transport=answering(listing({
        "shipmentId": "d1", "saleOrderId": "s1", "dispatchedAt": "2025-05-12T09:00:00.000Z"})),
        creds=CREDS).dispatches())[0]
    assert (dispatch.tracking_number, dispatch.nice_id, dispatch.lines) == ("", None, ())
    note = (await make_client(transport=answering(listing({
        "creditNoteId": "c1", "niceId": 1, "currency": "GBP", "sourceReferenceId": "MAG-CM-1",
        "issueDate": "2025-05-12T09:00:00.000Z", "items": ["x"], "refund": {"amount": "4.20"}})),
        creds=CREDS).credit_notes())[0]
    assert note.vat is None
    assert note.amount == Decimal("4.20")
    assert "lines" in note.unknown
    order = (await make_client(transport=answering(listing({k: v for k, v in ORDER.items() if k != "tax"})),
                               creds=CREDS).sale_orders())[0]
    assert order.tax is None
    assert order.total == 1
    assert order.unknown == {"tax", "customer_id",
                                                                         "allocated_location_id", "payments"}


async def test_a_malformed_grant_is_reported_on_the_grant_route(make_client: MakeClient) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": {}}))
    with pytest.raises(MalformedResponse, match="'accessToken' is missing") as caught:
        await make_client(transport=transport, creds=CREDS).locations()
    assert caught.value.route == "/v1/grant"


def test_client_is_usable_standalone() -> None:
    client = StoklyClient("https://api.stok.ly", CREDS)
    assert repr(client) == "StoklyClient(base_url='https://api.stok.ly')"
    asyncio.run(client.aclose())
