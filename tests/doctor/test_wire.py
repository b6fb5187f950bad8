"""The read-only transport (a seam: ``httpx.MockTransport`` behind it) and the header checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from watchdog.doctor.transport import Exchange, ReadOnlyTransport, WriteRefused
from watchdog.doctor.verdicts import Verdict
from watchdog.doctor.wire_checks import clock_check, rate_limit_check, skew_seconds

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={}, headers={"date": "Mon, 05 Jan 2026 12:02:00 GMT",
                                                 "x-ratelimit-remaining": "599"})


async def test_the_transport_refuses_writes_and_records_answers() -> None:
    wire = ReadOnlyTransport(httpx.MockTransport(_answer), token_paths=("/v1/grant",), clock=lambda: NOW)
    async with httpx.AsyncClient(transport=wire, base_url="https://stokly.test") as client:
        assert (await client.get("/v0/items")).status_code == 200
        assert (await client.post("/v1/grant", json={})).status_code == 200
        for method in ("POST", "PATCH", "PUT", "DELETE"):
            with pytest.raises(WriteRefused):
                await client.request(method, "/v2/saleorders")
    assert [(e.method, e.path, e.remaining) for e in wire.exchanges] == [
        ("GET", "/v0/items", "599"), ("POST", "/v1/grant", "599")]
    assert wire.exchanges[0].server_date == NOW + timedelta(minutes=2)


def _exchange(server_offset_s: float | None, remaining: str | None = "500") -> Exchange:
    date = None if server_offset_s is None else NOW + timedelta(seconds=server_offset_s)
    return Exchange("GET", "/x", 200, NOW, NOW + timedelta(milliseconds=20), date, remaining)


def test_clock_skew_warns_above_a_minute() -> None:
    assert skew_seconds([_exchange(-0.5), _exchange(0.0), _exchange(120.0)]) == pytest.approx(0.49)
    close = clock_check("magento", [_exchange(0.0)])
    far = clock_check("magento", [_exchange(-95.0)] * 3)
    unknown = clock_check("stokly", [_exchange(None)])
    assert close is not None
    assert close.verdict is Verdict.PASS
    assert far is not None
    assert far.verdict is Verdict.WARN
    assert "94.5 s ahead of magento's" in far.detail
    assert unknown is not None
    assert unknown.verdict is Verdict.WARN
    assert clock_check("stokly", []) is None


def test_rate_limit_header_reports_what_was_seen() -> None:
    ok = rate_limit_check([_exchange(0, "590"), _exchange(0, "580")])
    low = rate_limit_check([_exchange(0, "2")])
    missing = rate_limit_check([_exchange(0, None), _exchange(0, "9")])
    assert ok is not None
    assert ok.verdict is Verdict.PASS
    assert "lowest 580, highest 590" in ok.detail
    assert low is not None
    assert low.verdict is Verdict.WARN
    assert missing is not None
    assert missing.verdict is Verdict.WARN
    assert "missing on 1 of 2" in missing.detail
