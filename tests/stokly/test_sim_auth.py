"""The simulator's app grant, token checks and rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.stokly.conftest import FakeClock
from watchdog.simulators.stokly import StoklySimApp, StoklySimSettings, sign


@pytest.fixture
async def anon(sim: StoklySimApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url="http://stokly.test") as client:
        yield client


def grant_body(settings: StoklySimSettings, **changes: str) -> dict[str, str]:
    body = {"accountkey": settings.account_key, "clientId": settings.client_id,
            "signature": sign(settings.client_id, settings.client_secret)}
    return {**body, **changes}


async def test_grant_returns_a_token_with_expiry(anon: httpx.AsyncClient, settings: StoklySimSettings,
                                                 clock: FakeClock) -> None:
    response = await anon.post("/v1/grant", json=grant_body(settings))
    result = response.json()["data"]["authenticationResult"]
    assert response.status_code == 200
    assert result["accessToken"].startswith("eyJ")
    assert result["tokenType"] == "Bearer"
    assert result["expiry"] == "2025-05-12T10:00:00.000Z"  # the fake clock plus one hour


@pytest.mark.parametrize("change", [
    {"signature": "0" * 64},
    {"signature": sign("simclient0000000000000000a", "wrong-secret")},
    {"clientId": "someone-else"},
    {"accountkey": "other"},
])
async def test_bad_credentials_are_refused(anon: httpx.AsyncClient, settings: StoklySimSettings,
                                           change: dict[str, str]) -> None:
    response = await anon.post("/v1/grant", json=grant_body(settings, **change))
    assert (response.status_code, response.json()) == (401, {"message": "Invalid credentials"})


async def test_signature_is_lowercase_hex_hmac_of_the_client_id(settings: StoklySimSettings) -> None:
    signature = sign(settings.client_id, settings.client_secret)
    assert len(signature) == 64
    assert signature == signature.lower()
    assert sign("abc", "key") == "9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab"


async def test_missing_grant_field_is_400(anon: httpx.AsyncClient, settings: StoklySimSettings) -> None:
    body = grant_body(settings)
    del body["signature"]
    response = await anon.post("/v1/grant", json=body)
    assert (response.status_code, response.json()) == (400, {"message": "signature is required"})


async def test_token_checks(anon: httpx.AsyncClient, sim: StoklySimApp, settings: StoklySimSettings,
                            clock: FakeClock) -> None:
    token = (await anon.post("/v1/grant", json=grant_body(settings))).json()["data"]["authenticationResult"]
    good = {"Authorization": f"Bearer {token['accessToken']}"}
    assert (await anon.get("/v0/items", headers=good)).status_code == 200
    missing = await anon.get("/v0/items")
    forged = await anon.get("/v0/items", headers={"Authorization": "Bearer eyJforged"})
    assert [(r.status_code, r.json()["message"]) for r in (missing, forged)] == [
        (401, "jwt must be provided"), (401, "invalid token")]
    clock.advance(3600)
    expired = await anon.get("/v0/items", headers=good)
    assert (expired.status_code, expired.json()) == (401, {"message": "jwt expired"})


async def test_forced_expiry_and_configurable_lifetime(anon: httpx.AsyncClient, sim: StoklySimApp,
                                                       settings: StoklySimSettings, clock: FakeClock) -> None:
    sim.settings.update(token_lifetime_s=30)
    token = (await anon.post("/v1/grant", json=grant_body(settings))).json()["data"]["authenticationResult"]
    assert token["expiry"] == "2025-05-12T09:00:30.000Z"
    headers = {"Authorization": f"Bearer {token['accessToken']}"}
    assert (await anon.post("/_sim/expire-tokens")).json() == {"expired": 1}
    assert (await anon.get("/v0/items", headers=headers)).json() == {"message": "jwt expired"}


async def test_rate_limit_answers_429_with_retry_after_and_recovers(anon: httpx.AsyncClient, sim: StoklySimApp,
                                                                    settings: StoklySimSettings,
                                                                    clock: FakeClock) -> None:
    sim.settings.update(rate_limit=3, rate_window_s=60)
    grant = await anon.post("/v1/grant", json=grant_body(settings))  # counts as request 1
    headers = {"Authorization": f"Bearer {grant.json()['data']['authenticationResult']['accessToken']}"}
    ok = [await anon.get("/v0/items", headers=headers) for _ in range(2)]
    clock.advance(20)
    limited = await anon.get("/v0/items", headers=headers)
    assert [grant.headers["x-ratelimit-remaining"]] + [r.headers["x-ratelimit-remaining"] for r in ok] == [
        "2", "1", "0"]
    assert limited.status_code == 429
    assert limited.json() == {"message": "Too many requests"}
    assert (limited.headers["retry-after"], limited.headers["x-ratelimit-remaining"]) == ("40", "0")
    clock.advance(40)
    assert (await anon.get("/v0/items", headers=headers)).status_code == 200


async def test_rate_limit_per_token_scope(anon: httpx.AsyncClient, sim: StoklySimApp,
                                          settings: StoklySimSettings) -> None:
    sim.settings.update(rate_limit=1, rate_limit_scope="token")
    assert (await anon.get("/v0/items", headers={"Authorization": "Bearer a"})).status_code == 401
    assert (await anon.get("/v0/items", headers={"Authorization": "Bearer b"})).status_code == 401
    assert (await anon.get("/v0/items", headers={"Authorization": "Bearer a"})).status_code == 429
