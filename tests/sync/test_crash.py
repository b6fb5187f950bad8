"""Crash safety: ``watchdog sync`` SIGKILLed at random points, restarted each time, loses and duplicates nothing.

The simulators run here, over real HTTP, and outlive every worker; each worker is a separate
process (forked from ``zygote.py`` so a restart costs milliseconds) running ``watchdog sync
--once`` against a SQLite file. Each worker is killed a random 1 to 8 writes into its work,
which lands kills between a request and its answer, between a write and its ledger commit,
and while claims are held. Meanwhile the scenario's world moves on in a thread (dispatches,
refunds before and after fulfilment). After the kills, uninterrupted runs drain the backlog;
then both simulators are read for the ground truth. The simulators' Magento app is served
behind ``CompleteBodies`` (see ``kit``): a request cut off mid-body is never run.

The CI version kills 50 times over 500 orders (30% of them dispatched or refunded, to stay
within a minute); ``--run-slow`` runs 300 kills over 1,500 orders that all move.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.sync.kit import Shop, backlog, config_env, served_shop, write_config
from tests.sync.scenario import BUSY, MIXED, Scenario
from watchdog.store.db import open_store, upgrade
from watchdog.store.models_sync import SyncRecordRow

REPO = Path(__file__).resolve().parents[2]
TIMING = ["--lease", "1s", "--retry-base", "0s", "--ambiguous-delay", "0.2s", "--wait-interval", "0s"]


class Zygote:
    """The fork server's handle: spawn a worker, see whether it still runs."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def spawn(self, argv: list[str]) -> int:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"spawn {json.dumps(argv)}\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    @staticmethod
    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def wait(self, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.alive(pid):
            assert time.monotonic() < deadline, f"worker {pid} did not finish in {timeout}s"
            time.sleep(0.01)


@contextmanager
def zygote(tmp: Path, shop: Shop) -> Iterator[Zygote]:
    env = {**os.environ, **config_env(shop)}
    process = subprocess.Popen([sys.executable, str(REPO / "tests" / "sync" / "zygote.py"), str(tmp / "workers.log")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        yield Zygote(process)
    finally:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


def _interrupted(db: Path) -> int:
    """Records whose holder died (a takeover after an expired lease counts one attempt)."""
    store = open_store(f"sqlite:///{db}")
    try:
        with store.session() as s:
            return int(s.execute(select(func.count()).where(SyncRecordRow.attempts > 0)).scalar_one())
    finally:
        store.dispose()


def _backlog(db: Path) -> dict[str, int]:
    store = open_store(f"sqlite:///{db}")
    try:
        return backlog(store)
    finally:
        store.dispose()


class World(threading.Thread):
    """The merchant's world moving on (dispatches, refunds) while workers run and die."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(name="world", daemon=True)
        self.scenario = scenario
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        while not self.stopping.wait(0.1):
            try:
                with self.lock:
                    self.scenario.act()
            except BaseException as exc:  # surfaced by check()
                self.error = exc
                return

    def check(self, *, final: bool) -> list[str]:
        assert self.error is None, f"the world failed: {self.error!r}"
        with self.lock:
            return self.scenario.problems(final=final)

    @property
    def acted(self) -> bool:
        with self.lock:
            return self.scenario.acted


def _crash_run(tmp: Path, orders: int, kills: int, seed: int, weights: tuple[int, ...]) -> None:
    rng = random.Random(seed)
    # enough stock for every order: a source that runs dry fails its shipments for good (Magento's
    # "Could not save a shipment"), and those end as dead letters, which is right but not this test
    with served_shop(seed=seed, stock=max(100, 2 * orders)) as shop:
        world = World(Scenario(shop, orders=orders, seed=seed, weights=weights))
        config = write_config(tmp, shop, sync={"overlap": "3s", "max_attempts": 100})
        store = open_store(f"sqlite:///{tmp}/worker.db")
        upgrade(store.engine)
        store.dispose()
        # the stock push is absolute and idempotent (tested elsewhere): the killed runs leave it out
        argv = ["sync", "--config", str(config), "--once", "--no-progress", *TIMING]
        records = [*argv, "--flow", "orders", "--flow", "fulfilment", "--flow", "refunds"]
        world.start()
        try:
            with zygote(tmp, shop) as server:
                killed = _kill_repeatedly(server, records, kills, rng, world, shop)
                _drain(server, argv, world, tmp / "worker.db")
        finally:
            world.stopping.set()
            world.join()
        log = (tmp / "workers.log").read_text()
        assert "Traceback" not in log, log[-3000:]
        assert world.check(final=True) == []
        assert _backlog(tmp / "worker.db") == {}
        assert len(shop.stokly.sale_orders()) == orders
        assert killed >= kills
        assert _interrupted(tmp / "worker.db") >= kills // 5  # the kills did land in the middle of records


def _writes(shop: Shop) -> int:
    """Records the worker has written so far in both systems (what a kill should interrupt)."""
    stokly, magento = shop.stokly, shop.magento
    with magento.lock:
        shipments = len(magento.shipments)
    return (len(stokly.sale_orders()) + len(stokly.customers()) + len(stokly.invoices())
            + len(stokly.credit_notes()) + shipments)


def _kill_repeatedly(server: Zygote, argv: list[str], kills: int, rng: random.Random, world: World,
                     shop: Shop) -> int:
    """Start a worker, let it write a random number of records (1 to 8), SIGKILL it at once; repeat.

    Killing right after writes lands inside the windows that matter: a request in flight, a
    write done but not yet in the ledger, a claim held.
    """
    killed = 0
    while killed < kills:
        target, pid = _writes(shop) + rng.randint(1, 8), server.spawn(argv)
        deadline = time.monotonic() + 2.0
        while server.alive(pid) and _writes(shop) < target and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.01))
        if server.alive(pid):
            os.kill(pid, signal.SIGKILL)
            killed += 1
        server.wait(pid, timeout=5)
        assert world.check(final=False) == []  # never a duplicate, at any point
    return killed


def _drain(server: Zygote, argv: list[str], world: World, db: Path) -> None:
    """Uninterrupted runs until the world has done everything and the ledger is settled."""
    for _ in range(40):
        server.wait(server.spawn(argv), timeout=60)
        if world.acted and not _backlog(db) and not world.check(final=True):
            return
        time.sleep(0.2)  # claims of killed workers free up when their 1 s lease runs out


def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    _crash_run(tmp_path, orders=500, kills=50, seed=11, weights=MIXED)


@pytest.mark.slow
def test_sigkill_hardening_long(tmp_path: Path) -> None:
    _crash_run(tmp_path, orders=1500, kills=300, seed=23, weights=BUSY)
