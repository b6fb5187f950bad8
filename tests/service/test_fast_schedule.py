"""Twelve seconds of fast schedules: every job ran exactly once per slot.

One ``watchdog run`` process against a small merchant on the simulators (SQLite): checks
and dispatch every second, the four sync flows (which take turns) every two seconds.
Afterwards the ledger, the work's own rows, the HTTP surface, the JSON log and the SIGTERM
exit are checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.kit import (
    EVERY_JOBS,
    INTERVAL,
    SECRETS,
    ServiceProcess,
    assert_each_slot_ran_once,
    by_job,
    done_counts,
    env_for,
    free_port,
    integration_toml,
    log_records,
    migrate,
    recorded_runs,
    served_merchant,
    slot_states,
    write_config,
)
from watchdog.scheduler import SlotState

RUN_FOR = 12.0
NAME = "fastshop"


@dataclass
class Outcome:
    states: list[SlotState]
    recorded: dict[str, int]
    log: Path
    healthz: httpx.Response
    metrics: str
    exit_code: int
    stop_seconds: float


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    tmp = tmp_path_factory.mktemp("fast")
    db_url = f"sqlite:///{tmp}/watchdog.db"
    migrate(db_url)
    port = free_port()
    with served_merchant() as systems:
        config = write_config(tmp / "watchdog.toml", db_url=db_url, port=port,
                              integrations=[integration_toml(NAME, systems)])
        service = ServiceProcess(config, port, tmp / "service.log", env_for([NAME]), level="debug")
        try:
            service.wait_ready()
            time.sleep(RUN_FOR)
            healthz = httpx.get(f"{service.url}/healthz", timeout=5)
            metrics = httpx.get(f"{service.url}/metrics", timeout=5).text
            code, seconds = service.terminate()
        finally:
            service.close()
    return Outcome(slot_states(db_url), recorded_runs(db_url, NAME), service.log, healthz, metrics, code, seconds)


def test_every_interval_job_ran_exactly_once_per_slot(run: Outcome) -> None:
    jobs = by_job(run.states, NAME)
    jobs["dispatch"] = [s for s in run.states if s.job == "dispatch"]
    for job in (*EVERY_JOBS, "dispatch"):
        assert len(jobs[job]) >= RUN_FOR / INTERVAL[job].total_seconds() - 2, (job, len(jobs[job]))
        assert_each_slot_ran_once(jobs[job], INTERVAL[job])
        assert {s.attempts for s in jobs[job]} == {1}


def test_daily_and_hourly_jobs_ran_their_latest_slot_once(run: Outcome) -> None:
    jobs = by_job(run.states, NAME)
    assert [s.status for s in jobs["sync.full_stock"]] == ["done"]
    assert [s.status for s in run.states if s.job == "housekeeping"] == ["done"]


def test_the_work_itself_ran_once_per_slot(run: Outcome) -> None:
    """Not only the claims: each done slot left exactly one run of its work, and no work ran outside a slot."""
    done = done_counts(by_job(run.states, NAME))
    assert run.recorded["sync.orders"] == done["sync.orders"]
    assert run.recorded["sync.fulfilment"] == run.recorded["sync.postings"] == done["sync.fulfilment"]
    assert run.recorded["sync.refunds"] == done["sync.refunds"]
    assert run.recorded["sync.stock"] == done["sync.stock"]
    assert run.recorded["checks"] == done["checks"]


def test_it_served_healthz_and_metrics_with_its_runs(run: Outcome) -> None:
    assert run.healthz.status_code == 200
    assert run.healthz.json()["sources"] == {f"{NAME}/magento": True, f"{NAME}/stokly": True}
    assert f'watchdog_check_runs_total{{check="stock_divergence",integration="{NAME}",outcome="ok"}}' in run.metrics
    assert f'watchdog_sync_runs_total{{flow="orders",integration="{NAME}",outcome="ok"}}' in run.metrics


def test_sigterm_exits_cleanly_with_code_0_within_10_seconds(run: Outcome) -> None:
    assert run.exit_code == 0
    assert run.stop_seconds < 10


def test_the_log_is_json_lines_and_holds_no_secret(run: Outcome) -> None:
    text = run.log.read_text()
    records: list[dict[str, Any]] = log_records(run.log)  # raises on any line that is not JSON
    assert any(r.get("level") == "debug" for r in records)
    for secret in SECRETS:
        assert secret not in text
    done_events = [r for r in records if r.get("event") == "slot.done"]
    assert len(done_events) == sum(1 for s in run.states if s.status == "done")
    assert {r.get("event") for r in records} >= {"service.started", "slot.started", "slot.done", "service.stopped"}
