"""Authentication on the simulator: Bearer, admin tokens, and OAuth 1.0a verified the Magento way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from authlib.oauth1 import ClientAuth
from authlib.oauth1.rfc5849.signature import construct_base_string

from watchdog.connectors.magento_oauth import MagentoOAuth1, base_string, signature
from watchdog.secret import Secret
from watchdog.simulators.magento import IntegrationCredentials, MagentoState, SimClock

BASE = "https://magento.test"


@pytest.fixture
def clock() -> SimClock:
    """OAuth timestamps come from the wall clock, so the store runs on (a frozen copy of) it."""
    return SimClock(datetime.fromtimestamp(int(time.time()), UTC))


def magento_signer(creds: IntegrationCredentials, consumer_secret: str | None = None) -> MagentoOAuth1:
    return MagentoOAuth1(Secret(creds.consumer_key), Secret(consumer_secret or creds.consumer_secret),
                         Secret(creds.access_token), Secret(creds.access_token_secret))


def _rfc_sign(client: Any, request: Any) -> str:
    """A textbook RFC 5849 signer (byte-ordered parameters) with SHA-256, as oauthlib would do."""
    base = construct_base_string(request.method, request.uri, request.params)
    key = f"{quote(client.client_secret, safe='')}&{quote(client.token_secret, safe='')}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


class _RfcClientAuth(ClientAuth):  # type: ignore[misc]
    SIGNATURE_METHODS = {"HMAC-SHA256": _rfc_sign}


class RfcOAuth1(httpx.Auth):
    def __init__(self, creds: IntegrationCredentials) -> None:
        self.client = _RfcClientAuth(creds.consumer_key, client_secret=creds.consumer_secret, token=creds.access_token,
                                     token_secret=creds.access_token_secret, signature_method="HMAC-SHA256")

    def auth_flow(self, request: httpx.Request) -> Any:
        _, headers, _ = self.client.sign(request.method, str(request.url), {}, b"")
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def many_filters(count: int) -> list[tuple[str, str]]:
    """``count`` OR-ed filters in one group: 11+ puts ``[10]`` next to ``[2]``."""
    params = []
    for i in range(count):
        prefix = f"searchCriteria[filter_groups][0][filters][{i}]"
        params += [(f"{prefix}[field]", "increment_id"), (f"{prefix}[value]", f"{i:09d}")]
    return params


async def get_orders(app: Any, auth: httpx.Auth, params: list[tuple[str, str]]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE, auth=auth) as client:
        return await client.get("/rest/V1/orders", params=params)


SIGNATURE_INVALID = {"message": "The signature is invalid. Verify and try again."}


async def test_magento_ordering_verifies_with_eleven_filters(app: Any, creds: IntegrationCredentials) -> None:
    response = await get_orders(app, magento_signer(creds), many_filters(12))
    assert response.status_code == 200


async def test_byte_order_signing_fails_only_from_eleven_filters(app: Any, creds: IntegrationCredentials) -> None:
    assert (await get_orders(app, RfcOAuth1(creds), many_filters(10))).status_code == 200
    response = await get_orders(app, RfcOAuth1(creds), many_filters(11))
    assert (response.status_code, response.json()) == (401, SIGNATURE_INVALID)


async def test_a_byte_ordering_server_turns_it_around(app: Any, state: MagentoState,
                                                      creds: IntegrationCredentials) -> None:
    state.configure(oauth_param_order="byte")
    assert (await get_orders(app, RfcOAuth1(creds), many_filters(12))).status_code == 200
    assert (await get_orders(app, magento_signer(creds), many_filters(12))).status_code == 401
    assert (await get_orders(app, magento_signer(creds), many_filters(10))).status_code == 200


async def test_a_plus_in_the_query_is_signed_as_sent(app: Any, creds: IntegrationCredentials) -> None:
    params = [("searchCriteria[filter_groups][0][filters][0][field]", "updated_at"),
              ("searchCriteria[filter_groups][0][filters][0][value]", "2024-05-01 00:00:00"),
              ("searchCriteria[filter_groups][0][filters][0][condition_type]", "gteq")]
    assert (await get_orders(app, magento_signer(creds), params)).status_code == 200
    assert (await get_orders(app, RfcOAuth1(creds), params)).status_code == 401  # httpx sends the space as '+'


async def test_signed_json_post_keeps_its_body(app: Any, state: MagentoState, creds: IntegrationCredentials) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE,
                                 auth=magento_signer(creds)) as client:
        response = await client.post("/rest/V1/inventory/source-items", json={
            "sourceItems": [{"sku": "MUG", "source_code": "wh1", "quantity": 7, "status": 1}]})
    assert (response.status_code, response.json()) == (200, [])
    assert state.source_qty("MUG", "wh1") == 7


async def test_wrong_consumer_secret(app: Any, creds: IntegrationCredentials) -> None:
    response = await get_orders(app, magento_signer(creds, consumer_secret="x" * 32), many_filters(1))
    assert (response.status_code, response.json()) == (401, SIGNATURE_INVALID)


# ------------------------------------------------------------------ hand-built headers


def header(creds: IntegrationCredentials, url: str, *, method: str = "GET", nonce: str = "n0nce",
           timestamp: int | None = None, signature_method: str = "HMAC-SHA256", consumer_key: str | None = None,
           token: str | None = None, drop: tuple[str, ...] = ()) -> str:
    params = {"oauth_consumer_key": consumer_key or creds.consumer_key, "oauth_nonce": nonce,
              "oauth_signature_method": signature_method, "oauth_timestamp": str(timestamp or int(time.time())),
              "oauth_token": token or creds.access_token, "oauth_version": "1.0"}
    params["oauth_signature"] = signature(base_string(method, url, params.items()), creds.consumer_secret,
                                          creds.access_token_secret)
    return "OAuth " + ",".join(f'{k}="{quote(v, safe="")}"' for k, v in params.items() if k not in drop)


async def call(app: Any, authorization: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
        return await client.get("/rest/V1/orders/1", headers={"Authorization": authorization})


URL = f"{BASE}/rest/V1/orders/1"


async def test_hand_built_header_verifies_then_its_nonce_is_spent(app: Any, state: MagentoState,
                                                                  creds: IntegrationCredentials) -> None:
    signed = header(creds, URL, nonce="once-only")
    first = await call(app, signed)
    assert first.status_code == 404  # authenticated; order 1 does not exist
    again = await call(app, signed)
    consumer_id = next(iter(state.integrations))
    assert (again.status_code, again.json()) == (401, {
        "message": "The nonce is already being used by the consumer with ID %1", "parameters": [consumer_id]})


async def test_timestamps(app: Any, state: MagentoState, creds: IntegrationCredentials) -> None:
    refused = {"message": "Incorrect timestamp value in the oauth_timestamp parameter"}
    future = await call(app, header(creds, URL, nonce="a", timestamp=int(time.time()) + 3600))
    assert (future.status_code, future.json()) == (400, refused)
    old = header(creds, URL, nonce="b", timestamp=int(time.time()) - 86400)
    assert (await call(app, old)).status_code == 404  # Magento accepts old timestamps (nonces stop replays)
    state.configure(oauth_max_age_s=300)
    stale = await call(app, header(creds, URL, nonce="c", timestamp=int(time.time()) - 86400))
    assert (stale.status_code, stale.json()) == (400, refused)


async def test_consumer_token_and_method_problems(app: Any, state: MagentoState,
                                                  creds: IntegrationCredentials) -> None:
    other = state.add_integration("other")
    cases = [
        (header(creds, URL, nonce="1", consumer_key="k" * 32), 401,
         {"message": "A consumer having the specified key does not exist"}),
        (header(creds, URL, nonce="2", token=other.access_token), 401,
         {"message": "Token is not associated with the specified consumer"}),
        (header(creds, URL, nonce="3", token="t" * 32), 401, {"message": "Specified token does not exist"}),
        (header(creds, URL, nonce="4", signature_method="HMAC-SHA1"), 400,
         {"message": "Signature method %1 is not supported", "parameters": ["HMAC-SHA1"]}),
        (header(creds, URL, nonce="5", drop=("oauth_nonce",)), 400,
         {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "oauth_nonce"}}),
    ]
    for authorization, status, body in cases:
        response = await call(app, authorization)
        assert (response.status_code, response.json()) == (status, body)
    two_missing = await call(app, header(creds, URL, nonce="6", drop=("oauth_nonce", "oauth_timestamp")))
    assert two_missing.json()["message"] == "One or more input exceptions have occurred."
    assert len(two_missing.json()["errors"]) == 2


# ------------------------------------------------------------------ bearer and admin tokens


async def test_integration_token_as_bearer_depends_on_the_setting(api: httpx.AsyncClient, state: MagentoState) -> None:
    assert (await api.get("/rest/V1/orders?searchCriteria=all")).status_code == 200
    state.configure(integration_as_bearer=False)
    response = await api.get("/rest/V1/orders?searchCriteria=all")
    assert response.status_code == 401
    assert response.json()["parameters"] == {"resources": "Magento_Sales::actions_view"}


async def test_admin_token_flow(app: Any, state: MagentoState, clock: SimClock) -> None:
    state.add_admin_user("ops", "s3cret!")
    state.configure(integration_as_bearer=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
        wrong = await client.post("/rest/V1/integration/admin/token", json={"username": "ops", "password": "no"})
        assert (wrong.status_code, wrong.json()) == (401, {
            "message": "The account sign-in was incorrect or your account is disabled temporarily. "
                       "Please wait and try again later."})
        issued = await client.post("/rest/V1/integration/admin/token", json={"username": "ops", "password": "s3cret!"})
        token = issued.json()
        assert issued.status_code == 200
        assert isinstance(token, str)
        auth = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/rest/V1/orders?searchCriteria=all", headers=auth)).status_code == 200
        clock.advance(4 * 3600 + 1)
        assert (await client.get("/rest/V1/orders?searchCriteria=all", headers=auth)).status_code == 401


async def test_admin_token_with_two_factor_auth(app: Any, state: MagentoState) -> None:
    state.add_admin_user("ops", "s3cret!")
    state.configure(two_factor_auth=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
        response = await client.post("/rest/V1/integration/admin/token",
                                     json={"username": "ops", "password": "s3cret!"})
    assert (response.status_code, response.json()) == (400, {
        "message": "Please use the 2fa provider-specific endpoints to obtain a token.",
        "parameters": {"active_providers": ["google"]}})
