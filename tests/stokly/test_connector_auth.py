"""The connector's app grant: reuse, early refresh, recovery after expiry, refusal, and secret hygiene."""

from __future__ import annotations

import logging

import pytest

from tests.stokly.conftest import FakeClock, MakeClient, Merchant
from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.stokly import StoklyClient, StoklyCredentials, grant_signature
from watchdog.secret import Secret
from watchdog.simulators.faults import FaultRule
from watchdog.simulators.stokly import StoklySimApp, StoklySimSettings, sign


async def test_one_grant_serves_many_calls(stokly: StoklyClient, sim: StoklySimApp, merchant: Merchant) -> None:
    for _ in range(3):
        assert len(await stokly.locations()) == 2
    assert sim.tokens.grants == 1


async def test_refreshes_shortly_before_expiry(stokly: StoklyClient, sim: StoklySimApp, clock: FakeClock,
                                               merchant: Merchant) -> None:
    await stokly.locations()
    clock.advance(3600 - 80)  # still valid at the server, but inside the refresh margin
    await stokly.locations()
    assert sim.tokens.grants == 2
    await stokly.locations()
    assert sim.tokens.grants == 2


async def test_short_lifetimes_refresh_at_half_life(make_client: MakeClient, sim: StoklySimApp, clock: FakeClock,
                                                    merchant: Merchant) -> None:
    sim.settings.update(token_lifetime_s=30)
    stokly = make_client()
    await stokly.locations()
    clock.advance(10)
    await stokly.locations()
    assert sim.tokens.grants == 1
    clock.advance(6)
    await stokly.locations()
    assert sim.tokens.grants == 2


async def test_recovers_after_a_forced_expiry(stokly: StoklyClient, sim: StoklySimApp, merchant: Merchant) -> None:
    await stokly.locations()
    sim.tokens.expire_all()
    assert {c.channel_id for c in await stokly.channels()} == {merchant.channel}
    assert sim.tokens.grants == 2


@pytest.mark.parametrize("rule", [
    FaultRule("status", route="POST /v1/grant", status=503, count=2),
    FaultRule("rate_limit", route="POST /v1/grant", count=1),
    FaultRule("malformed", route="POST /v1/grant", count=1),
    FaultRule("truncated", route="POST /v1/grant", count=1),
], ids=lambda r: r.kind)
async def test_a_transient_grant_failure_is_retried(make_client: MakeClient, sim: StoklySimApp,
                                                    merchant: Merchant, rule: FaultRule) -> None:
    sim.faults.add(rule)
    assert len(await make_client().locations()) == 2
    assert sim.tokens.grants == (2 if rule.kind == "truncated" else 1)  # a truncated grant was still issued


async def test_refused_credentials_are_permanent(make_client: MakeClient, settings: StoklySimSettings,
                                                 sim: StoklySimApp) -> None:
    wrong = StoklyCredentials(settings.account_key, settings.client_id, Secret("not-the-secret"))
    with pytest.raises(UpstreamError) as caught:
        await make_client(creds=wrong).locations()
    assert (caught.value.kind, caught.value.status, caught.value.route) == (ErrorKind.PERMANENT, 401, "/v1/grant")
    assert "Invalid credentials" in str(caught.value)


def test_signature_matches_the_simulator(settings: StoklySimSettings) -> None:
    secret = Secret(settings.client_secret)
    assert grant_signature(settings.client_id, secret) == sign(settings.client_id, settings.client_secret)


async def test_no_secret_signature_or_token_in_errors_reprs_or_logs(
    make_client: MakeClient, sim: StoklySimApp, settings: StoklySimSettings, merchant: Merchant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = settings.client_secret
    good = make_client()
    await good.locations()
    token = await good.auth.token()
    sim.faults.add(FaultRule("status", route="GET /v0/items", status=500))
    sim.tokens.expire_all()
    with pytest.raises(UpstreamError) as server_error:
        await good.items()
    bad_creds = StoklyCredentials(settings.account_key, settings.client_id, Secret("wrong-" + secret))
    with pytest.raises(UpstreamError) as refused:
        await make_client(creds=bad_creds).locations()
    texts = [str(server_error.value), repr(server_error.value), str(refused.value), repr(refused.value),
             repr(good), repr(good.auth), repr(bad_creds), str(bad_creds), caplog.text]
    signatures = [sign(settings.client_id, secret), sign(settings.client_id, "wrong-" + secret)]
    for needle in (secret, "wrong-" + secret, token, *signatures):
        assert not any(needle in text for text in texts), needle
    assert "Secret(**********)" not in repr(bad_creds)  # the field is left out of the repr entirely
