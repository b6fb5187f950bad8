"""Generate the watchdog's Grafana dashboard with grafana-foundation-sdk 0.0.18.

Edit this file, not the JSON: ``python grafana/dashboards/generate.py`` rewrites
``grafana/dashboards/watchdog.json`` (``--check`` exits 1 if the committed JSON is out
of date). ``ROWS`` is the whole dashboard as data: the tests parse every query with
promtool, check that each metric it names is exported, and run each query against a
real Prometheus scraping a real watchdog.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # the SDK warns at import time that dashboard v1 is deprecated in favour of v2
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import common as common_builders
    from grafana_foundation_sdk.builders import dashboard as dashboard_builders
    from grafana_foundation_sdk.builders import prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common
    from grafana_foundation_sdk.models import dashboard as dashboard_models

OUTPUT = Path(__file__).with_name("watchdog.json")
UID = "stokly-magento-watchdog"
DATASOURCE_UID = "watchdog-prometheus"  # grafana/provisioning/datasources/watchdog.yaml
DATASOURCE = common.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
I = '{integration=~"$integration"}'  # noqa: E741 - the selector every integration-scoped query uses
RATE = "[$__rate_interval]"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: str  # "timeseries" | "stat"
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    width: int = 8
    red_above: float | None = None  # a red threshold from this value up
    up: bool = False  # a 0/1 health value: red at 0, green at 1
    bars: bool = False


@dataclass(frozen=True)
class RowSpec:
    title: str
    panels: tuple[PanelSpec, ...] = field(default_factory=tuple)


def _q(expr: str, legend: str = "") -> tuple[Query, ...]:
    return (Query(expr, legend),)


ROWS: tuple[RowSpec, ...] = (
    RowSpec("Health", (
        PanelSpec("Watchdog targets up", "stat", _q('up{job="watchdog"}', "{{instance}}"), width=4, up=True,
                  description="Prometheus can scrape the watchdog (1) or not (0)."),
        PanelSpec("Store readable", "stat", _q("min(watchdog_store_up)"), width=4, up=True,
                  description="The watchdog can read its database; without it findings and freshness vanish."),
        PanelSpec("Version", "stat", _q("watchdog_build_info", "{{version}}"), width=4),
        PanelSpec("Sources up", "stat", _q(f"watchdog_source_up{I}", "{{integration}} {{system}}"), width=12, up=True,
                  description="1 when the last read of Magento or Stokly succeeded. Checks needing a down "
                              "source are not evaluated."),
        PanelSpec("Source requests by outcome", "timeseries", _q(
            f"sum by (system, outcome) (rate(watchdog_source_requests_total{I}{RATE}))", "{{system}} {{outcome}}"),
            unit="reqps", width=12),
        PanelSpec("Source request latency (p95)", "timeseries", _q(
            "histogram_quantile(0.95, sum by (system, le) "
            f"(rate(watchdog_source_request_duration_seconds_bucket{RATE})))", "{{system}}"), unit="s", width=12),
    )),
    RowSpec("Checks", (
        PanelSpec("Time since each check last succeeded", "timeseries", _q(
            f"time() - watchdog_check_last_success_timestamp_seconds{I}", "{{integration}} {{check}}"),
            unit="s", width=12, red_above=1800,
            description="Checks run every 5 minutes; WatchdogCheckStale fires above 30 minutes."),
        PanelSpec("Check runs per hour by outcome", "timeseries", _q(
            f"sum by (check, outcome) (increase(watchdog_check_runs_total{I}[1h]))", "{{check}} {{outcome}}"),
            width=12, bars=True, description="not_evaluated: a source was down; failed: the check crashed."),
    )),
    RowSpec("Findings", (
        PanelSpec("Open findings", "stat", _q(f"sum(watchdog_findings_open{I}) or vector(0)"), width=6),
        PanelSpec("Critical findings", "stat", _q(
            'sum(watchdog_findings_open{integration=~"$integration",severity="critical"}) or vector(0)'),
            width=6, red_above=1),
        PanelSpec("Opened and resolved per hour", "timeseries", (
            Query(f"sum(increase(watchdog_findings_opened_total{I}[1h]))", "opened"),
            Query(f"sum(increase(watchdog_findings_resolved_total{I}[1h]))", "resolved")), width=12),
        PanelSpec("Open findings by check", "timeseries", _q(
            f"sum by (check) (watchdog_findings_open{I})", "{{check}}")),
        PanelSpec("Open findings by severity", "timeseries", _q(
            f"sum by (severity) (watchdog_findings_open{I})", "{{severity}}")),
        PanelSpec("Open findings by team", "timeseries", _q(
            f"sum by (team) (watchdog_findings_open{I})", "{{team}}")),
    )),
    RowSpec("Stock and money", (
        PanelSpec("Divergent stock units by direction", "timeseries", _q(
            f"sum by (direction) (watchdog_stock_divergent_units{I})", "{{direction}}"), width=12,
            description="oversell: Magento shows more than Stokly holds (orders Stokly cannot fill); "
                        "undersell: sales lost."),
        PanelSpec("VAT exposure", "stat", _q(
            f"sum by (integration, currency) (watchdog_vat_exposure{I})", "{{integration}} ({{currency}})"),
            width=6, description="VAT on Magento credit memos with no Stokly credit note: overstated VAT."),
        PanelSpec("Value of orders missing in Stokly", "stat", _q(
            f"sum by (integration, currency) (watchdog_missing_order_value{I})", "{{integration}} ({{currency}})"),
            width=6),
    )),
    RowSpec("Sync", (
        PanelSpec("Sync throughput by outcome", "timeseries", _q(
            f"sum by (flow, outcome) (rate(watchdog_sync_records_total{I}{RATE}))", "{{flow}} {{outcome}}"),
            unit="ops", width=12),
        PanelSpec("Sync lag (p95)", "timeseries", _q(
            f"histogram_quantile(0.95, sum by (flow, le) (rate(watchdog_sync_lag_seconds_bucket{I}{RATE})))",
            "{{flow}}"), unit="s", width=12,
            description="From the source record's time (e.g. order placed) to its write confirmed in the target."),
        PanelSpec("Backlog", "timeseries", _q(f"sum by (flow) (watchdog_sync_backlog{I})", "{{flow}}")),
        PanelSpec("Dead letters", "timeseries", _q(
            f"sum by (integration, flow) (watchdog_sync_dead_letters{I})", "{{integration}} {{flow}}"),
            red_above=1),
        PanelSpec("Time since each flow last succeeded", "timeseries", _q(
            f"time() - watchdog_sync_last_success_timestamp_seconds{I}", "{{integration}} {{flow}}"),
            unit="s", red_above=900),
    )),
    RowSpec("Notifications", (
        PanelSpec("Notifications by outcome", "timeseries", _q(
            f"sum by (channel, outcome) (rate(watchdog_notifications_total{RATE}))", "{{channel}} {{outcome}}"),
            unit="ops", width=12),
        PanelSpec("Broken channels", "stat", _q("sum(watchdog_notification_channel_broken) or vector(0)"),
                  width=4, red_above=1),
        PanelSpec("Undelivered", "timeseries", (
            Query("sum by (channel) (watchdog_notification_backlog)", "{{channel}} pending"),
            Query("sum by (channel) (watchdog_notification_failed_deliveries)", "{{channel}} failed")), width=8),
        PanelSpec("Time since the last digest", "timeseries", _q(
            "time() - watchdog_digest_last_sent_timestamp_seconds", "{{kind}}"), unit="s", width=12),
        PanelSpec("Time since each channel last delivered", "timeseries", _q(
            "time() - watchdog_notification_last_sent_timestamp_seconds", "{{channel}}"), unit="s", width=12),
    )),
)

VARIABLE_QUERY = "label_values(watchdog_check_last_run_timestamp_seconds, integration)"


def _thresholds(spec: PanelSpec) -> dashboard_builders.ThresholdsConfig:
    steps = [dashboard_models.Threshold(value=None, color="red" if spec.up else "green")]
    if spec.up:
        steps.append(dashboard_models.Threshold(value=1, color="green"))
    elif spec.red_above is not None:
        steps.append(dashboard_models.Threshold(value=spec.red_above, color="red"))
    return dashboard_builders.ThresholdsConfig().mode(dashboard_models.ThresholdsMode.ABSOLUTE).steps(steps)


def _targets(spec: PanelSpec, instant: bool) -> list[prometheus.Dataquery]:
    targets = []
    for index, query in enumerate(spec.queries):
        target = prometheus.Dataquery().ref_id(chr(ord("A") + index)).expr(query.expr).datasource(DATASOURCE)
        if query.legend:
            target = target.legend_format(query.legend)
        targets.append(target.instant() if instant else target.range())
    return targets


def _panel(spec: PanelSpec, panel_id: int) -> timeseries.Panel | stat.Panel:
    panel: timeseries.Panel | stat.Panel
    if spec.kind == "stat":
        panel = stat.Panel().reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
    else:
        panel = timeseries.Panel().fill_opacity(10)
        if spec.bars:
            panel = panel.draw_style(common.GraphDrawStyle.BARS)
    panel = panel.id(panel_id).title(spec.title).datasource(DATASOURCE).unit(spec.unit).span(spec.width).height(7)
    if spec.description:
        panel = panel.description(spec.description)
    for target in _targets(spec, instant=spec.kind == "stat"):
        panel = panel.with_target(target)
    return panel.thresholds(_thresholds(spec))


def _integration_variable() -> dashboard_builders.QueryVariable:
    return (dashboard_builders.QueryVariable("integration").label("Integration").datasource(DATASOURCE)
            .query(VARIABLE_QUERY).definition(VARIABLE_QUERY).multi(True).include_all(True).all_value(".*")
            .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC))


def build() -> dict[str, Any]:
    """The dashboard as the JSON-ready dict Grafana provisions."""
    board = (dashboard_builders.Dashboard("Stokly-Magento watchdog").uid(UID)
             .description("Sync and divergence watchdog between Magento 2 and Stokly: source health, check "
                          "freshness, findings, stock and money at risk, sync, notifications.")
             .tags(["watchdog", "magento", "stokly"]).refresh("1m").time("now-6h", "now").timezone("browser")
             .readonly().with_variable(_integration_variable()))
    panel_id = 0
    for row in ROWS:
        panel_id += 1
        board = board.with_row(dashboard_builders.Row(row.title).id(panel_id))
        for spec in row.panels:
            panel_id += 1
            board = board.with_panel(_panel(spec, panel_id))
    data: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
    return data


def render() -> str:
    """The committed file's exact text."""
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
