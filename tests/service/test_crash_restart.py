"""SIGKILL in the middle of a slot, then a restart: the slot is taken over and completes once."""

from __future__ import annotations

import time
from pathlib import Path

from tests.service.kit import (
    ServiceProcess,
    assert_work_matches_slots,
    env_for,
    free_port,
    integration_toml,
    migrate,
    owner_pid,
    served_merchant,
    slot_states,
    stuck_slot,
    wait_for,
    write_config,
)
from watchdog.simulators.faults import FaultRule

NAME = "crashshop"


def test_a_slot_killed_mid_run_is_taken_over_after_restart_and_completes_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/watchdog.db"
    migrate(db_url)
    port = free_port()
    with served_merchant() as systems:
        config = write_config(tmp_path / "watchdog.toml", db_url=db_url, port=port,
                              integrations=[integration_toml(NAME, systems)])
        env = env_for([NAME])
        first = ServiceProcess(config, port, tmp_path / "first.log", env)
        try:
            first.wait_ready()
            time.sleep(1.0)
            # the next Magento order read answers after 8 s: whichever job makes it is mid-slot for a while
            systems.magento_faults.add(FaultRule("latency", route=r"^GET /rest/V1/orders", latency_s=8, count=1))
            stuck = wait_for(lambda: stuck_slot(db_url, NAME), 8, "a slot held up by the slow read")
            assert owner_pid(stuck) == first.pid
            first.kill()  # SIGKILL: no cleanup, the lease is left to expire
        finally:
            first.close()
        second = ServiceProcess(config, port, tmp_path / "second.log", env)
        try:
            second.wait_ready()
            done = wait_for(lambda: [s for s in slot_states(db_url) if (s.job, s.key) == (stuck.job, stuck.key)
                                     and s.status == "done"], 10, "the killed slot to complete")
            code, seconds = second.terminate()
        finally:
            second.close()
    [resumed] = done
    assert (resumed.attempts, owner_pid(resumed)) == (2, second.pid)
    states = slot_states(db_url)
    assert max(s.attempts for s in states) <= 2
    assert all(owner_pid(s) == second.pid for s in states if s.attempts == 2)
    assert_work_matches_slots(states, db_url, NAME)
    assert code == 0
    assert seconds < 10
