"""End to end on the main job: a real Prometheus scrapes a running ``watchdog demo``.

Every dashboard panel query returns data through Prometheus' HTTP API, every rule loads
and evaluates cleanly, the alerts the demo's failures imply are pending or firing, and
``promtool check metrics`` accepts a live scrape of the demo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.metrics.support import DASHBOARD_JSON, Targets, concrete, promtool, rule_exprs, stop
from tests.metrics.test_prometheus_e2e import eventually, free_port, loaded_rules, prometheus, query

__all__ = ["prometheus"]  # the fixture, re-used with this module's live_targets

DEMO_FIRING = frozenset({"WatchdogDown", "WatchdogHeartbeat", "WatchdogCriticalFindings",
                         "WatchdogSyncDeadLetters"})


def _metrics_up(url: str, process: subprocess.Popen[bytes]) -> str | None:
    if process.poll() is not None:
        pytest.fail(f"watchdog demo exited early with {process.returncode}")
    try:
        response = httpx.get(f"{url}/metrics", timeout=2)
    except httpx.TransportError:
        return None
    return response.text if response.status_code == 200 else None


@pytest.fixture(scope="module")
def live_targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    """``watchdog demo`` in a subprocess, serving /metrics on a known port while the shop trades."""
    tmp_path = tmp_path_factory.mktemp("demo")
    port = free_port()
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "watchdog.cli", "demo", "--for", "45", "--metrics-port", str(port),
         "--out", str(tmp_path / "demo-out")], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _metrics_up(url, process), "the demo to serve /metrics", timeout=30)
        yield Targets(urls=(url,), firing=DEMO_FIRING)
    finally:
        stop(process)
        log.close()


def test_promtool_accepts_a_live_scrape_of_the_demo(live_targets: Targets) -> None:
    text = httpx.get(f"{live_targets.urls[0]}/metrics", timeout=5).text
    assert "watchdog_build_info" in text
    assert 'watchdog_source_up{integration="demo-uk",system="magento"}' in text or "watchdog_source_up" in text
    result = promtool("check", "metrics", stdin=text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_every_panel_and_rule_returns_a_result_on_the_demo(prometheus: str, live_targets: Targets) -> None:
    board = json.loads(DASHBOARD_JSON.read_text())
    panels = {f'{p["title"]}/{t["refId"]}': concrete(t["expr"])
              for p in board["panels"] if p["type"] != "row" for t in p["targets"]}
    empty: list[str] = []

    def all_panels_have_data() -> bool | None:
        empty[:] = [title for title, expr in panels.items() if not query(prometheus, expr)]
        return None if empty else True

    eventually(all_panels_have_data, lambda: f"every panel query to return data; still empty: {empty}", timeout=40)
    rules = eventually(lambda: loaded_rules(prometheus), "every rule to be evaluated")
    assert set(rules) == set(rule_exprs())
    assert all(rule["health"] == "ok" for rule in rules.values()), rules
    for name in live_targets.firing:
        assert query(prometheus, rules[name]["query"]), name
