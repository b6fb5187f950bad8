"""The OAuth 1.0a signer: a fixed vector, PHP natural ordering, and the simulator with 11+ entries."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cmp_to_key
from typing import Any

import httpx
import pytest
from authlib.oauth1.rfc5849.parameters import prepare_headers
from hypothesis import given
from hypothesis import strategies as st
from magento_kit import make_client, oauth

from watchdog.connectors.magento import ORDERS, SearchFilter
from watchdog.connectors.magento_oauth import _MagentoClientAuth, base_string, signature, strnatcmp
from watchdog.simulators.magento import IntegrationCredentials, MagentoState, OrderItemSpec, SimClock
from watchdog.simulators.magento.auth import strnatcmp as server_strnatcmp

URL = ("https://shop.example.com/rest/V1/orders?searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B10%5D%5Bfield"
       "%5D=sku&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B2%5D%5Bfield%5D=name")
PARAMS = [("oauth_nonce", "abc"), ("oauth_timestamp", "1714554000"), ("oauth_version", "1.0"),
          ("oauth_signature_method", "HMAC-SHA256"), ("oauth_consumer_key", "ck"), ("oauth_token", "tok")]
#: Written out by hand: natural order puts filters][2] before filters][10]; the oauth values are encoded twice.
BASE = ("GET&https%3A%2F%2Fshop.example.com%2Frest%2FV1%2Forders&oauth_consumer_key%3Dck%26oauth_nonce%3Dabc%26"
        "oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1714554000%26oauth_token%3Dtok%26oauth_version%3D1.0"
        "%26searchCriteria%255Bfilter_groups%255D%255B0%255D%255Bfilters%255D%255B2%255D%255Bfield%255D%3Dname%26"
        "searchCriteria%255Bfilter_groups%255D%255B0%255D%255Bfilters%255D%255B10%255D%255Bfield%255D%3Dsku")
#: ``openssl dgst -sha256 -hmac 'c%20s&t%2Fs' -binary | base64`` of BASE (secrets "c s" and "t/s").
SIGNATURE = "rq//qL5hv5tH8BOmFVJygj3jeWVVTo0d/4SEnF6+ioE="


def test_fixed_vector_base_string_and_signature() -> None:
    assert base_string("GET", URL, PARAMS) == BASE
    assert signature(BASE, "c s", "t/s") == SIGNATURE


def test_fixed_vector_through_authlib() -> None:
    client = _MagentoClientAuth("ck", client_secret="c s", token="tok", token_secret="t/s",
                                signature_method="HMAC-SHA256")
    headers = prepare_headers(client.get_oauth_params("abc", "1714554000"), {})
    assert client.get_oauth_signature("GET", URL, headers, b"") == SIGNATURE


def test_authlib_table_is_left_alone() -> None:
    from authlib.oauth1 import ClientAuth

    assert "HMAC-SHA256" not in ClientAuth.SIGNATURE_METHODS


def test_natural_order_examples() -> None:
    keys = ["f%5B10%5D", "f%5B2%5D", "f%5B1%5D", "oauth_nonce", "f%5B0%5D"]
    assert sorted(keys, key=cmp_to_key(strnatcmp)) == ["f%5B0%5D", "f%5B1%5D", "f%5B2%5D", "f%5B10%5D", "oauth_nonce"]
    assert strnatcmp("a01", "a1") < 0  # leading zeros compare left-aligned, like PHP
    assert strnatcmp("x", "x") == 0


@given(st.text(alphabet="ab0129%[]_", max_size=12), st.text(alphabet="ab0129%[]_", max_size=12))
def test_client_and_server_orderings_agree(a: str, b: str) -> None:
    assert strnatcmp(a, b) == server_strnatcmp(a, b)
    assert strnatcmp(a, b) == -strnatcmp(b, a)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.fromtimestamp(int(time.time()), UTC))


async def test_client_with_eleven_filter_groups_verifies(app: Any, state: MagentoState,
                                                        creds: IntegrationCredentials) -> None:
    order_id = state.place_order([OrderItemSpec("MUG")])
    filters = [SearchFilter("increment_id", f"{n:09d}", "neq") for n in range(100, 111)]  # groups 2..12
    async with make_client("https://magento.test", oauth(creds), transport=httpx.ASGITransport(app)) as client:
        found = [o.entity_id async for o in client.iter_changed(ORDERS, datetime(2020, 1, 1, tzinfo=UTC),
                                                                filters=filters)]
    assert found == [order_id]
