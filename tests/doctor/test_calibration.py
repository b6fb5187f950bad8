"""The shape calibration's pure parts: types, nearby names, tallies over nested paths, verdicts."""

from __future__ import annotations

from watchdog.doctor.calibration import json_type, matches, nearby_names, tally_route
from watchdog.doctor.shape_checks import shape_checks, tally_check
from watchdog.doctor.verdicts import Verdict
from watchdog.stokly_assumed import READ_SHAPES, Evidence, JsonType, ReadField


def test_matches_takes_numeric_strings_for_numbers_and_iso_strings_for_timestamps() -> None:
    assert matches("12.50", JsonType.NUMBER)
    assert matches(3, JsonType.NUMBER)
    assert matches(2.5, JsonType.NUMBER)
    assert not matches(True, JsonType.NUMBER)
    assert not matches("twelve", JsonType.NUMBER)
    assert matches("2025-05-12T09:14:03.000Z", JsonType.TIMESTAMP)
    assert not matches("yesterday", JsonType.TIMESTAMP)
    assert not matches(1, JsonType.BOOLEAN)
    assert not matches(True, JsonType.INTEGER)
    assert [json_type(v) for v in (None, True, 1, 1.5, "x", [], {})] == [
        "null", "boolean", "integer", "number", "string", "array", "object"]


def test_nearby_names_find_case_snake_and_close_spellings_but_not_known_keys() -> None:
    keys = {"tracking_no": 4, "TrackingNumber": 1, "trackingUrl": 4, "carrier": 4, "weight": 2}
    assert nearby_names("trackingNumber", keys, known={"trackingUrl", "carrier"}) == (
        ("tracking_no", 4), ("TrackingNumber", 1))
    assert nearby_names("tax", {"shippingTax": 3, "vat": 3}, known=()) == ()


def test_tally_counts_nested_list_members_and_missing_parent_objects() -> None:
    fields = (ReadField("items", JsonType.ARRAY, Evidence.ASSUMED),
              ReadField("items[].lineId", JsonType.STRING, Evidence.ASSUMED),
              ReadField("refund.amount", JsonType.NUMBER, Evidence.ASSUMED, used_for="refunds"))
    records = [{"items": [{"lineId": "a"}, {"line_id": "b"}], "refund": {"amount": "9.5"}},
               {"items": [], "refund": {"amount": "n/a"}},
               {"items": [{"lineId": 7}]}]
    items, line_id, amount = tally_route("/x", records, fields)
    assert (items.seen, items.present) == (3, 3)
    assert (line_id.seen, line_id.present, line_id.absent, line_id.other_type) == (3, 1, 1, 1)
    assert line_id.other_types == ("integer",)
    assert line_id.nearby == (("line_id", 1),)
    assert (amount.seen, amount.present, amount.absent, amount.other_type) == (3, 1, 1, 1)


def test_verdicts_fail_what_a_check_needs_and_stay_quiet_on_optional_gaps() -> None:
    shapes = READ_SHAPES["/v2/shipments"]
    records = [{"shipmentId": f"s{i}", "saleOrderId": "o", "dispatchedAt": "2025-01-01T00:00:00Z",
                "items": [], **({"trackingNumber": "T1"} if i else {})} for i in range(4)]
    by_path = {t.path: t for t in tally_route("/v2/shipments", records, shapes)}
    tracking = tally_check(by_path["trackingNumber"])
    assert tracking is not None
    assert tracking.verdict is Verdict.WARN
    carrier = tally_check(by_path["carrier"])
    assert carrier is not None
    assert carrier.verdict is Verdict.WARN
    assert "SHIPMENT.carrier" in carrier.fix
    no_ids = tally_route("/v2/shipments", [{**r, "shipmentId": None} for r in records], shapes)
    [required] = [c for c in shape_checks([("/v2/shipments", 4)], no_ids) if c.what.endswith("shipmentId")]
    assert required.verdict is Verdict.FAIL
    lines = READ_SHAPES["/v2/saleorders/{id}/items"]
    partial = tally_route("/v2/saleorders/{id}/items", [{"parentId": "p"}, {}], lines)
    assert tally_check(next(t for t in partial if t.path == "parentId")) is None  # optional, used by nothing


def test_a_route_without_records_is_a_warning_not_a_pass() -> None:
    [check] = shape_checks([("/v0/customers", 0)], tally_route("/v0/customers", [], READ_SHAPES["/v0/customers"]))
    assert check.verdict is Verdict.WARN
    assert "no records to sample" in check.detail
