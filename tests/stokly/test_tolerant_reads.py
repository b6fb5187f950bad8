"""Tolerant reading inside a snapshot: one bad record is set aside, an unknown field costs only itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stokly.conftest import MakeClient
from tests.stokly.test_connector_faults import CREDS, ORDER, answering, listing
from watchdog.connectors.http import MalformedResponse
from watchdog.connectors.shape import ShapeLog, collecting


def orders(n: int, bad: set[int], drop: str = "saleOrderId") -> dict[str, Any]:
    rows = [{**ORDER, "saleOrderId": f"s{i}", "niceId": i + 1, "sourceReferenceId": f"{i:09d}"}
            for i in range(n)]
    for i in bad:
        del rows[i][drop]
    return listing(*rows)


async def test_one_garbage_record_among_1000_is_set_aside_and_named(make_client: MakeClient) -> None:
    stokly = make_client(transport=answering(orders(1000, {417})), creds=CREDS)
    with collecting(ShapeLog()) as shape:
        read = await stokly.sale_orders()
    assert len(read) == 999
    (problem,) = [p for p in shape.problems() if p.set_aside]
    assert (problem.system, problem.route, problem.field) == ("stokly", "/v2/saleorders", "saleOrderId")
    assert (problem.records, problem.read, problem.set_aside) == (1, 1000, True)
    assert problem.got == "is missing"
    assert problem.sample_id == "niceId=418"  # the record's other id: a person can look it up


async def test_outside_a_snapshot_a_bad_record_fails_the_read(make_client: MakeClient) -> None:
    """The sync worker's reads stay strict: a record is never skipped past a cursor or created twice."""
    stokly = make_client(transport=answering(orders(10, {3})), creds=CREDS)
    with pytest.raises(MalformedResponse, match="'saleOrderId' is missing"):
        await stokly.sale_orders()


async def test_a_read_fails_when_most_of_its_records_are_unreadable(make_client: MakeClient) -> None:
    stokly = make_client(transport=answering(orders(10, set(range(6)))), creds=CREDS)
    with collecting(ShapeLog()), pytest.raises(MalformedResponse, match="6 of 10 records could not be read"):
        await stokly.sale_orders()


async def test_an_absent_assumed_field_is_counted_once_per_field(make_client: MakeClient) -> None:
    stokly = make_client(transport=answering(orders(50, set(range(50)), drop="tax")), creds=CREDS)
    with collecting(ShapeLog()) as shape:
        read = await stokly.sale_orders()
    assert len(read) == 50
    assert all(o.tax is None and "tax" in o.unknown for o in read)
    tax = [p for p in shape.problems() if p.field == "tax"]
    assert len(tax) == 1
    assert (tax[0].records, tax[0].read, tax[0].set_aside, tax[0].got) == (50, 50, False, "absent")


async def test_an_assumed_field_of_another_type_is_unknown_not_fatal(make_client: MakeClient) -> None:
    body = listing({**ORDER, "saleOrderId": "s1", "total": {"amount": 12}, "allocatedLocationId": 7.5})
    stokly = make_client(transport=answering(body), creds=CREDS)
    with collecting(ShapeLog()) as shape:
        (order,) = await stokly.sale_orders()
    assert order.total is None
    assert order.allocated_location_id is None
    assert {"total", "allocated_location_id"} <= order.unknown
    got = {p.field: p.got for p in shape.problems()}
    assert got["total"] == "an object"
    assert got["allocatedLocationId"] == "a number"


async def test_a_null_allocated_location_is_known_to_be_unallocated(make_client: MakeClient) -> None:
    body = listing({**ORDER, "saleOrderId": "s1", "allocatedLocationId": None})
    (order,) = await make_client(transport=answering(body), creds=CREDS).sale_orders()
    assert order.allocated_location_id is None
    assert "allocated_location_id" not in order.unknown
