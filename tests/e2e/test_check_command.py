"""``watchdog check --config FILE --once [--json]`` against the simulators over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchdog.cli import main
from watchdog.simulators.embedded import DEFAULT_CREDENTIALS, EmbeddedSystems
from watchdog.simulators.merchant import build_merchant
from watchdog.simulators.scenario import SimClock, builtin_scenario

REQUIRED = {"integration", "check", "subject", "fingerprint", "severity", "owner", "status", "summary",
            "measures", "first_seen", "last_seen", "runbook"}


@pytest.fixture
def systems() -> Iterator[EmbeddedSystems]:
    now = datetime.now(UTC)
    clock = SimClock(now)
    merchant = build_merchant(builtin_scenario("demo"), now, clock=clock)
    clock.follow_real_time()
    with EmbeddedSystems(merchant) as embedded:
        yield embedded


@pytest.fixture
def config(systems: EmbeddedSystems, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    c = DEFAULT_CREDENTIALS
    for var, value in {"T_MAGENTO": c.magento_access_token, "T_ACCOUNT": c.stokly_account,
                       "T_CLIENT": c.stokly_client_id, "T_SECRET": c.stokly_client_secret}.items():
        monkeypatch.setenv(var, value)
    path = tmp_path / "watchdog.toml"
    path.write_text(f"""
[database]
url = "sqlite:///{tmp_path}/w.db"
[[integrations]]
name = "sim"
  [integrations.magento]
  base_url = "{systems.magento_url}"
  auth = "bearer"
  token_env = "T_MAGENTO"
  source_code = "stokly_main"
  [integrations.stokly]
  base_url = "{systems.stokly_url}"
  account_key_env = "T_ACCOUNT"
  client_id_env = "T_CLIENT"
  client_secret_env = "T_SECRET"
  channel_id = "{systems.merchant.channel_id}"
  rate_per_s = 0
""")
    return path


def test_check_needs_a_migrated_database(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(config), "--once"]) == 2
    assert "watchdog db upgrade" in capsys.readouterr().err


def test_check_once_json_lists_exactly_the_injected_failures(config: Path, systems: EmbeddedSystems,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["check", "--config", str(config), "--once", "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)
    assert all(set(f) >= REQUIRED for f in findings)
    found = {(f["check"], f["subject"]) for f in findings}
    injected = {(e.check, e.subject) for e in systems.merchant.expected}
    # no sync worker has ever pushed stock here, so the watchdog also says the push is stale
    assert found == injected | {("stale_stock_push", "flow:stock")}
    assert main(["check", "--config", str(config), "--once"]) == 0
    table = capsys.readouterr().out
    assert f"{len(findings)} open finding(s)" in table
    assert "sim-magento-access-token" not in table
