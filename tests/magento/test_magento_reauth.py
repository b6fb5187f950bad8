"""A Magento 401: an admin sign-in is renewed once and the request resent; a fixed token or OAuth is not.

Every test talks to the simulator over real HTTP on loopback and counts what went over the wire.
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from magento_kit import bearer, make_client

from tests.http_kit import Counting
from watchdog.config import ConfigError, config_from_mapping
from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.magento import AdminLogin, BearerToken
from watchdog.secret import Secret
from watchdog.simulators.magento import IntegrationCredentials, MagentoState, SimClock
from watchdog.simulators.serve import ServedApp

PASSWORD = "admin-pass-77e1"
SIGN_IN = "/rest/V1/integration/admin/token"


async def test_an_expired_admin_token_is_renewed_and_the_request_resent(
        served: ServedApp, state: MagentoState, clock: SimClock) -> None:
    state.add_admin_user("ops", PASSWORD)
    counting = Counting()
    async with make_client(served.url, AdminLogin("ops", Secret(PASSWORD)), transport=counting) as client:
        assert await client.salable_qty("MUG", 1) == 50
        clock.advance(state.settings.admin_token_ttl_s + 1)  # the token Magento gave has expired
        assert await client.salable_qty("MUG", 1) == 50
    assert counting.paths[SIGN_IN] == 2
    assert len(state.admin_tokens) == 2


async def test_an_admin_refused_after_a_fresh_sign_in_fails_once(
        served: ServedApp, state: MagentoState, caplog: pytest.LogCaptureFixture) -> None:
    state.add_admin_user("viewer", PASSWORD, resources=["Magento_Catalog::products"])
    counting = Counting()
    with caplog.at_level(logging.INFO), pytest.raises(UpstreamError) as caught:
        async with make_client(served.url, AdminLogin("viewer", Secret(PASSWORD)), transport=counting) as client:
            await client.order(1)
    assert (caught.value.kind, caught.value.status) == (ErrorKind.PERMANENT, 401)
    assert "fresh admin sign-in" in caught.value.message
    assert counting.paths == Counter({SIGN_IN: 2, "/rest/V1/orders/1": 2})
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert PASSWORD not in caplog.text


async def test_a_wrong_admin_password_is_permanent_on_the_sign_in(served: ServedApp, state: MagentoState) -> None:
    state.add_admin_user("ops", PASSWORD)
    counting = Counting()
    with pytest.raises(UpstreamError) as caught:
        async with make_client(served.url, AdminLogin("ops", Secret("wrong-" + PASSWORD)), transport=counting) as c:
            await c.salable_qty("MUG", 1)
    assert (caught.value.kind, caught.value.status, caught.value.route) == (
        ErrorKind.PERMANENT, 401, "POST /V1/integration/admin/token")
    assert counting.paths == Counter({SIGN_IN: 1})
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("token", ["revoked-token-1c9a", None], ids=["unknown token", "good token, no ACL"])
async def test_a_fixed_token_is_a_credential_problem_never_retried(
        served: ServedApp, state: MagentoState, creds: IntegrationCredentials, token: str | None,
        caplog: pytest.LogCaptureFixture) -> None:
    limited = state.add_integration("limited", resources=["Magento_Catalog::products"])
    auth = BearerToken(Secret(token)) if token else bearer(limited)
    counting = Counting()
    with caplog.at_level(logging.INFO), pytest.raises(UpstreamError) as caught:
        async with make_client(served.url, auth, transport=counting) as client:
            await client.order(1)
    assert (caught.value.kind, caught.value.status) == (ErrorKind.PERMANENT, 401)
    assert "cannot be renewed automatically" in caught.value.message
    assert counting.paths == Counter({"/rest/V1/orders/1": 1})
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [(r.system, r.route) for r in warnings] == [("magento", "GET /V1/orders/{id}")]  # type: ignore[attr-defined]
    assert (token or limited.access_token) not in caplog.text


def test_admin_auth_is_configured_by_username_and_password_env() -> None:
    raw = {"integrations": [{"name": "shop", "magento": {
        "base_url": "https://shop.example.com", "auth": "admin", "username": "ops", "password_env": "MAGENTO_PW",
        "source_code": "main"}, "stokly": {
        "base_url": "https://api.stok.ly", "account_key_env": "A", "client_id_env": "C", "client_secret_env": "S",
        "channel_id": "ch"}}]}
    env = {"MAGENTO_PW": PASSWORD, "A": "a", "C": "c", "S": "s"}
    magento = config_from_mapping(raw, "w.toml", env).integrations[0].magento
    assert (magento.auth, magento.username, magento.password) == ("admin", "ops", Secret(PASSWORD))
    with pytest.raises(ConfigError, match="password_env: environment variable MAGENTO_PW is not set"):
        config_from_mapping(raw, "w.toml", {k: v for k, v in env.items() if k != "MAGENTO_PW"})
