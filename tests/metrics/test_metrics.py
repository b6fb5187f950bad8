"""The metric values: hooks on a fresh registry, the store-derived families on both backends, the cache."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.metrics.support import INTEGRATIONS, exercise, finding
from watchdog.metrics import BOUNDED_LABELS, Metrics
from watchdog.store.db import Store, open_store

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_hooks_count_without_a_store() -> None:
    metrics = Metrics(CollectorRegistry())
    exercise(metrics, T0)
    assert value(metrics, "watchdog_build_info", version=__import__("watchdog").__version__) == 1.0
    assert value(metrics, "watchdog_source_up", integration="bravo-de", system="magento") == 0.0
    assert value(metrics, "watchdog_source_up", integration="acme-uk", system="stokly") == 1.0
    assert value(metrics, "watchdog_source_requests_total", integration="acme-uk", system="stokly",
                 outcome="retry") == 1.0
    assert value(metrics, "watchdog_source_request_duration_seconds_count", system="magento") == 1.0
    check = {"integration": "acme-uk", "check": "stock_divergence"}
    assert value(metrics, "watchdog_check_runs_total", **check, outcome="ok") == 1.0
    assert value(metrics, "watchdog_check_runs_total", **check, outcome="failed") == 0.0  # pre-initialised
    assert value(metrics, "watchdog_check_last_success_timestamp_seconds", **check) == T0.timestamp()
    assert value(metrics, "watchdog_findings_opened_total", **check, severity="critical") == 1.0
    assert value(metrics, "watchdog_findings_resolved_total", **check, severity="warning") == 1.0
    flow = {"integration": "acme-uk", "flow": "orders"}
    assert value(metrics, "watchdog_sync_runs_total", **flow, outcome="ok") == 1.0
    assert value(metrics, "watchdog_sync_last_success_timestamp_seconds", **flow) == T0.timestamp()
    assert value(metrics, "watchdog_sync_records_total", **flow, outcome="dead") == 1.0
    assert value(metrics, "watchdog_sync_records_total", **flow, outcome="written") == 0.0
    assert value(metrics, "watchdog_sync_lag_seconds_sum", **flow) == 95.0
    assert value(metrics, "watchdog_sync_lag_seconds_bucket", **flow, le="120.0") == 1.0
    assert value(metrics, "watchdog_sync_lag_seconds_bucket", **flow, le="60.0") == 0.0
    assert value(metrics, "watchdog_notifications_total", channel="email", outcome="failed") == 1.0
    assert value(metrics, "watchdog_notifications_total", channel="email", outcome="sent") == 0.0
    assert value(metrics, "watchdog_store_up") is None  # no store, no store families
    assert value(metrics, "watchdog_findings_open", integration="acme-uk", check="stock_divergence",
                 severity="critical", team="operations") is None


def test_only_ok_moves_the_last_success_and_digests_are_timestamped() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.check_ran("acme-uk", "missing_orders", "ok", T0)
    metrics.check_ran("acme-uk", "missing_orders", "failed", T0 + timedelta(minutes=5))
    metrics.flow_ran("acme-uk", "stock", "partial", T0)
    metrics.flow_ran("acme-uk", "stock", "skipped", T0 + timedelta(minutes=1))
    metrics.digest_sent("email", T0)
    key = {"integration": "acme-uk", "check": "missing_orders"}
    assert value(metrics, "watchdog_check_last_success_timestamp_seconds", **key) == T0.timestamp()
    assert value(metrics, "watchdog_check_last_run_timestamp_seconds", **key) == T0.timestamp() + 300
    flow = {"integration": "acme-uk", "flow": "stock"}
    assert value(metrics, "watchdog_sync_last_success_timestamp_seconds", **flow) == T0.timestamp()
    assert value(metrics, "watchdog_sync_last_run_timestamp_seconds", **flow) == T0.timestamp() + 60
    assert value(metrics, "watchdog_digest_last_sent_timestamp_seconds", kind="email") == T0.timestamp()


def test_an_unknown_outcome_is_exported_as_other_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics(CollectorRegistry())
    with caplog.at_level(logging.WARNING, logger="watchdog.metrics"):
        metrics.notification("email", "SMTP 550 mailbox unavailable for bob@example.com")
        metrics.notification("email", "SMTP 550 mailbox unavailable for bob@example.com")
    assert value(metrics, "watchdog_notifications_total", channel="email", outcome="other") == 2.0
    assert len([r for r in caplog.records if "unknown notification outcome" in r.getMessage()]) == 1


def test_state_is_read_from_the_store(seeded_metrics: Metrics, now: datetime) -> None:
    m, ts = seeded_metrics, now.timestamp()
    old, two_days = ts - 7200, ts - 2 * 86400
    assert value(m, "watchdog_store_up") == 1.0
    assert value(m, "watchdog_findings_open", integration="acme-uk", check="stock_divergence", severity="critical",
                 team="operations") == 1.0
    assert value(m, "watchdog_findings_open", integration="acme-uk", check="missing_credit_notes",
                 severity="warning", team="finance") == 1.0
    assert value(m, "watchdog_findings_open", integration="bravo-de", check="sku_mismatch", severity="info",
                 team="ecommerce") == 1.0
    assert value(m, "watchdog_stock_divergent_units", integration="acme-uk", direction="oversell") == 5.0  # not A-3
    assert value(m, "watchdog_stock_divergent_units", integration="acme-uk", direction="undersell") == 3.0
    assert value(m, "watchdog_stock_divergent_units", integration="bravo-de", direction="oversell") == 0.0
    assert value(m, "watchdog_vat_exposure", integration="acme-uk", currency="GBP") == pytest.approx(13.33)
    assert value(m, "watchdog_vat_exposure", integration="bravo-de", currency="EUR") == 0.0
    assert value(m, "watchdog_missing_order_value", integration="bravo-de", currency="EUR") == 42.5
    check = {"integration": "acme-uk", "check": "missing_credit_notes"}
    assert value(m, "watchdog_check_last_success_timestamp_seconds", **check) == old
    assert value(m, "watchdog_check_last_run_timestamp_seconds", **check) == ts
    never = {"integration": "bravo-de", "check": "missing_orders"}
    assert value(m, "watchdog_check_last_success_timestamp_seconds", **never) == 0.0
    assert value(m, "watchdog_sync_last_success_timestamp_seconds", integration="acme-uk", flow="stock") == old
    assert value(m, "watchdog_sync_last_run_timestamp_seconds", integration="acme-uk", flow="stock") == ts
    assert value(m, "watchdog_sync_backlog", integration="acme-uk", flow="orders") == 3.0  # claimed, written, failed
    assert value(m, "watchdog_sync_dead_letters", integration="acme-uk", flow="orders") == 2.0
    assert value(m, "watchdog_digest_last_sent_timestamp_seconds", kind="slack") == ts - 3600
    assert value(m, "watchdog_digest_last_sent_timestamp_seconds", kind="email") == two_days
    assert value(m, "watchdog_notification_backlog", channel="slack:#ops-alerts") == 1.0
    assert value(m, "watchdog_notification_backlog", channel="email") == 1.0
    assert value(m, "watchdog_notification_failed_deliveries", channel="email") == 1.0
    assert value(m, "watchdog_notification_last_sent_timestamp_seconds", channel="slack:#ops-alerts") == ts - 60
    assert value(m, "watchdog_notification_channel_broken", channel="email") == 1.0
    assert value(m, "watchdog_notification_channel_broken", channel="slack:#ops-alerts") == 0.0


def test_the_later_of_store_and_hook_wins(seeded_metrics: Metrics, now: datetime) -> None:
    check = {"integration": "acme-uk", "check": "missing_credit_notes"}
    seeded_metrics.check_ran("acme-uk", "missing_credit_notes", "ok", now - timedelta(days=1))  # older than store
    assert value(seeded_metrics, "watchdog_check_last_success_timestamp_seconds", **check) == now.timestamp() - 7200
    seeded_metrics.check_ran("acme-uk", "missing_credit_notes", "ok", now + timedelta(seconds=30))
    assert value(seeded_metrics, "watchdog_check_last_success_timestamp_seconds", **check) == now.timestamp() + 30


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _open(metrics: Metrics) -> float | None:
    return value(metrics, "watchdog_findings_open", integration="acme-uk", check="sku_mismatch", severity="info",
                 team="ecommerce")


def test_the_store_is_re_read_after_a_change_or_when_the_cache_expires(sqlite_store: Store, now: datetime) -> None:
    clock = FakeClock()
    metrics = Metrics(CollectorRegistry(), store=sqlite_store, integrations=INTEGRATIONS, cache_seconds=60,
                      clock=clock)

    def add(subject: str) -> None:
        with sqlite_store.session() as s:
            s.add(finding("acme-uk", "sku_mismatch", subject, "info", "ecommerce", now))

    add("sku:1")
    assert _open(metrics) == 1.0
    add("sku:2")
    clock.now += 30
    assert _open(metrics) == 1.0  # cached: nothing in this process said the store changed
    metrics.finding_opened("acme-uk", "sku_mismatch", "info")
    assert _open(metrics) == 2.0
    add("sku:3")
    clock.now += 60
    assert _open(metrics) == 3.0  # expired: picks up other processes' changes
    assert value(metrics, "watchdog_store_read_timestamp_seconds") == clock.now


def test_an_unreadable_store_is_reported_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics(CollectorRegistry(), store=open_store(f"sqlite:///{tmp_path}/missing/dir/w.db"),
                      integrations=INTEGRATIONS)
    metrics.check_ran("acme-uk", "stock_divergence", "ok", T0)
    with caplog.at_level(logging.ERROR, logger="watchdog.metrics"):
        text = generate_latest(metrics.registry).decode()
    assert value(metrics, "watchdog_store_up") == 0.0
    assert "# TYPE watchdog_findings_open gauge" not in text
    assert value(metrics, "watchdog_check_last_success_timestamp_seconds", integration="acme-uk",
                 check="stock_divergence") == T0.timestamp()  # this process's own knowledge survives
    assert any("cannot read the store" in r.getMessage() for r in caplog.records)


def test_no_label_outside_the_bounded_set(seeded_metrics: Metrics) -> None:
    text = generate_latest(seeded_metrics.registry).decode()
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("watchdog_"), family.name
        for sample in family.samples:
            assert set(sample.labels) <= BOUNDED_LABELS | {"le"}, (sample.name, sample.labels)


def test_output_does_not_grow_with_findings(sqlite_metrics: Metrics, sqlite_store: Store, now: datetime) -> None:
    before = generate_latest(sqlite_metrics.registry).decode().count("\n")
    with sqlite_store.session() as s:
        s.add_all(finding("acme-uk", "stock_divergence", f"sku:X-{n}", "warning", "operations", now,
                          {"units": 1, "difference": 1}) for n in range(300))
    sqlite_metrics.store_changed()
    text = generate_latest(sqlite_metrics.registry).decode()
    assert text.count("\n") == before
    assert "sku:" not in text
    assert value(sqlite_metrics, "watchdog_stock_divergent_units", integration="acme-uk",
                 direction="oversell") == 305.0


def test_every_hook_is_there_and_documented() -> None:
    hooks = {name for name in vars(Metrics) if not name.startswith("_")}
    assert hooks == {"observer", "source_checked", "check_ran", "finding_opened", "finding_resolved", "flow_ran",
                     "sync_record", "notification", "digest_sent", "store_changed", "upstream_unreadable"}
    assert all(getattr(Metrics, name).__doc__ for name in hooks)
