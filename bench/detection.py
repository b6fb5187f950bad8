"""P3: from a divergence injected in a simulator to the Slack message about it, through the real service.

The production service (``watchdog.service.Service``: scheduler, lanes, checks, lifecycle,
dispatcher, Slack notifier) runs in a child process against both simulators and the fake Slack
Web API, served by this process. Its schedule is compressed the way the demo's is: checks every
``CHECK_INTERVAL_S`` seconds, the checks' ``settle`` ``SETTLE_S``, dispatch every second with a
one-second group wait and interval; the sync flows are left to their hourly slots (the bench
measures detection, not repair). Then, one at a time, after a random pause (so injections fall
at every phase of the check schedule), the bench injects a divergence and times the first
request at the fake Slack API that names its subject:

- even injections: a Magento source quantity edited by hand (``stock_divergence``, found at the
  next check run);
- odd injections: a paid Magento order that never reaches Stokly (``missing_orders``, found
  once it is older than the settle window).

``P3_p95_s`` is the 95th percentile over ``INJECTIONS`` (20; quick: 5); the goal is
``CHECK_INTERVAL_S + SETTLE_S + 5`` seconds. ``python -m bench.detection [--quick]`` prints the table.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import REPO, Served, integration_for, table
from watchdog.config import Config, DatabaseConfig, ScheduleConfig, ServerConfig, SlackConfig
from watchdog.dispatch_rules import DispatchPolicy
from watchdog.secret import Secret
from watchdog.simulators.fake_slack import FakeSlack
from watchdog.simulators.magento.specs import CustomerSpec, OrderItemSpec
from watchdog.simulators.merchant import SOURCE_CODE, Merchant, build_merchant
from watchdog.simulators.scenario import ScenarioSpec

__all__ = ["child", "main", "measure", "run"]

CHECK_INTERVAL_S = 5
SETTLE_S = 5
GOAL_S = CHECK_INTERVAL_S + SETTLE_S + 5
INJECTIONS = {True: 5, False: 20}
TIMEOUT_S = 60.0
SLACK_TOKEN = "xoxb-bench-not-a-real-token"
ROUTES = {"operations": "#ops-alerts", "finance": "#finance-alerts", "ecommerce": "#ecommerce-alerts",
          "platform": "#platform-alerts"}
HOURLY = timedelta(hours=1)
POLICY = DispatchPolicy(group_wait=timedelta(seconds=1), group_interval=timedelta(seconds=1))


# --------------------------------------------------------------------------- the child: the service


def child(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the service until ``payload["stop"]`` exists; write ``payload["ready"]`` once it runs."""
    from watchdog.service import Service, ServiceOptions  # the service is the child's only
    from watchdog.store.db import open_store, upgrade

    config = _config(payload)
    store = open_store(config.database.url)
    upgrade(store.engine)
    options = ServiceOptions(dispatch=POLICY, lease=timedelta(seconds=10), drain=timedelta(seconds=2))
    service = Service(config, store, options).start()
    Path(payload["ready"]).write_text(service.url)
    while not Path(payload["stop"]).exists():
        time.sleep(0.1)
    stopped = service.stop()
    store.dispose()
    return {"stopped_in_time": stopped}


def _config(payload: dict[str, Any]) -> Config:
    settle = f"{SETTLE_S}s"
    checks = {"stock_divergence": {"settle": settle}, "missing_orders": {"settle": settle}}
    integration = integration_for(*payload["urls"], checks=checks, routes=ROUTES, name="bench-uk")
    every = timedelta(seconds=CHECK_INTERVAL_S)
    schedule = ScheduleConfig(orders=HOURLY, stock=HOURLY, fulfilment=HOURLY, refunds=HOURLY, checks=every,
                              dispatch=timedelta(seconds=1))
    return Config(source="bench.detection", integrations=(integration,), server=ServerConfig("127.0.0.1:0"),
                  database=DatabaseConfig(payload["database"]), schedule=schedule,
                  slack=SlackConfig(token=Secret(SLACK_TOKEN), base_url=payload["slack"]))


# --------------------------------------------------------------------------- the parent: inject and time


def _inject(m: Merchant, n: int) -> str:
    """Make the ``n``-th divergence happen; returns the text its Slack message must carry."""
    if n % 2 == 0:
        sku = m.simple_skus[-1 - n // 2]
        current = m.magento.source_qty(sku, SOURCE_CODE) or Decimal(0)
        m.magento.set_source_item(sku, SOURCE_CODE, current + 7)
        return sku
    order_id = m.magento.place_order([OrderItemSpec(m.simple_skus[n], 1)],
                                     customer=CustomerSpec(email=f"late{n}@example.com"))
    with m.magento.lock:
        return m.magento.orders[order_id].increment_id


def _seen(slack: FakeSlack, text: str) -> bool:
    return any(text in json.dumps(call.params) for call in slack.requests)


def _wait(probe: Any, timeout: float, step: float = 0.05) -> float | None:
    """Seconds until ``probe()`` holds, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if probe():
            return time.monotonic() - started
        time.sleep(step)
    return None


def measure(injections: int, *, seed: int = 3) -> dict[str, Any]:
    """Latencies of ``injections`` divergences, through the service in a child process."""
    now = datetime.now(UTC)
    merchant = build_merchant(ScenarioSpec(seed=seed, simple_skus=60, orders=40, injections=()), now)
    merchant.clock.follow_real_time()
    rng = random.Random(seed)
    slack = FakeSlack(token=SLACK_TOKEN)
    with tempfile.TemporaryDirectory() as tmp, Served(merchant) as served:
        slack_server = slack.serve()
        payload: dict[str, Any] = {"urls": list(served.urls), "slack": FakeSlack.api_url(slack_server),
                   "database": f"sqlite:///{Path(tmp) / 'watchdog.db'}", "ready": f"{tmp}/ready",
                   "stop": f"{tmp}/stop"}
        log = Path(tmp) / "service.log"
        process = _start_child(payload, log)
        try:
            if _wait(lambda: Path(payload["ready"]).exists(), 60.0) is None:
                raise RuntimeError("the service did not start")
            time.sleep(CHECK_INTERVAL_S + 2)  # the first check run has settled the clean state
            latencies = []
            for n in range(injections):
                time.sleep(rng.uniform(0, CHECK_INTERVAL_S))
                text = _inject(merchant, n)
                latencies.append(_wait(lambda text=text: _seen(slack, text), TIMEOUT_S))
        finally:
            Path(payload["stop"]).write_text("stop")
            process.wait(timeout=60)
            slack_server.stop()
            failure = log.read_text()[-3000:] if process.returncode else ""
    if failure:
        raise RuntimeError(f"the service failed:\n{failure}")
    return _figures(latencies)


def _start_child(payload: dict[str, Any], log: Path) -> subprocess.Popen[str]:
    """The service's process; its output goes to ``log``."""
    code = "import json, sys, bench.detection as m; print(json.dumps(m.child(json.loads(sys.stdin.read()))))"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=out,
                                   stderr=subprocess.STDOUT, text=True, cwd=REPO)
    assert process.stdin is not None
    process.stdin.write(json.dumps(payload))
    process.stdin.close()
    return process


def _figures(latencies: list[float | None]) -> dict[str, Any]:
    found = sorted(x for x in latencies if x is not None)
    missed = len(latencies) - len(found)
    ranked = found + [float("inf")] * missed  # a divergence never reported counts as infinitely late
    p95 = ranked[min(len(ranked) - 1, max(0, round(0.95 * len(ranked)) - 1))]
    return {"injections": len(latencies), "missed": missed, "p50": statistics.median(ranked),
            "p95": p95, "max": ranked[-1], "min": ranked[0], "goal": float(GOAL_S),
            "stock": latencies[0::2], "orders": latencies[1::2]}


def run(quick: bool) -> dict[str, float]:
    """``P3_p95_s`` and its goal, printing the table."""
    result = measure(INJECTIONS[quick])
    print(render(result))
    return {"P3_p95_s": result["p95"], "P3_goal_s": result["goal"]}


def render(r: dict[str, Any]) -> str:
    headers = ("injections", "not reported", "min s", "median s", "p95 s", "max s", "goal s")
    title = (f"P3 detection: divergence injected -> Slack message (checks every {CHECK_INTERVAL_S} s, "
             f"settle {SETTLE_S} s; goal p95 <= {GOAL_S} s)")
    rows = [(r["injections"], r["missed"], r["min"], r["p50"], r["p95"], r["max"], r["goal"])]
    detail = "  stock edits: " + _list(r["stock"]) + "\n  orders never imported: " + _list(r["orders"])
    return table(title, headers, rows) + "\n" + detail


def _list(values: list[float | None]) -> str:
    return ", ".join("never" if v is None else f"{v:.1f}" for v in values) + " s"


def main(argv: list[str]) -> int:
    run("--quick" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
