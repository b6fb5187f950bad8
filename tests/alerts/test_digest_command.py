"""``watchdog digest --config FILE --kind slack|email [--send | --preview DIR]`` end to end."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.alerts.support import NOW, open_finding
from watchdog.cli import main
from watchdog.simulators.smtp import FakeSmtp
from watchdog.store.db import open_store, upgrade

CONFIG = """
[database]
url = "sqlite:///{db}"

[[integrations]]
name = "acme"
currency = "GBP"
timezone = "Europe/London"
  [integrations.magento]
  base_url = "http://magento.test"
  auth = "bearer"
  token_env = "T_MAGENTO"
  source_code = "stokly_main"
  [integrations.stokly]
  base_url = "http://stokly.test"
  account_key_env = "T_STOKLY"
  client_id_env = "T_STOKLY"
  client_secret_env = "T_STOKLY"
  channel_id = "ch"
  [integrations.routes]
  operations = "#ops-alerts"

[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
starttls = false
from = "watchdog@acme.test"
to = ["manager@acme.test"]

[schedule]
email_digest = "00:00"
"""


@pytest.fixture
def config_file(tmp_path: Path, smtp: FakeSmtp, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("T_MAGENTO", "m-secret")
    monkeypatch.setenv("T_STOKLY", "s-secret")
    db = tmp_path / "watchdog.db"
    store = open_store(f"sqlite:///{db}")
    upgrade(store.engine)
    open_finding(store, "order:000000001", check="missing_orders", at=NOW, summary="Order <b>1</b> not in Stokly")
    store.dispose()
    path = tmp_path / "watchdog.toml"
    path.write_text(CONFIG.format(db=db, port=smtp.port), encoding="utf-8")
    return path


def test_preview_writes_the_email_without_sending(config_file: Path, tmp_path: Path, smtp: FakeSmtp,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "preview"
    assert main(["digest", "--config", str(config_file), "--kind", "email", "--preview", str(out)]) == 0
    eml, html, txt = (next(out.glob(f"*{suffix}")) for suffix in (".eml", ".html", ".txt"))
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert "Order &lt;b&gt;1&lt;/b&gt; not in Stokly" in html.read_text(encoding="utf-8")
    assert "Orders not in the warehouse: 1" in txt.read_text(encoding="utf-8")
    assert smtp.messages == []
    assert str(eml) in capsys.readouterr().out


def test_send_goes_through_the_daily_claim(config_file: Path, smtp: FakeSmtp,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    args = ["digest", "--config", str(config_file), "--kind", "email", "--send"]
    assert main(args) == 0
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert ": sent" in printed
    assert ": already_sent" in printed
    assert len(smtp.messages) == 1


def test_slack_preview_without_a_token_still_renders(config_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "slack"
    assert main(["digest", "--config", str(config_file), "--kind", "slack", "--preview", str(out)]) == 0
    [payload] = out.glob("*.json")
    assert '"channel": "#ops-alerts"' in payload.read_text(encoding="utf-8")


def test_without_a_flag_it_prints_the_plain_text(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--config", str(config_file), "--kind", "email"]) == 0
    assert "WATCHDOG DAILY DIGEST - acme" in capsys.readouterr().out
