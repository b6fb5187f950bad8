"""``watchdog sync``, ``sync replay`` and ``sync dead-letters`` on the served shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sync.kit import config_env, line, served_shop, write_config
from watchdog.cli import main
from watchdog.store.db import open_store, upgrade


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    store = open_store(f"sqlite:///{tmp_path}/worker.db")
    upgrade(store.engine)
    store.dispose()
    return tmp_path


def test_sync_once_replay_and_dead_letters(migrated: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with served_shop() as shop:
        for name, value in config_env(shop).items():
            monkeypatch.setenv(name, value)
        config = str(write_config(migrated, shop))
        shop.order(line("MUG", 1))
        ghost = shop.order(line("GHOST", 1))

        assert main(["sync", "--config", config, "--once", "--flow", "orders", "--json", "--no-progress"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["sync"] == {"orders": {"written": 1, "skipped": 0, "failed": 0, "dead": 1}}

        assert main(["sync", "dead-letters", "--config", config, "--json"]) == 0
        out = capsys.readouterr().out
        [letter] = json.loads(out)
        assert (letter["flow"], letter["source_id"], letter["state"]) == ("orders", str(ghost), "quarantined")
        assert "GHOST" in letter["last_error"]
        assert shop.token not in out  # dead letters never show a secret

        assert main(["sync", "replay", "--config", config, "--flow", "orders", "--id", str(ghost)]) == 1
        assert "quarantined" in capsys.readouterr().out  # still unknown: replayed, quarantined again
        shop.stokly.add_item("GHOST", "Ghost")
        assert main(["sync", "replay", "--config", config, "--flow", "orders", "--id", str(ghost)]) == 0
        assert f"orders {ghost}: written (ledger: confirmed)" in capsys.readouterr().out
        assert main(["sync", "dead-letters", "--config", config]) == 0
        assert "no dead letters" in capsys.readouterr().err
        assert len(shop.stokly.sale_orders()) == 2

        assert main(["sync", "--config", config, "--once"]) == 0  # every flow, a summary line each
        err = capsys.readouterr().err
        assert [ln.split()[1] for ln in err.splitlines() if ln.startswith("acme ")] == [
            "orders", "fulfilment", "postings", "refunds", "stock"]


def test_an_unmigrated_database_or_no_config_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with served_shop() as shop:
        for name, value in config_env(shop).items():
            monkeypatch.setenv(name, value)
        config = str(write_config(tmp_path, shop))
        assert main(["sync", "--config", config, "--once"]) == 2
        assert "watchdog db upgrade" in capsys.readouterr().err
    assert main(["sync", "--once"]) == 2
    assert "--config FILE is required" in capsys.readouterr().err
