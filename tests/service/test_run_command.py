"""``watchdog run`` refuses to start on a bad schedule, an old database or a taken port, saying why."""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from watchdog.cli import main
from watchdog.store.db import open_store, upgrade

ENV = {"RUN_MAGENTO": "magento-token-1234", "RUN_ACCOUNT": "acme", "RUN_CLIENT": "client", "RUN_SECRET": "secret"}


@pytest.fixture(autouse=True)
def restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command installs signal handlers and a JSON log handler: put the test process's back."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    root.handlers[:], root.level = saved


def write(tmp_path: Path, *, port: int = 0, schedule: str = "") -> Path:
    path = tmp_path / "watchdog.toml"
    path.write_text(f"""
[server]
listen = "127.0.0.1:{port}"
[database]
url = "sqlite:///{tmp_path}/w.db"
[[integrations]]
name = "acme"
  [integrations.magento]
  base_url = "http://127.0.0.1:9"
  auth = "bearer"
  token_env = "RUN_MAGENTO"
  source_code = "main"
  [integrations.stokly]
  base_url = "http://127.0.0.1:9"
  account_key_env = "RUN_ACCOUNT"
  client_id_env = "RUN_CLIENT"
  client_secret_env = "RUN_SECRET"
  channel_id = "c"
[schedule]
{schedule}
""")
    return path


def test_a_schedule_the_scheduler_cannot_keep_is_a_configuration_problem(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", str(write(tmp_path, schedule='orders = "1.5s"\nchecks = "500ms"'))]) == 2
    err = capsys.readouterr().err
    assert "schedule.orders: 1.5s: intervals are whole seconds, at least 1s" in err
    assert "schedule.checks: 0.5s" in err


def test_an_unmigrated_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", str(write(tmp_path))]) == 2
    assert "watchdog db upgrade" in capsys.readouterr().err


def test_a_taken_listen_address_exits_1_after_logging_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(f"sqlite:///{tmp_path}/w.db")
    upgrade(store.engine)
    store.dispose()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["run", "--config", str(write(tmp_path, port=taken.getsockname()[1]))]) == 1
    err = capsys.readouterr().err
    assert '"event": "service.failed"' in err
    assert "magento-token-1234" not in err
