"""``watchdog doctor`` against both simulators over real HTTP: verdicts, exit codes, outputs, read only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.doctor.conftest import CANARY, ConfigWriter, Sims
from watchdog.cli import main
from watchdog.simulators.embedded import DEFAULT_CREDENTIALS

VERDICT_LINE = re.compile(r"^(PASS|WARN|FAIL)  (magento|stokly) ")


def run(capsys: pytest.CaptureFixture[str], config: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["doctor", "--config", str(config), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def lines(out: str, verdict: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(verdict + " ")]


def secrets() -> list[str]:
    c = DEFAULT_CREDENTIALS
    return [CANARY, c.magento_access_token, c.stokly_client_secret, c.stokly_client_id]


GRANT = ("POST", "/v1/grant")
ADMIN_SIGN_IN = ("POST", "/rest/V1/integration/admin/token")


def assert_read_only(sims: Sims, tokens: tuple[tuple[str, str], ...] = (GRANT,)) -> None:
    """Only GETs and the token POSTs reached the simulators; no control route was touched."""
    sent = sims.magento_log.requests + sims.stokly_log.requests
    assert sent, "doctor sent nothing"
    writes = [(m, p) for m, p in sent if m != "GET" and (m, p) not in tokens]
    assert writes == []
    assert not [p for _, p in sent if p.startswith("/_sim/")]


def test_everything_passes_against_the_simulators(sims: Sims, write_config: ConfigWriter,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    sims.forget_requests()
    code, out, err = run(capsys, write_config())
    assert code == 0, out
    assert lines(out, "FAIL") == []
    checks = [line for line in out.splitlines() if VERDICT_LINE.match(line)]
    for expected in ('credentials  access token (auth = "bearer"): accepted',
                     "app grant (POST /v1/grant): a token was granted",
                     "clock skew", "GET /V1/orders: answered", "GET /v2/shipments: answered",
                     f"channel {sims.merchant.channel_id}: exists and is a Magento channel",
                     "designated location", "linked to stock", "import state 'processing'",
                     "x-ratelimit-remaining: on all", "/v2/shipments shape"):
        assert any(expected in line for line in checks), (expected, out)
    # every WARN is something doctor cannot verify on this account, never a contradiction of a used field
    assert all("write permissions" in w or "shape" in w for w in lines(out, "WARN"))
    assert "shape calibration of sim" in out
    assert not any(s in out + err for s in secrets())
    assert_read_only(sims)


def test_a_wrong_channel_is_named(write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, write_config(channel_id="no-such-channel"))
    assert code == 1
    failed = lines(out, "FAIL")
    assert any("mapping      channel no-such-channel: does not exist in Stokly" in line for line in failed)
    assert any("set [integrations.stokly] channel_id" in line for line in failed)


def test_a_missing_designated_location_is_named(write_config: ConfigWriter,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, write_config(location_id="00000000-0000-0000-0000-00000000dead"))
    assert code == 1
    assert any("designated location 00000000-0000-0000-0000-00000000dead: does not exist in Stokly" in line
               for line in lines(out, "FAIL"))


def test_a_bad_stokly_secret_is_named_and_never_printed(sims: Sims, write_config: ConfigWriter,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    wrong = f"{CANARY}-secret"
    sims.forget_requests()
    code, out, err = run(capsys, write_config(stokly_secret=wrong))
    assert code == 1
    failed = lines(out, "FAIL")
    assert any("credentials  app grant (POST /v1/grant)" in line and "client secret" in line for line in failed)
    assert any("not checked: no Stokly token" in line for line in failed)
    assert CANARY not in out + err
    assert [r for r in sims.stokly_log.requests if r[0] != "GET"] == [("POST", "/v1/grant")]


def test_a_bad_magento_token_is_named(write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, write_config(magento_token=f"{CANARY}-token"))
    assert code == 1
    failed = lines(out, "FAIL")
    assert any("magento  credentials  access token (auth = \"bearer\"): no read answered" in line
               and "enable_integration_as_bearer" in line for line in failed)
    assert CANARY not in out + err


def test_a_missing_acl_resource_is_named(sims: Sims, write_config: ConfigWriter,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    everything_but_memos = ["Magento_Catalog::products", "Magento_InventoryApi::source", "Magento_InventoryApi::stock",
                            "Magento_InventoryApi::stock_source_link", "Magento_InventorySalesApi::stock",
                            "Magento_Sales::actions_view", "Magento_Sales::shipment", "Magento_Sales::sales_invoice",
                            "Magento_Logging::system_magento_logging_bulk_operations"]
    creds = sims.merchant.magento.add_integration("limited", resources=everything_but_memos)
    for var, value in {"M_CK": creds.consumer_key, "M_CS": creds.consumer_secret, "M_AT": creds.access_token,
                       "M_TS": creds.access_token_secret}.items():
        monkeypatch.setenv(var, value)
    oauth = ('auth = "oauth1"\n  consumer_key_env = "M_CK"\n  consumer_secret_env = "M_CS"\n'
             '  access_token_env = "M_AT"\n  access_token_secret_env = "M_TS"')
    code, out, err = run(capsys, write_config(magento=oauth))
    assert code == 1
    assert any("credentials  OAuth 1.0a (auth = \"oauth1\"): accepted" in line for line in lines(out, "PASS"))
    failed = lines(out, "FAIL")
    assert [line.split(": ")[0].split("route")[1].strip() for line in failed] == [
        "GET /V1/creditmemos", "GET /V1/creditmemo/{id}"]
    assert "refused (HTTP 401): The consumer isn't authorized to access Magento_Sales::sales_creditmemo" in failed[0]
    assert all("grant the ACL resource Magento_Sales::sales_creditmemo" in line for line in failed)
    assert creds.access_token_secret not in out + err
    assert creds.consumer_secret not in out + err


def test_a_bad_import_state_is_named(write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, write_config(import_states='["processing", "pending"]'))
    assert code == 1
    assert any("import state 'pending': not a Magento order state; 'pending' is a status of state 'new'" in line
               for line in lines(out, "FAIL"))


def test_a_dropped_assumed_field_fails_and_names_its_constant(sims: Sims, write_config: ConfigWriter,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    sims.shape({"drop": [{"route": "/v2/saleorders", "field": "tax"}]})
    code, out, _ = run(capsys, write_config())
    assert code == 1
    [line] = [line for line in lines(out, "FAIL") if "/v2/saleorders tax" in line]
    assert "absent in 50 of 50" in line
    assert "SALE_ORDER.tax" in line
    assert "tell us" in line


def test_a_renamed_field_names_the_other_name_seen_nearby(sims: Sims, write_config: ConfigWriter,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    sims.shape({"rename": [{"route": "/v2/shipments", "field": "trackingNumber", "to": "tracking_no"}]})
    code, out, _ = run(capsys, write_config(), "--json")
    assert code == 1
    [report] = json.loads(out)["integrations"]
    [tally] = [t for t in report["calibration"] if (t["route"], t["path"]) == ("/v2/shipments", "trackingNumber")]
    assert tally["present"] == 0
    assert tally["absent"] == tally["seen"] > 0
    assert tally["nearby"] == {"tracking_no": tally["seen"]}
    [check] = [c for c in report["checks"] if c["what"] == "/v2/shipments trackingNumber"]
    assert check["verdict"] == "fail"
    assert "SHIPMENT.tracking_number" in check["fix"]
    assert "'tracking_no'" in check["fix"]


def test_json_carries_every_verdict(write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, write_config(channel_id="no-such-channel"), "--json")
    document = json.loads(out)
    assert code == 1
    assert document["verdict"] == "fail"
    [report] = document["integrations"]
    assert report["integration"] == "sim"
    assert {c["verdict"] for c in report["checks"]} == {"pass", "warn", "fail"}
    assert all(set(c) == {"system", "area", "what", "verdict", "detail", "fix"} for c in report["checks"])
    assert report["counts"]["fail"] == sum(c["verdict"] == "fail" for c in report["checks"])
    assert report["sampled"]["/v2/saleorders"] == 50
    assert not any(s in out for s in secrets())


def test_report_writes_a_self_contained_page_without_secrets(write_config: ConfigWriter, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    wrong = f"{CANARY}-secret"
    code, out, err = run(capsys, write_config(stokly_secret=wrong), "--report", str(tmp_path / "out"))
    page = (tmp_path / "out" / "doctor.html").read_text(encoding="utf-8")
    assert code == 1
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    assert not re.search(r"<(link|script|img)\b", page)
    for verdict in ("pass", "fail"):
        assert f'class="verdict {verdict}"' in page
    assert "app grant (POST /v1/grant)" in page
    assert "access token" in page
    assert not any(s in page + out + err for s in [*secrets(), wrong])


def test_usage_errors_exit_2(write_config: ConfigWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, write_config(), "--integration", "other")[0] == 2
    assert run(capsys, tmp_path / "missing.toml")[0] == 2


def test_a_stokly_serving_only_confirmed_fields_has_every_assumed_field_named(
        sims: Sims, write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    sims.shape({"confirmed_only": True})
    sims.forget_requests()
    code, out, _ = run(capsys, write_config(location_id=sims.merchant.location_id), "--json")
    [report] = json.loads(out)["integrations"]
    named = {c["what"] for c in report["checks"] if c["area"] == "shape" and c["verdict"] != "pass"}
    unconfirmed = {f"{t['route']} {t['path']}" for t in report["calibration"]
                   if t["evidence"] != "confirmed" and t["seen"]}
    assert code == 1
    assert unconfirmed
    assert unconfirmed <= named
    assert_read_only(sims)


def test_oauth_over_plain_http_to_a_remote_host_is_a_usage_error(write_config: ConfigWriter, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("M_CK", "M_CS", "M_AT", "M_TS"):
        monkeypatch.setenv(var, CANARY)
    oauth = ('auth = "oauth1"\n  consumer_key_env = "M_CK"\n  consumer_secret_env = "M_CS"\n'
             '  access_token_env = "M_AT"\n  access_token_secret_env = "M_TS"')
    config = write_config(magento=oauth)
    config.write_text(re.sub(r'base_url = "http://127\.0\.0\.1:\d+"', 'base_url = "http://shop.example"',
                             config.read_text(), count=1))
    code, out, err = run(capsys, config)
    assert code == 2
    assert "OAuth 1.0a needs an https base URL" in err
    assert CANARY not in out + err


def test_an_unreachable_magento_is_named_once(write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config()
    config.write_text(re.sub(r'base_url = "http://127\.0\.0\.1:\d+"', 'base_url = "http://127.0.0.1:9"',
                             config.read_text(), count=1))
    code, out, _ = run(capsys, config)
    assert code == 1
    [line] = [line for line in lines(out, "FAIL") if line.startswith("FAIL  magento")]
    assert "Magento could not be reached" in line
    assert "base_url" in line


@pytest.mark.parametrize("password", ["right", "wrong"])
def test_admin_sign_in_is_the_only_magento_post(sims: Sims, write_config: ConfigWriter, password: str,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    sims.merchant.magento.add_admin_user("doctor-admin", f"{CANARY}-right")
    monkeypatch.setenv("M_PASSWORD", f"{CANARY}-{password}")
    sims.forget_requests()
    code, out, err = run(capsys, write_config(
        magento='auth = "admin"\n  username = "doctor-admin"\n  password_env = "M_PASSWORD"'))
    credentials = next(line for line in out.splitlines() if "magento  credentials" in line)
    if password == "right":
        assert credentials.startswith('PASS  magento  credentials  admin sign-in (auth = "admin"): accepted')
    else:
        assert code == 1
        assert credentials.startswith("FAIL")
        assert "admin sign-in failed" in credentials
    assert [(m, p) for m, p in sims.magento_log.requests if m != "GET"] == [ADMIN_SIGN_IN]  # one sign-in only
    assert_read_only(sims, (GRANT, ADMIN_SIGN_IN))
    assert CANARY not in out + err
