"""Stand up merchants on the simulators and ``watchdog run`` as real processes, and read what they did.

The simulators run in the test process over real HTTP; each service is a separate
``python -m watchdog.cli run`` process (so SIGTERM and SIGKILL are real), logging JSON to a
file. What the services did is read back from the database: the slot ledger, and the
``flow_run`` / ``check_run`` rows the jobs' work leaves — independent evidence of how many
times each job really ran.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select

from watchdog.scheduler import ABANDONED, RUNNING, SlotLedger, SlotState
from watchdog.simulators.embedded import EmbeddedSystems, SimCredentials
from watchdog.simulators.merchant import Merchant, build_merchant
from watchdog.simulators.scenario import SimClock, parse_scenario
from watchdog.store.db import open_store, upgrade
from watchdog.store.models import CheckRunRow
from watchdog.store.models_sync import FlowRunRow

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
SECOND = timedelta(seconds=1)
#: Fast schedules: the four sync flows run one at a time (a group), so they get two-second slots.
FAST = {"orders": "2s", "fulfilment": "2s", "refunds": "2s", "stock": "2s", "checks": "1s", "dispatch": "1s"}
INTERVAL = {"sync.orders": 2 * SECOND, "sync.fulfilment": 2 * SECOND, "sync.refunds": 2 * SECOND,
            "sync.stock": 2 * SECOND, "checks": SECOND, "dispatch": SECOND}
EVERY_JOBS = ("sync.orders", "sync.fulfilment", "sync.refunds", "sync.stock", "checks")
#: Credentials the simulators accept; long and distinctive so a log scan cannot miss them.
CREDENTIALS = SimCredentials(
    magento_consumer_key="svc-consumer-key-41d3", magento_consumer_secret="svc-consumer-secret-8a2f",
    magento_access_token="svc-magento-token-77c1e9", magento_token_secret="svc-token-secret-5b60",
    stokly_account="svc-stokly-account-2e94", stokly_client_id="svcclient0000000000000000b",
    stokly_client_secret="svc-stokly-secret-c0de51")
SECRETS = (CREDENTIALS.magento_access_token, CREDENTIALS.stokly_account, CREDENTIALS.stokly_client_id,
           CREDENTIALS.stokly_client_secret)
TINY = {"seed": 3, "currency": "GBP", "simple_skus": 6, "configurables": 0, "variants": 0, "bundles": 0,
        "orders": 4, "shipped_share": 0.5, "refunded_share": 0.25, "in_flight_orders": 0, "history": "2h"}


def tiny_merchant(seed: int = 3) -> Merchant:
    """A merchant small enough that each job runs in tens of milliseconds."""
    now = datetime.now(UTC)
    clock = SimClock(now)
    merchant = build_merchant(parse_scenario({"merchant": {**TINY, "seed": seed}}), now, clock=clock)
    clock.follow_real_time()
    return merchant


@contextmanager
def served_merchant(seed: int = 3) -> Iterator[EmbeddedSystems]:
    with EmbeddedSystems(tiny_merchant(seed), credentials=CREDENTIALS) as systems:
        yield systems


@contextmanager
def black_hole() -> Iterator[str]:
    """A URL whose server accepts connections and never answers (a hung Magento)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def integration_toml(name: str, systems: EmbeddedSystems, *, magento_url: str | None = None,
                     timeout_s: float = 10) -> str:
    """An ``[[integrations]]`` table for ``systems`` (secrets named by ``SVC_*`` variables, see ``ENV``)."""
    m = systems.merchant
    return f"""
[[integrations]]
name = "{name}"
  [integrations.magento]
  base_url = "{magento_url or systems.magento_url}"
  auth = "bearer"
  token_env = "SVC_{name.upper()}_MAGENTO_TOKEN"
  source_code = "{m.source_code}"
  stock_id = {m.stock_id}
  timeout_s = {timeout_s}
  rate_per_s = 0
  [integrations.stokly]
  base_url = "{systems.stokly_url}"
  account_key_env = "SVC_STOKLY_ACCOUNT"
  client_id_env = "SVC_STOKLY_CLIENT_ID"
  client_secret_env = "SVC_STOKLY_CLIENT_SECRET"
  channel_id = "{m.channel_id}"
  timeout_s = {timeout_s}
  rate_per_s = 0
  [integrations.sync]
  settle = "0s"
  overlap = "1m"
"""


def env_for(names: Sequence[str], tokens: dict[str, str] | None = None) -> dict[str, str]:
    """The environment holding every integration's secrets (``tokens``: a Magento token per name)."""
    tokens = tokens or {}
    env = {"SVC_STOKLY_ACCOUNT": CREDENTIALS.stokly_account, "SVC_STOKLY_CLIENT_ID": CREDENTIALS.stokly_client_id,
           "SVC_STOKLY_CLIENT_SECRET": CREDENTIALS.stokly_client_secret}
    for name in names:
        env[f"SVC_{name.upper()}_MAGENTO_TOKEN"] = tokens.get(name, CREDENTIALS.magento_access_token)
    return env


def write_config(path: Path, *, db_url: str, port: int, integrations: Sequence[str],
                 schedule: dict[str, str] | None = None) -> Path:
    lines = [f'[server]\nlisten = "127.0.0.1:{port}"\n', f'[database]\nurl = "{db_url}"\n', *integrations,
             "\n[schedule]\n", *(f'{k} = "{v}"\n' for k, v in (schedule or FAST).items())]
    path.write_text("".join(lines))
    return path


def migrate(db_url: str) -> None:
    store = open_store(db_url)
    try:
        upgrade(store.engine)
    finally:
        store.dispose()


class ServiceProcess:
    """One ``watchdog run`` process, its JSON log and its HTTP port."""

    def __init__(self, config: Path, port: int, log: Path, env: dict[str, str], *, lease: str = "2s",
                 level: str = "info") -> None:
        self.port, self.log = port, log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchdog.cli", "run", "--config", str(config), "--lease", lease,
             "--log-level", level], cwd=REPO, stdout=self._log_file, stderr=self._log_file,
            env={**os.environ, **env})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until /healthz answers. Raises AssertionError (with the log) if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"watchdog run exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"watchdog run never served /healthz:\n{self.log.read_text()}")

    def terminate(self, timeout: float = 15.0) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long the process took to exit."""
        return terminate_all([self], timeout)[0]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self._log_file.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self._log_file.close()


def terminate_all(services: Sequence[ServiceProcess], timeout: float = 15.0) -> list[tuple[int, float]]:
    """SIGTERM to every service at once; each one's exit code and how long it took to exit."""
    started = time.monotonic()
    for service in services:
        service.process.send_signal(signal.SIGTERM)
    exits = []
    for service in services:
        code = service.process.wait(max(0.0, started + timeout - time.monotonic()))
        exits.append((code, time.monotonic() - started))
        service.close()
    return exits


def log_records(log: Path) -> list[dict[str, Any]]:
    """Every line of a service log, parsed. Raises ValueError on a line that is not JSON."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def slot_states(db_url: str) -> list[SlotState]:
    store = open_store(db_url)
    try:
        return SlotLedger(store, "test-reader").slots()
    finally:
        store.dispose()


def recorded_runs(db_url: str, integration: str) -> Counter[str]:
    """How many times each job's work really ran, from the rows that work leaves behind.

    Sync jobs: ``flow_run`` rows per flow (the nightly full push is a ``stock`` run too).
    Checks: distinct run times of one check's ``check_run`` rows (one per checks run).
    """
    store = open_store(db_url)
    try:
        with store.session() as s:
            flows = dict(s.execute(select(FlowRunRow.flow, func.count()).where(FlowRunRow.integration == integration)
                                   .group_by(FlowRunRow.flow)).all())
            checks = s.execute(select(func.count(func.distinct(CheckRunRow.started_at)))
                               .where(CheckRunRow.integration == integration,
                                      CheckRunRow.check == "stock_divergence")).scalar_one()
    finally:
        store.dispose()
    return Counter({f"sync.{flow}": n for flow, n in flows.items()} | {"checks": checks})


def by_job(states: Sequence[SlotState], integration: str) -> dict[str, list[SlotState]]:
    """The slots of ``integration``'s jobs, by job name without the integration prefix."""
    jobs: dict[str, list[SlotState]] = {}
    for state in states:
        prefix, _, job = state.job.partition("/")
        if prefix == integration:
            jobs.setdefault(job, []).append(state)
    return jobs


def assert_each_slot_ran_once(states: Sequence[SlotState], interval: timedelta) -> None:
    """The slots are consecutive (no gap), each done — on the first attempt unless taken over."""
    due = [s.due_at for s in states]
    assert due, "no slot ran"
    assert all(d is not None for d in due)
    first = due[0]
    assert first is not None
    assert due == [first + i * interval for i in range(len(due))], f"gaps or repeats in {[s.key for s in states]}"
    assert {s.status for s in states} == {"done"}, [(s.key, s.status) for s in states if s.status != "done"]


def done_counts(jobs: dict[str, list[SlotState]],
                counted: Callable[[SlotState], bool] = lambda s: s.status == "done") -> Counter[str]:
    """Slots per job (done ones unless ``counted`` says otherwise), counted the way ``recorded_runs``
    counts work (full push = stock, postings = fulfilment)."""
    done = Counter({job: sum(1 for s in states if counted(s)) for job, states in jobs.items()})
    done["sync.stock"] += done.pop("sync.full_stock", 0)
    return done


def wait_for(condition: Callable[[], T | None], timeout: float, what: str, poll: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy; raises AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stuck_slot(db_url: str, integration: str, older_than: float = 3.0) -> SlotState | None:
    """A slot of ``integration`` running longer than any run takes here: the one an injected latency holds up."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    stuck = [s for s in slot_states(db_url) if s.status == "running" and s.job.startswith(f"{integration}/")
             and s.started_at is not None and s.started_at < cutoff]
    return stuck[0] if stuck else None


def owner_pid(state: SlotState) -> int:
    """The process id in an owner name ``host:pid:suffix``."""
    return int(state.owner.split(":")[1])


def assert_work_matches_slots(states: Sequence[SlotState], db_url: str, integration: str) -> None:
    """Each done slot ran its work once; a slot whose holder was killed may have run it once more.

    A SIGKILL can land after the work recorded its run and before the slot was marked done: that
    slot is then taken over (``attempts`` > 1), or still ``running`` with its lease left to expire,
    or ``abandoned`` once a later slot of the job came due. Each such slot allows one extra run.
    """
    jobs = by_job(states, integration)
    done = done_counts(jobs)
    interrupted = done_counts(jobs, lambda s: s.attempts > 1 or s.status in (RUNNING, ABANDONED))
    recorded = recorded_runs(db_url, integration)
    recorded["sync.fulfilment"] = max(recorded["sync.fulfilment"], recorded.pop("sync.postings", 0))
    for job in ("sync.orders", "sync.fulfilment", "sync.refunds", "sync.stock", "checks"):
        assert done[job] <= recorded[job] <= done[job] + interrupted[job], \
            (job, done[job], recorded[job], interrupted[job])
