"""Three replica processes on one PostgreSQL: each slot exactly once; a killed lease holder's slot resumes.

Two merchants, so the replicas share two sync groups and two checks jobs besides dispatch.
Needs WATCHDOG_TEST_POSTGRES_URL (required in CI, skipped locally without it); the test
creates its own schema and drops it afterwards, so runs never collide.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL
from tests.service.kit import (
    EVERY_JOBS,
    INTERVAL,
    ServiceProcess,
    assert_each_slot_ran_once,
    assert_work_matches_slots,
    by_job,
    env_for,
    free_port,
    integration_toml,
    migrate,
    owner_pid,
    served_merchant,
    slot_states,
    stuck_slot,
    terminate_all,
    wait_for,
    write_config,
)
from watchdog.scheduler import SlotState
from watchdog.simulators.faults import FaultRule

pytestmark = pytest.mark.postgres
SHOPS = ("shop_a", "shop_b")
LEASE = 2.0
MIN_SLOTS = 50
WARM_UP = timedelta(seconds=2)
RECOVERY = timedelta(seconds=3)  # for the taken-over group to work off the slots that waited on it


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database URL whose search path is a fresh schema of this test's own."""
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must set WATCHDOG_TEST_POSTGRES_URL: the PostgreSQL tests are required there")
        pytest.skip("set WATCHDOG_TEST_POSTGRES_URL to run the PostgreSQL tests")
    schema = f"wd_replicas_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_three_replicas_run_each_slot_once_and_resume_a_killed_holders_slot(pg_url: str, tmp_path: Path) -> None:
    """A clean stretch of at least 50 slots after a short warm-up, each exactly once; then a holder is killed.

    While the killed replica's leases run, its job (and, for a sync flow, its whole group,
    which runs on one replica at a time) cannot run elsewhere; slots missed then are
    coalesced, never run twice. After the take-over every job is back to one run per slot.
    """
    migrate(pg_url)
    with served_merchant(3) as shop_a, served_merchant(5) as shop_b:
        integrations = [integration_toml("shop_a", shop_a), integration_toml("shop_b", shop_b)]
        replicas = []
        for i in range(3):
            port = free_port()
            config = write_config(tmp_path / f"replica{i}.toml", db_url=pg_url, port=port, integrations=integrations)
            replicas.append(ServiceProcess(config, port, tmp_path / f"replica{i}.log", env_for(SHOPS),
                                           lease=f"{LEASE:g}s"))
        try:
            for replica in replicas:
                replica.wait_ready()
            warm_at = datetime.now(UTC) + WARM_UP  # the first runs (cold caches, backfills) are slow
            wait_for(lambda: len(_clean(slot_states(pg_url), warm_at, done=True)) >= MIN_SLOTS, 30,
                     f"{MIN_SLOTS} slots", poll=0.5)
            before_fault = {(s.job, s.key) for s in _clean(slot_states(pg_url), warm_at, done=True)}
            shop_a.magento_faults.add(FaultRule("latency", route=r"^GET /rest/V1/orders", latency_s=8, count=1))
            stuck = wait_for(lambda: stuck_slot(pg_url, "shop_a"), 8, "a slot held up by the slow read")
            holder = next(r for r in replicas if r.pid == owner_pid(stuck))
            killed_at = time.time()
            holder.kill()
            survivors = [r for r in replicas if r is not holder]
            resumed = wait_for(lambda: _resumed(survivors, stuck.job, stuck.key), 3 * LEASE, "the take-over")
            time.sleep(5)
            exits = terminate_all(survivors)
        finally:
            for replica in replicas:
                replica.close()
    states = slot_states(pg_url)

    clean = [s for s in states if (s.job, s.key) in before_fault]
    assert len(clean) >= MIN_SLOTS
    for job, slots in _by_job(clean).items():
        assert_each_slot_ran_once(slots, INTERVAL[job.partition("/")[2] or job])
        assert {s.attempts for s in slots} == {1}
    assert len({s.owner for s in clean}) == 3  # the work was shared

    assert resumed - killed_at <= LEASE + 1.0, f"resumed {resumed - killed_at:.2f}s after the kill"
    [taken] = [s for s in states if (s.job, s.key) == (stuck.job, stuck.key)]
    assert (taken.status, taken.attempts) == ("done", 2)
    assert owner_pid(taken) in {r.pid for r in survivors}

    recovered = datetime.fromtimestamp(resumed, UTC) + RECOVERY
    for job, slots in _by_job(_clean(states, recovered)).items():
        assert_each_slot_ran_once(slots, INTERVAL[job.partition("/")[2] or job])
    assert {s.status for s in states} == {"done"}
    for shop in SHOPS:
        assert set(by_job(states, shop)) >= set(EVERY_JOBS)
        assert_work_matches_slots(states, pg_url, shop)
    assert [code for code, _ in exits] == [0, 0]
    assert all(seconds < 10 for _, seconds in exits)


def _clean(states: list[SlotState], since: datetime, *, done: bool = False) -> list[SlotState]:
    """The interval jobs' slots due since ``since`` (``done``: finished ones only; daily and hourly jobs left out)."""
    every = {f"{shop}/{job}" for shop in SHOPS for job in EVERY_JOBS} | {"dispatch"}
    return [s for s in states if s.job in every and s.due_at is not None and s.due_at >= since
            and (s.status == "done" or not done)]


def _by_job(states: list[SlotState]) -> dict[str, list[SlotState]]:
    jobs: dict[str, list[SlotState]] = {}
    for state in states:
        jobs.setdefault(state.job, []).append(state)
    return jobs


def _resumed(survivors: list[ServiceProcess], job: str, slot: str) -> float | None:
    """When a survivor started the slot again (its log's ``slot.started`` with attempt 2), as a Unix time."""
    for replica in survivors:
        for record in _complete_records(replica.log):
            if (record.get("event"), record.get("job"), record.get("slot"), record.get("attempt")) == (
                    "slot.started", job, slot, 2):
                return datetime.fromisoformat(str(record["ts"]).replace("Z", "+00:00")).timestamp()
    return None


def _complete_records(log: Path) -> list[dict[str, object]]:
    """The log's records so far (a line still being written is left for the next look)."""
    records = []
    for line in log.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records
