"""End to end: a real Prometheus on loopback scrapes live watchdogs and evaluates our rules.

Every dashboard query must return data through Prometheus' HTTP API, every rule must
load and evaluate cleanly, and every alert the targets' state implies must have a
series. The targets come from the ``live_targets`` fixture (see conftest.py to point
this test at ``watchdog demo``); the harness adds one dead target of its own so that
WatchdogDown has something to see.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from tests.metrics.support import DASHBOARD_JSON, RULES, Targets, concrete, rule_exprs, stop
from watchdog.metrics import BOUNDED_LABELS

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(probe: Callable[[], T | None], what: str | Callable[[], str], timeout: float = 40.0) -> T:
    """Poll ``probe`` until it returns something other than None; fail naming ``what`` (or what it returns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (result := probe()) is not None:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what() if callable(what) else what}")


@pytest.fixture
def prometheus(live_targets: Targets, tmp_path: Path) -> Iterator[str]:
    """A real prometheus (1 s scrapes and evaluations, temp storage, free port); yields its URL."""
    if shutil.which("prometheus") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's prometheus package (.ci/run does)")
        pytest.skip("needs Debian's prometheus package: apt-get install prometheus")
    targets = [urlsplit(url).netloc for url in live_targets.urls] + [f"127.0.0.1:{free_port()}"]
    config = tmp_path / "prometheus.yml"  # JSON is YAML
    config.write_text(json.dumps({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "watchdog", "static_configs": [{"targets": targets}]}],
    }))
    port, log = free_port(), (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _ready(url, process), "prometheus to be ready", timeout=20)
        yield url
    finally:
        stop(process)
        log.close()


def _ready(url: str, process: subprocess.Popen[bytes]) -> bool | None:
    if process.poll() is not None:
        pytest.fail(f"prometheus exited with {process.returncode}")
    try:
        return True if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200 else None
    except httpx.TransportError:
        return None


def query(url: str, expr: str) -> list[dict[str, Any]]:
    """The instant result of ``expr``; fails the test if Prometheus rejects it."""
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def loaded_rules(url: str) -> dict[str, dict[str, Any]] | None:
    """Alerting rules as Prometheus loaded them, once each has been evaluated at least once."""
    groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    rules = {r["name"]: r for g in groups for r in g["rules"]}
    return rules if rules and all(r["health"] != "unknown" for r in rules.values()) else None


def test_every_panel_query_and_rule_returns_a_result(prometheus: str, live_targets: Targets) -> None:
    board = json.loads(DASHBOARD_JSON.read_text())
    panels = {f'{p["title"]}/{t["refId"]}': concrete(t["expr"])
              for p in board["panels"] if p["type"] != "row" for t in p["targets"]}
    # Wait until every target is up with its rates, then until every panel has data.
    eventually(lambda: True if len(query(prometheus, 'up{job="watchdog"} == 1')) == len(live_targets.urls) else None,
               "every target to be scraped")
    empty: list[str] = []

    def all_panels_have_data() -> bool | None:
        empty[:] = [title for title, expr in panels.items() if not query(prometheus, expr)]
        return None if empty else True

    eventually(all_panels_have_data, lambda: f"every panel query to return data; still empty: {empty}")

    rules = eventually(lambda: loaded_rules(prometheus), "every rule to be evaluated")
    assert set(rules) == set(rule_exprs())
    for name, rule in rules.items():
        assert rule["health"] == "ok", (name, rule.get("lastError"))
        result = query(prometheus, rule["query"])
        if name in live_targets.firing:
            assert result, f"{name}: {rule['query']} returned nothing"

    series = httpx.get(f"{prometheus}/api/v1/series", params={"match[]": '{__name__=~"watchdog_.+"}'}, timeout=5).json()
    labels = set().union(*(s.keys() for s in series["data"]))
    assert labels <= BOUNDED_LABELS | {"__name__", "job", "instance", "le"}, labels - BOUNDED_LABELS

    active = {a["labels"]["alertname"] for a in httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()
              ["data"]["alerts"]}
    assert live_targets.firing <= active, live_targets.firing - active
