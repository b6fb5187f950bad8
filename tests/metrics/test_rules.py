"""grafana/prometheus/rules.yml: checked and unit-tested by the real promtool; names only exported metrics."""

from __future__ import annotations

import re

from prometheus_client import generate_latest

from tests.metrics.support import PROMETHEUS_OWN, RULES, RULES_TEST, exported_names, metric_names, promtool, rule_exprs
from watchdog.metrics import Metrics

REQUIRED = {  # issue 5: watchdog down, check stale, source down, sync stalled, critical findings,
    "WatchdogDown", "WatchdogCheckStale", "WatchdogSourceDown", "WatchdogSyncStalled",  # notification
    "WatchdogCriticalFindings", "WatchdogNotificationFailures", "WatchdogHeartbeat",  # failures, heartbeat
}


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rule_exprs())} rules found" in result.stdout  # our reader sees every rule


def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", str(RULES_TEST))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_required_alerts_exist_and_each_is_tested_firing_and_quiet() -> None:
    names = set(rule_exprs())
    assert names >= REQUIRED
    tests = RULES_TEST.read_text()
    for name in names:
        fires = re.search(rf"alertname: {name}\n\s+exp_alerts:\n\s+- exp_labels", tests)
        quiet = re.search(rf"alertname: {name}(,|\n\s+) ?exp_alerts: \[\]", tests)
        assert fires, f"{name} is never tested firing"
        assert quiet or name == "WatchdogHeartbeat", f"{name} is never tested quiet"


def test_every_metric_a_rule_names_is_exported(sqlite_metrics: Metrics) -> None:
    exported = exported_names(generate_latest(sqlite_metrics.registry).decode()) | PROMETHEUS_OWN
    for name, expr in rule_exprs().items():
        assert metric_names(expr) <= exported, (name, metric_names(expr) - exported)


def test_the_name_reader_sees_typos_and_ignores_labels() -> None:
    expr = 'sum by (integration, check) (rate(wachdog_runs_total{outcome="failed",check=~"a|b"}[5m])) > 0'
    assert metric_names(expr) == {"wachdog_runs_total"}
    assert metric_names("time() - watchdog_x > 14 * 3600 or vector(1)") == {"watchdog_x"}
