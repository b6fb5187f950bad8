"""Secrets never leave: the demo run with recognisable fake credentials leaks none of them anywhere.

Every credential of the demo (Magento integration token, consumer key and secret, token secret;
Stokly account key, client id and secret; the Slack bot token) is replaced by a value carrying
``CANARY`` (through ``watchdog.demo_setup``'s constant and the ``EmbeddedSystems`` it builds), the
fake Slack is told to echo the caller's token in error bodies (a hostile server) and the trading
simulation breaks things so that error paths run. Then every log record (with tracebacks), the
console, the process's own stdout and stderr, and every file the demo leaves (summary, findings,
metrics, Slack requests including the digests, ``.eml`` messages and the SQLite database with its
dead letters) is scanned: zero occurrences of any of them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import watchdog.demo_setup as demo_setup
from watchdog.demo import run_demo
from watchdog.simulators.embedded import EmbeddedSystems, SimCredentials
from watchdog.simulators.fake_slack import FakeSlack

CANARY = "CANARYx7Q"
CREDENTIALS = SimCredentials(
    magento_consumer_key=f"ck-{CANARY}-consumer-key", magento_consumer_secret=f"cs-{CANARY}-consumer-secret",
    magento_access_token=f"at-{CANARY}-access-token", magento_token_secret=f"ts-{CANARY}-token-secret",
    stokly_account=f"acct-{CANARY}", stokly_client_id=f"client{CANARY}0000000000000",
    stokly_client_secret=f"stk-{CANARY}-client-secret",
)
SLACK_TOKEN = f"xoxb-{CANARY}-slack-token"
SECRETS = [SLACK_TOKEN, *(getattr(CREDENTIALS, f) for f in CREDENTIALS.__dataclass_fields__)]


class Collect(logging.Handler):
    """Every log record, formatted with its traceback, from every logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Collect]:
    handler, root = Collect(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def hostile_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo with the canary credentials, against a fake Slack that echoes tokens when it fails."""
    monkeypatch.setattr(demo_setup, "SLACK_TOKEN", SLACK_TOKEN)
    monkeypatch.setattr(demo_setup, "EmbeddedSystems", functools.partial(EmbeddedSystems, credentials=CREDENTIALS))
    real_init = FakeSlack.__init__

    def echoing(self: FakeSlack, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        self.fail("echo_token", times=2, method="chat.postMessage")

    monkeypatch.setattr(FakeSlack, "__init__", echoing)


def leaks(blob: bytes) -> list[str]:
    """Each line of ``blob`` that holds the canary (any secret, whole or in part), cut short."""
    return [line[:300].decode(errors="replace") for line in blob.splitlines() if CANARY.encode() in line]


@pytest.mark.usefixtures("hostile_demo")
def test_the_demo_leaks_no_secret(tmp_path: Path, logs: Collect, capfd: pytest.CaptureFixture[str]) -> None:
    console: list[str] = []
    assert run_demo(seconds=5, out=tmp_path, echo=console.append) == 0
    streams = capfd.readouterr()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".json", ".txt", ".eml", ".db"} <= kinds, f"the demo left its outputs: {sorted(kinds)}"
    assert list((tmp_path / "slack").glob("*.json"))
    assert list((tmp_path / "email").glob("*.eml"))
    assert any("error" in line.lower() or "fail" in line.lower() for line in logs.lines), \
        "error paths ran (the scan would prove little otherwise)"
    leaked = {str(p.relative_to(tmp_path)): leaks(p.read_bytes()) for p in files}
    leaked["console"] = leaks("\n".join([*console, streams.out, streams.err]).encode())
    leaked["logs"] = leaks("\n".join(logs.lines).encode())
    assert {where: found for where, found in leaked.items() if found} == {}
