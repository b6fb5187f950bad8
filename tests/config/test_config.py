"""Config loading: TOML + environment, every problem reported with file, key and reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from watchdog.cli import main
from watchdog.config import ConfigError, load_config

GOOD = """
[server]
listen = "127.0.0.1:9555"
[database]
url = "sqlite:///x.db"

[[integrations]]
name = "acme-uk"
currency = "GBP"
timezone = "Europe/London"
  [integrations.magento]
  base_url = "https://shop.example.com/"
  auth = "oauth1"
  consumer_key_env = "ACME_CK"
  consumer_secret_env = "ACME_CS"
  access_token_env = "ACME_AT"
  access_token_secret_env = "ACME_ATS"
  source_code = "stokly_main"
  [integrations.stokly]
  base_url = "https://api.stok.ly"
  account_key_env = "ACME_ACCOUNT"
  client_id_env = "ACME_CLIENT"
  client_secret_env = "ACME_SECRET"
  channel_id = "ch-1"
  location_id = "loc-1"
  [integrations.sync]
  import_states = ["processing", "complete"]
  overlap = "5m"
  [integrations.checks.stock_divergence]
  tolerance_units = 1
  settle = "10m"
  [integrations.routes]
  finance = "#finance-alerts"
  operations = "#ops-alerts"

[schedule]
orders = "30s"
email_digest = "07:30"
"""

ENV = {"ACME_CK": "ck-value", "ACME_CS": "cs-value-very-secret", "ACME_AT": "at-value", "ACME_ATS": "ats-value",
       "ACME_ACCOUNT": "acme", "ACME_CLIENT": "client", "ACME_SECRET": "stokly-secret-value"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watchdog.toml"
    path.write_text(text)
    return path


def test_a_good_config_loads_into_frozen_objects(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), ENV)
    acme = config.integration("acme-uk")
    assert acme.magento.base_url == "https://shop.example.com"
    assert acme.magento.consumer_secret is not None
    assert acme.magento.consumer_secret.reveal() == "cs-value-very-secret"
    assert acme.sync.import_states == ("processing", "complete")
    assert acme.sync.overlap == timedelta(minutes=5)
    assert acme.checks["stock_divergence"]["tolerance_units"] == 1
    assert acme.routes["finance"] == "#finance-alerts"
    assert config.schedule.orders == timedelta(seconds=30)
    assert config.server.port == 9555
    with pytest.raises(AttributeError):
        acme.name = "other"  # type: ignore[misc]
    assert "cs-value-very-secret" not in repr(config)


def test_every_problem_is_listed_with_file_key_and_reason(tmp_path: Path) -> None:
    bad = GOOD.replace('currency = "GBP"', 'currency = "pounds"').replace('overlap = "5m"', 'overlap = "soon"')
    bad = bad.replace('operations = "#ops-alerts"', 'operations = "#ops-alerts"\n  warehouse = "#wh"')
    bad += '\n[surprise]\nx = 1\n'
    path = write(tmp_path, bad)
    env = {k: v for k, v in ENV.items() if k != "ACME_SECRET"}
    with pytest.raises(ConfigError) as caught:
        load_config(path, env)
    keys = {p.key: p.reason for p in caught.value.problems}
    assert all(p.file == str(path) for p in caught.value.problems)
    assert "not an ISO 4217" in keys["integrations[0].currency"]
    assert "not a duration" in keys["integrations[0].sync.overlap"]
    assert "unknown team" in keys["integrations[0].routes.warehouse"]
    assert keys["surprise"] == "unknown key"
    assert keys["integrations[0].stokly.client_secret_env"] == "environment variable ACME_SECRET is not set"


def test_missing_file_and_bad_toml_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", {})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[[integrations]\n"), {})


def test_bearer_auth_needs_only_the_token(tmp_path: Path) -> None:
    text = GOOD.replace('auth = "oauth1"', 'auth = "bearer"\n  token_env = "ACME_TOKEN"')
    for key in ("consumer_key_env", "consumer_secret_env", "access_token_env", "access_token_secret_env"):
        text = "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith(key))
    config = load_config(write(tmp_path, text), {**ENV, "ACME_TOKEN": "tok"})
    token = config.integrations[0].magento.bearer_token
    assert token is not None
    assert token.reveal() == "tok"


def test_cli_config_check_exits_2_and_never_prints_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    path = write(tmp_path, GOOD)
    assert main(["config", "check", "--config", str(path)]) == 0
    assert "OK (1 integration(s): acme-uk)" in capsys.readouterr().out
    path = write(tmp_path, GOOD.replace('source_code = "stokly_main"', ""))
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: integrations[0].magento.source_code: missing" in err
    assert not any(secret in err for secret in ENV.values() if len(secret) > 6)


def test_cli_db_upgrade_creates_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert "database at revision 0001" in capsys.readouterr().out
