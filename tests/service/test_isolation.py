"""Three merchants in one process: one healthy, one whose Magento hangs, one whose Magento refuses us.

The healthy merchant's jobs run every slot exactly once as if the others did not exist;
the refused one is reported (``source_unreachable``, ``watchdog_source_up 0``); SIGTERM
while the hung merchant's jobs wait on Magento releases their slots and exits 0 in time.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import select

from tests.service.kit import (
    EVERY_JOBS,
    FAST,
    INTERVAL,
    SECOND,
    SECRETS,
    ServiceProcess,
    assert_each_slot_ran_once,
    assert_work_matches_slots,
    black_hole,
    by_job,
    env_for,
    free_port,
    integration_toml,
    log_records,
    migrate,
    served_merchant,
    slot_states,
    write_config,
)
from watchdog.store.db import open_store
from watchdog.store.models import FindingRow

RUN_FOR = 6.0
#: Three merchants in one process on a small machine: the checks get two-second slots too.
SCHEDULE = {**FAST, "checks": "2s"}
INTERVALS = {**INTERVAL, "checks": 2 * SECOND}
WRONG_TOKEN = "svc-wrong-magento-token-3f1d"


def test_one_merchants_outage_never_stalls_another(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/watchdog.db"
    migrate(db_url)
    port = free_port()
    with served_merchant(3) as good, served_merchant(5) as hung, served_merchant(7) as denied, black_hole() as hole:
        config = write_config(tmp_path / "watchdog.toml", db_url=db_url, port=port, integrations=[
            integration_toml("good", good), integration_toml("hung", hung, magento_url=hole, timeout_s=3),
            integration_toml("denied", denied)], schedule=SCHEDULE)
        service = ServiceProcess(config, port, tmp_path / "service.log",
                                 env_for(["good", "hung", "denied"], tokens={"denied": WRONG_TOKEN}))
        try:
            service.wait_ready()
            time.sleep(RUN_FOR)
            metrics = httpx.get(f"{service.url}/metrics", timeout=5).text
            healthz = httpx.get(f"{service.url}/healthz", timeout=5).json()
            code, seconds = service.terminate()
        finally:
            service.close()
    states = slot_states(db_url)

    healthy = by_job(states, "good")
    healthy["dispatch"] = [s for s in states if s.job == "dispatch"]
    for job in (*EVERY_JOBS, "dispatch"):
        assert len(healthy[job]) >= RUN_FOR / INTERVALS[job].total_seconds() - 1, job
        assert_each_slot_ran_once(healthy[job], INTERVALS[job])
    assert_work_matches_slots(states, db_url, "good")

    # the hung merchant's checks and first sync flow waited on Magento until SIGTERM released them
    hung = by_job(states, "hung")
    assert {"checks", "sync.orders"} <= set(hung)
    assert {(s.status, s.error) for slots in hung.values() for s in slots} == {
        ("running", "released unfinished: the process stopped")}

    assert 'watchdog_source_up{integration="denied",system="magento"} 0.0' in metrics
    assert 'watchdog_source_up{integration="good",system="magento"} 1.0' in metrics
    assert (healthz["sources"]["good/magento"], healthz["sources"]["denied/magento"]) == (True, False)
    assert _open_findings(db_url, "denied", "source_unreachable") == ["system:magento"]

    assert code == 0
    assert seconds < 10
    log = (tmp_path / "service.log").read_text()
    log_records(tmp_path / "service.log")
    for secret in (*SECRETS, WRONG_TOKEN):
        assert secret not in log


def _open_findings(db_url: str, integration: str, check: str) -> list[str]:
    store = open_store(db_url)
    try:
        with store.session() as s:
            return list(s.execute(select(FindingRow.subject).where(
                FindingRow.integration == integration, FindingRow.check == check,
                FindingRow.status == "open")).scalars())
    finally:
        store.dispose()
