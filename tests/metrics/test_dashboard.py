"""The generated dashboard: up to date, the SDK's own model, Grafana's layout rules, valid PromQL, real metrics."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from tests.metrics.support import (
    DASHBOARD_JSON,
    GRAFANA,
    PROMETHEUS_OWN,
    concrete,
    exported_names,
    load_generator,
    metric_names,
    promtool,
)
from watchdog.metrics import Metrics

with warnings.catch_warnings():  # the SDK warns at import time that dashboard v1 is deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard


@pytest.fixture(scope="module")
def board() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD_JSON.read_text())
    return data


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f'{p["title"]}/{t["refId"]}', t["expr"]) for p in panels(board) for t in p["targets"]]


def sdk_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    register_default_plugins()  # typed options and queries for every panel and datasource kind
    out: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(Dashboard.from_json(data)))
    return out


def test_the_committed_json_is_what_the_generator_makes() -> None:
    assert load_generator().render() == DASHBOARD_JSON.read_text(), "run python grafana/dashboards/generate.py"


def test_every_key_is_one_the_sdk_model_knows(board: dict[str, Any]) -> None:
    assert sdk_round_trip(board) == board
    stray = json.loads(json.dumps(board))
    panels(stray)[0]["fieldConfig"]["defaults"]["unitt"] = "s"
    assert sdk_round_trip(stray) != stray  # a key outside the model is caught


def test_grafana_layout_and_identity_rules(board: dict[str, Any]) -> None:
    assert {"schemaVersion", "templating", "annotations"} <= set(board)
    assert board["schemaVersion"] == 42  # what grafana-foundation-sdk 0.0.18 emits
    assert 8 <= len(board["uid"]) <= 40
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        g = panel["gridPos"]
        assert g["h"] > 0, panel["title"]
        assert 0 < g["w"] <= 24, panel["title"]
        assert 0 <= g["x"] <= 24 - g["w"], panel["title"]
        mine = {(g["x"] + dx, g["y"] + dy) for dx in range(g["w"]) for dy in range(g["h"])}
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine


def test_every_query_uses_the_provisioned_datasource(board: dict[str, Any]) -> None:
    provisioned = re.findall(r"uid: (\S+)", (GRAFANA / "provisioning/datasources/watchdog.yaml").read_text())
    assert provisioned == ["watchdog-prometheus"]
    refs = [p["datasource"] for p in panels(board)] + [t["datasource"] for p in panels(board) for t in p["targets"]]
    refs += [v["datasource"] for v in board["templating"]["list"]]
    assert all(ref == {"type": "prometheus", "uid": provisioned[0]} for ref in refs)
    assert all(t["expr"] and t["refId"] for p in panels(board) for t in p["targets"])


def test_every_panel_query_parses_with_promtool(board: dict[str, Any], tmp_path: Path) -> None:
    rules = [{"record": f"dashboard:query_{n}", "expr": concrete(expr)} for n, (_, expr) in enumerate(queries(board))]
    path = tmp_path / "panels.rules.json"  # JSON is YAML: promtool reads it as a rule file
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
    path.write_text(json.dumps({"groups": [{"name": "d", "rules": [{"record": "x", "expr": "sum(up{job=)"}]}]}))
    assert promtool("check", "rules", str(path)).returncode != 0  # and a broken one would be caught


def test_every_metric_a_panel_names_is_exported(board: dict[str, Any], sqlite_metrics: Metrics) -> None:
    exported = exported_names(generate_latest(sqlite_metrics.registry).decode()) | PROMETHEUS_OWN
    for where, expr in queries(board):
        assert metric_names(expr) <= exported, (where, metric_names(expr) - exported)
    for variable in board["templating"]["list"]:
        metric = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["query"])
        assert metric is not None
        assert metric.group(1) in exported


def test_the_dashboard_shows_what_issue_5_asks_for(board: dict[str, Any]) -> None:
    named = set().union(*(metric_names(expr) for _, expr in queries(board)))
    assert named >= {
        "watchdog_source_up",  # source health
        "watchdog_check_last_success_timestamp_seconds",  # check freshness
        "watchdog_findings_open",  # open findings (by check, severity and team, below)
        "watchdog_stock_divergent_units", "watchdog_vat_exposure",
        "watchdog_sync_records_total", "watchdog_sync_backlog", "watchdog_sync_dead_letters",  # sync
        "watchdog_notifications_total", "watchdog_notification_channel_broken",  # notification health
    }
    exprs = " ".join(expr for _, expr in queries(board))
    for label in ("check", "severity", "team", "direction"):
        assert f"sum by ({label}) (watchdog_" in exprs
