"""Building the connectors from an integration's configuration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from watchdog.clients import magento_auth, magento_client, open_clients, stokly_client, tls_context
from watchdog.config import IntegrationConfig, MagentoConfig, StoklyConfig
from watchdog.connectors.magento import BearerToken, OAuth1Credentials
from watchdog.secret import Secret

MAGENTO = MagentoConfig(base_url="https://shop.example.com", auth="oauth1", source_code="wh1",
                        consumer_key=Secret("ck"), consumer_secret=Secret("cs"), access_token=Secret("at"),
                        access_token_secret=Secret("ats"), timeout_s=3.0, concurrency=2, rate_per_s=5.0)
STOKLY = StoklyConfig(base_url="https://api.stok.ly", account_key=Secret("acme"), client_id=Secret("client"),
                      client_secret=Secret("shh"), channel_id="ch-1", timeout_s=4.0, concurrency=3, rate_per_s=2.0)


def test_credentials_come_from_the_config() -> None:
    assert isinstance(magento_auth(MAGENTO), OAuth1Credentials)
    assert magento_auth(replace(MAGENTO, auth="bearer", bearer_token=Secret("t"))) == BearerToken(Secret("t"))
    with pytest.raises(ValueError, match="no token"):
        magento_auth(replace(MAGENTO, auth="bearer"))
    with pytest.raises(ValueError, match="four OAuth values"):
        magento_auth(replace(MAGENTO, access_token=None))


def test_oauth_is_refused_over_plain_http_except_on_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        magento_client(replace(MAGENTO, base_url="http://shop.example.com"))
    assert magento_client(replace(MAGENTO, base_url="http://127.0.0.1:8080")).base_url == "http://127.0.0.1:8080"


async def test_limits_and_timeouts_follow_the_config() -> None:
    magento, stokly = magento_client(MAGENTO), stokly_client(STOKLY)
    try:
        assert (magento.limiter.rate, stokly.limiter.rate) == (5.0, 2.0)
        assert magento._http.timeout.read == 3.0
        assert stokly._http.timeout.read == 4.0
        assert "shh" not in repr(stokly)
        assert "cs" not in repr(magento)
    finally:
        await magento.aclose()
        await stokly.aclose()
    assert tls_context() is tls_context()  # built once per process


async def test_open_clients_closes_both() -> None:
    integration = IntegrationConfig(name="acme", currency="GBP", timezone="Europe/London", magento=MAGENTO,
                                    stokly=STOKLY)
    async with open_clients(integration) as clients:
        magento, stokly = clients.magento, clients.stokly
    assert magento._http.is_closed
    assert stokly._http.is_closed
