"""Shared by the metrics tests: a seeded store, a live watchdog target, promtool, PromQL names.

``seed_store`` writes through the real tables a state in which every rule in
``grafana/prometheus/rules.yml`` has something to say (a critical finding, a stale
check, a stalled flow, dead letters, a broken channel, a late digest) next to
healthy data. ``exercise`` drives the hooks the engine, sync worker and dispatcher
call. ``served_watchdog`` is the live target: the real HTTP app over a real socket.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from watchdog.findings import fingerprint
from watchdog.metrics import Metrics
from watchdog.server import create_app
from watchdog.simulators.serve import ServedApp
from watchdog.store.db import Store
from watchdog.store.models import CheckRunRow, FindingRow
from watchdog.store.models_alerts import ChannelStateRow, DeliveryRow, DigestRow
from watchdog.store.models_sync import FlowRunRow, SyncRecordRow

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "grafana"
RULES = GRAFANA / "prometheus" / "rules.yml"
RULES_TEST = GRAFANA / "prometheus" / "rules_test.yml"
DASHBOARD_JSON = GRAFANA / "dashboards" / "watchdog.json"
INTEGRATIONS = {"acme-uk": "GBP", "bravo-de": "EUR"}
PROMETHEUS_OWN = {"up"}  # metrics a query may name that Prometheus itself makes


def finding(integration: str, check: str, subject: str, severity: str, owner: str, now: datetime,
            measures: dict[str, Any] | None = None, status: str = "open") -> FindingRow:
    return FindingRow(
        fingerprint=fingerprint(integration, check, subject), integration=integration, check=check,
        subject=subject, severity=severity, owner=owner, status=status, summary=f"{check} {subject}",
        measures=measures or {}, links={}, runbook=f"docs/runbooks/{check}.md", first_seen=now, last_seen=now,
        resolved_at=now if status == "resolved" else None)


def _findings(now: datetime) -> list[FindingRow]:
    return [
        finding("acme-uk", "stock_divergence", "sku:A-1", "critical", "operations", now,
                {"units": "5", "difference": "5", "magento_qty": 5, "stokly_available": 0}),
        finding("acme-uk", "stock_divergence", "sku:A-2", "warning", "operations", now,
                {"units": 3, "difference": -3}),
        finding("acme-uk", "stock_divergence", "sku:A-3", "warning", "operations", now,
                {"units": "7", "difference": "7"}, status="resolved"),
        finding("acme-uk", "missing_credit_notes", "creditmemo:1", "warning", "finance", now,
                {"vat": "3.33", "amount": "19.99"}),
        finding("acme-uk", "missing_credit_notes", "creditmemo:2", "critical", "finance", now,
                {"vat": "10.00", "amount": "60.00"}),
        finding("bravo-de", "missing_orders", "order:000000123", "warning", "operations", now,
                {"grand_total": "42.50"}),
        finding("bravo-de", "sku_mismatch", "sku:b-9", "info", "ecommerce", now),
    ]


def _runs(now: datetime) -> list[Any]:
    old = now - timedelta(hours=2)
    return [
        CheckRunRow(integration="acme-uk", check="stock_divergence", started_at=now - timedelta(seconds=9),
                    finished_at=now - timedelta(seconds=5), outcome="ok", findings=2),
        CheckRunRow(integration="acme-uk", check="missing_credit_notes", started_at=old, finished_at=old,
                    outcome="ok", findings=2),
        CheckRunRow(integration="acme-uk", check="missing_credit_notes", started_at=now, finished_at=now,
                    outcome="not_evaluated"),
        CheckRunRow(integration="bravo-de", check="missing_orders", started_at=now, finished_at=now,
                    outcome="failed", error="boom"),
        FlowRunRow(integration="acme-uk", flow="orders", started_at=now, finished_at=now, outcome="ok", written=4),
        FlowRunRow(integration="acme-uk", flow="stock", started_at=old, finished_at=old, outcome="partial"),
        FlowRunRow(integration="acme-uk", flow="stock", started_at=now, finished_at=now, outcome="failed"),
    ]


def _ledger(now: datetime) -> list[SyncRecordRow]:
    states = {"o-1": "confirmed", "o-2": "claimed", "o-3": "failed", "o-4": "dead", "o-5": "quarantined",
              "o-6": "written"}
    return [SyncRecordRow(integration="acme-uk", flow="orders", source_id=source, state=state, attempts=1,
                          created_at=now, updated_at=now, source_time=now - timedelta(minutes=3))
            for source, state in states.items()]


def _alerts(now: datetime) -> list[Any]:
    def delivery(n: int, channel: str, status: str, sent: datetime | None = None) -> DeliveryRow:
        return DeliveryRow(transition_id=n, fingerprint=f"f{n}", integration="acme-uk", check="stock_divergence",
                           channel=channel, status=status, attempts=1, sent_at=sent)

    return [
        delivery(1, "slack:#ops-alerts", "sent", now - timedelta(minutes=1)),
        delivery(2, "slack:#ops-alerts", "sent", now - timedelta(minutes=30)),
        delivery(3, "slack:#ops-alerts", "retry"),
        delivery(4, "email", "failed"),
        delivery(5, "email", "claimed"),
        delivery(6, "", "unrouted"),
        DigestRow(kind="slack", integration="acme-uk", audience="operations", period="p1", status="sent",
                  sent_at=now - timedelta(hours=1), figures={}),
        DigestRow(kind="email", integration="acme-uk", audience="managers", period="p0", status="sent",
                  sent_at=now - timedelta(days=2), figures={}),
        DigestRow(kind="email", integration="acme-uk", audience="managers", period="p1", status="failed",
                  figures={}),
        ChannelStateRow(channel="email", broken=True, reason="535 bad login", updated_at=now),
        ChannelStateRow(channel="slack:#ops-alerts", broken=False, updated_at=now),
    ]


def seed_store(store: Store, now: datetime) -> None:
    """Write findings, check runs, flow runs, ledger records, deliveries, digests and channel states."""
    with store.session() as session:
        session.add_all([*_findings(now), *_runs(now), *_ledger(now), *_alerts(now)])


def exercise(metrics: Metrics, now: datetime) -> None:
    """One round of what the engine, the sync worker and the dispatcher report through the hooks."""
    metrics.source_checked("acme-uk", "magento", True, now)
    metrics.source_checked("acme-uk", "stokly", True, now)
    metrics.source_checked("bravo-de", "magento", False, now, "HTTP 503")
    observe = metrics.observer("acme-uk")
    observe("magento", "/V1/orders", "ok", 0.12)
    observe("stokly", "/v1/items", "retry", 1.5)
    metrics.check_ran("acme-uk", "stock_divergence", "ok", now)
    metrics.finding_opened("acme-uk", "stock_divergence", "critical")
    metrics.finding_resolved("acme-uk", "stock_divergence", "warning")
    metrics.flow_ran("acme-uk", "orders", "ok", now)
    metrics.sync_record("acme-uk", "orders", "confirmed", lag_seconds=95.0)
    metrics.sync_record("acme-uk", "orders", "dead")
    metrics.notification("slack:#ops-alerts", "sent")
    metrics.notification("email", "failed")


@dataclass(frozen=True)
class Targets:
    """Live /metrics endpoints (scraped as job "watchdog") and the alerts their state must make fire."""

    urls: tuple[str, ...]  # e.g. ("http://127.0.0.1:40123",)
    firing: frozenset[str]  # alert names whose expression must return a series


# Every alert the seeded targets trigger (with the harness's own dead target for WatchdogDown);
# WatchdogAbsent cannot while the job is scraped.
SEEDED_FIRING = frozenset({
    "WatchdogDown", "WatchdogStoreUnreadable", "WatchdogSourceDown", "WatchdogCheckStale", "WatchdogSyncStalled",
    "WatchdogSyncDeadLetters", "WatchdogCriticalFindings", "WatchdogNotificationFailures",
    "WatchdogNotificationChannelBroken", "WatchdogDigestLate", "WatchdogHeartbeat",
})


@contextmanager
def served_watchdog(metrics: Metrics) -> Iterator[str]:
    """The real ASGI app for ``metrics`` on a free loopback port; yields its base URL."""
    with ServedApp(create_app(metrics), name="watchdog-metrics") as served:
        yield served.url


def scrape(url: str) -> str:
    response = httpx.get(f"{url}/metrics", timeout=10.0)
    response.raise_for_status()
    return response.text


def exported_names(text: str) -> set[str]:
    """Every family and sample name in an exposition (``x_total``, ``x_bucket``, ``x_count``...)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run Debian's promtool; skips the test where it is not installed (fails in CI, which installs it)."""
    if shutil.which("promtool") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's prometheus package, which brings promtool (.ci/run does)")
        pytest.skip("needs promtool: apt-get install prometheus")
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False)


def load_generator() -> ModuleType:
    """grafana/dashboards/generate.py as a module (grafana/ is not a package)."""
    spec = importlib.util.spec_from_file_location("watchdog_dashboard", GRAFANA / "dashboards" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


# ---- PromQL, as far as these tests need it ------------------------------------------------------------

PROMQL_WORDS = frozenset({
    "sum", "min", "max", "avg", "count", "rate", "increase", "irate", "histogram_quantile", "time", "vector",
    "absent", "or", "and", "unless", "bool", "offset", "topk", "bottomk", "clamp_min", "clamp_max",
})
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$integration": ".*"}


def concrete(expr: str) -> str:
    """A dashboard query with Grafana's variables replaced, as Grafana would send it (all integrations)."""
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"undeclared variable in {expr!r}"
    return expr


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers left once strings, matchers, ranges,
    grouping clauses, functions and keywords are removed."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"\{[^}]*\}", "", s)
    s = re.sub(r"\[[^\]]*\]", "", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", s)
    return {t for t in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", s) if t not in PROMQL_WORDS}


def rule_exprs(path: Path = RULES) -> dict[str, str]:
    """alert name -> expr from our rules.yml (single-line ``expr:`` or a folded ``>-`` block).

    A deliberately small reader for our own file (PyYAML is not a dependency); the tests
    check it agrees with promtool's rule count and with what Prometheus itself loads.
    """
    rules: dict[str, str] = {}
    lines = path.read_text().splitlines()
    name = ""
    for index, line in enumerate(lines):
        if m := re.match(r"\s*- alert: (\S+)", line):
            name = m.group(1)
        elif m := re.match(r"(\s*)expr: (.*)", line):
            value = m.group(2).strip()
            if value in (">-", ">", "|"):
                indent, block = len(m.group(1)), []
                for follow in lines[index + 1:]:
                    if len(follow) - len(follow.lstrip()) <= indent:
                        break
                    block.append(follow.strip())
                value = " ".join(block)
            rules[name] = value
    return rules


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 seconds."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
