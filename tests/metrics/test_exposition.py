"""The live HTTP surface: /metrics linted by the real promtool, content negotiation, /healthz."""

from __future__ import annotations

import httpx

from tests.metrics.support import Targets, promtool, scrape, served_watchdog
from watchdog.metrics import Metrics


def test_promtool_check_metrics_accepts_a_live_scrape(live_targets: Targets) -> None:
    texts = [scrape(url) for url in live_targets.urls]  # a busy watchdog, and one whose store is unreadable
    assert "watchdog_findings_open{" in texts[0]
    assert "watchdog_sync_lag_seconds_bucket{" in texts[0]
    for text in texts:
        result = promtool("check", "metrics", stdin=text)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == ""  # no lint findings at all


def test_promtool_check_metrics_is_not_a_rubber_stamp() -> None:
    bad = "# HELP watchdog_things_count Things\n# TYPE watchdog_things_count counter\nwatchdog_things_count 1\n"
    result = promtool("check", "metrics", stdin=bad)
    assert result.returncode != 0
    assert "_total" in result.stdout + result.stderr


def test_openmetrics_when_asked_and_text_otherwise(sqlite_metrics: Metrics) -> None:
    with served_watchdog(sqlite_metrics) as url:
        om = httpx.get(f"{url}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        plain = httpx.get(f"{url}/metrics")
        health = httpx.get(f"{url}/healthz")
        findings = httpx.get(f"{url}/findings")
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.text.endswith("# EOF\n")
    assert plain.headers["content-type"].startswith("text/plain")
    assert health.status_code == 200  # bravo-de's Magento is down, but not yet for longer than the grace
    assert health.json()["status"] == "ok"
    assert health.json()["sources"] == {"acme-uk/magento": True, "acme-uk/stokly": True, "bravo-de/magento": False}
    assert [(d["integration"], d["system"], d["reason"]) for d in health.json()["down"]] == [
        ("bravo-de", "magento", "HTTP 503")]
    assert findings.json() == []
