"""``watchdog findings ...`` end to end: a real config file, a real SQLite database, the CLI's main()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.support import NOW, integration, registry, snapshots
from watchdog.cli import main
from watchdog.engine import run_checks
from watchdog.findings import fingerprint
from watchdog.store.db import open_store, upgrade

CONFIG = """
[database]
url = "sqlite:///{db}"

[[integrations]]
name = "acme"
currency = "GBP"
  [integrations.magento]
  base_url = "https://shop.example.com"
  auth = "bearer"
  token_env = "T_TOKEN"
  source_code = "stokly_main"
  [integrations.stokly]
  base_url = "https://api.stok.ly"
  account_key_env = "T_ACCOUNT"
  client_id_env = "T_CLIENT"
  client_secret_env = "T_SECRET"
  channel_id = "ch-magento"
"""
FP = fingerprint("acme", "stock_divergence", "sku:A")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for var in ("T_TOKEN", "T_ACCOUNT", "T_CLIENT", "T_SECRET"):
        monkeypatch.setenv(var, "x")
    db = tmp_path / "w.db"
    store = open_store(f"sqlite:///{db}")
    upgrade(store.engine)
    magento, stokly, ledger = snapshots({"A": 9, "B": 2})
    run_checks(store, integration(), magento, stokly, ledger, NOW, registry=registry())
    store.dispose()
    path = tmp_path / "watchdog.toml"
    path.write_text(CONFIG.format(db=db))
    return str(path)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_as_a_table_and_as_json(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "findings", "list", "--config", config)
    assert code == 0
    assert FP[:12] in out
    assert "sku:A" in out
    assert "2 finding(s)" in out
    code, out, _ = cli(capsys, "findings", "list", "--config", config, "--json", "--check", "stock_divergence")
    data = json.loads(out)
    assert {d["subject"] for d in data} == {"sku:A", "sku:B"}
    assert data[0]["severity"] == "critical"
    assert data[0]["currency"] == "GBP"
    _, out, _ = cli(capsys, "findings", "list", "--config", config, "--status", "resolved")
    assert "no findings" in out


def test_show_ack_and_resolve(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "findings", "ack", "--config", config, FP[:8], "--by", "alice", "--comment", "on it")
    assert code == 0
    assert "acknowledged" in out
    code, out, _ = cli(capsys, "findings", "show", "--config", config, FP[:8], "--json")
    data = json.loads(out)
    assert data["acked_by"] == "alice"
    assert [t["kind"] for t in data["transitions"]] == ["opened", "acked"]
    code, out, _ = cli(capsys, "findings", "show", "--config", config, FP[:8])
    assert "measure:" in out
    assert "acked" in out
    code, out, _ = cli(capsys, "findings", "resolve", "--config", config, FP, "--by", "alice")
    assert code == 0
    assert "resolved" in out
    code, _, err = cli(capsys, "findings", "resolve", "--config", config, FP, "--by", "alice")
    assert code == 1
    assert "already resolved" in err


def test_unknown_or_ambiguous_fingerprints_exit_1(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "findings", "show", "--config", config, "ffffffff")
    assert code == 1
    assert "no finding" in err
    code, _, err = cli(capsys, "findings", "ack", "--config", config, "ab", "--by", "x")
    assert code == 1
    assert "at least 4" in err


def test_silence_and_list_silences(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "findings", "silence", "--config", config, "--check", "stock_divergence",
                       "--subject", "sku:A*", "--for", "2h", "--by", "bob", "--comment", "stocktake")
    assert code == 0
    assert "check=stock_divergence subject=sku:A*" in out
    _, out, _ = cli(capsys, "findings", "silences", "--config", config, "--json")
    [silence] = json.loads(out)
    assert (silence["author"], silence["comment"], silence["subject"]) == ("bob", "stocktake", "sku:A*")
    code, _, err = cli(capsys, "findings", "silence", "--config", config, "--for", "2h", "--by", "b", "--comment", "c")
    assert code == 2
    assert "at least one matcher" in err
    code, _, err = cli(capsys, "findings", "silence", "--config", config, "--check", "x", "--for", "soon",
                       "--by", "b", "--comment", "c")
    assert code == 2
    assert "--for" in err
