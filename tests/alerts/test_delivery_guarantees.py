"""Exactly-once delivery against real servers: two dispatchers on one database, and an outage of Slack and SMTP."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.alerts.support import NOW, config, deliveries, dispatcher, open_finding, resolve
from watchdog.dispatch import Dispatcher
from watchdog.notifiers import build_notifiers
from watchdog.simulators.fake_slack import FakeSlack, SlackCall
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.smtp import FakeSmtp, free_port
from watchdog.store.db import Store

M = timedelta(minutes=1)
SUBJECT = re.compile(r"\*(sku:[A-Z0-9-]+|order:\d+)\*")


def no_sleep(seconds: float) -> None:
    return None


def announced(calls: list[SlackCall]) -> Counter[str]:
    """How many times each subject was announced as new: on a new card, or as a ``:new:`` thread line."""
    counts: Counter[str] = Counter()
    for call in calls:
        if call.method != "chat.postMessage" or not call.response.get("ok"):
            continue
        for block in call.params["blocks"]:
            for line in str((block.get("text") or {}).get("text", "")).split("\n"):
                if "thread_ts" not in call.params or line.startswith(":new:"):
                    counts.update(SUBJECT.findall(line))
    return counts


@pytest.fixture
def served(slack: FakeSlack) -> Iterator[ServedApp]:
    app = slack.serve()
    try:
        yield app
    finally:
        app.stop()


def test_two_dispatchers_on_one_database_never_send_twice(store: Store, slack: FakeSlack, served: ServedApp) -> None:
    cfg = config(slack_url=FakeSlack.api_url(served))
    pair = [dispatcher(store, cfg, build_notifiers(cfg, sleep=no_sleep), owner=f"replica-{n}") for n in (1, 2)]
    waves = {0: ["sku:A1", "sku:A2", "order:000000001"], 3: ["sku:B1", "order:000000002"], 9: ["sku:C1", "sku:C2"]}
    expected = []
    for minute in range(16):
        for subject in waves.get(minute, []):
            check = "missing_orders" if subject.startswith("order:") else "stock_divergence"
            open_finding(store, subject, check=check, at=NOW + minute * M)
            expected.append(subject)
        _together(pair, NOW + minute * M + 40 * timedelta(seconds=1))

    assert announced(slack.requests) == Counter(expected)
    cards = [c for c in slack.requests if c.method == "chat.postMessage" and "thread_ts" not in c.params]
    assert len(cards) == 2  # one per group: stock_divergence and missing_orders on #ops-alerts
    rows = deliveries(store)
    assert len(rows) == len(expected)
    assert {r.status for r in rows} == {"sent"}


def _together(pair: list[Dispatcher], now: object) -> None:
    barrier = threading.Barrier(len(pair))
    errors: list[BaseException] = []

    def run(d: Dispatcher) -> None:
        barrier.wait()
        try:
            d.dispatch_once(now)  # type: ignore[arg-type]
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in pair]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_slack_and_smtp_down_then_back_every_alert_once_in_order(sqlite_store: Store, slack: FakeSlack) -> None:
    store = sqlite_store
    slack_port, smtp = free_port(), FakeSmtp()
    slack_app = slack.serve(port=slack_port)
    smtp.start()
    cfg = config(slack_url=f"http://127.0.0.1:{slack_port}/api/", smtp_port=smtp.port)
    d = dispatcher(store, cfg, build_notifiers(cfg, sleep=no_sleep, timeout=2))
    try:
        a = open_finding(store, "sku:A", at=NOW)
        d.dispatch_once(NOW + M)
        slack_app.stop()
        smtp.stop()

        open_finding(store, "sku:B", at=NOW + 2 * M)
        open_finding(store, "sku:C", at=NOW + 3 * M)
        resolve(store, a, NOW + 4 * M)
        outage = [d.dispatch_once(NOW + minute * M) for minute in range(7, 40, 4)]
        email_outage = d.send_digests(NOW + 8 * M, "email")
        open_finding(store, "sku:D", at=NOW + 20 * M)
        assert sum(s.messages for s in outage) == 0
        assert sum(s.retrying for s in outage) >= 3
        assert [o.status for o in email_outage.outcomes] == ["retry"]

        slack_app = slack.serve(port=slack_port)
        smtp.start(port=smtp.port)
        recovered = [d.dispatch_once(NOW + minute * M) for minute in range(45, 75, 5)]
        email = [d.send_digests(NOW + minute * M, "email") for minute in (45, 60)]
    finally:
        slack_app.stop()
        smtp.stop()

    assert sum(s.messages for s in recovered) == 1
    assert announced(slack.requests) == Counter({"sku:A": 1, "sku:B": 1, "sku:C": 1, "sku:D": 1})
    card, reply = slack.posts()
    new_lines = [line for block in reply.blocks for line in block["text"]["text"].split("\n")
                 if line.startswith(":new:")]
    assert [SUBJECT.findall(line)[0] for line in new_lines] == ["sku:B", "sku:C", "sku:D"]
    assert "~sku:A~" in str(reply.blocks)
    assert reply.thread_ts == card.ts
    assert [[o.status for o in e.outcomes] for e in email] == [["sent"], ["already_sent"]]
    assert len(smtp.messages) == 1
    assert {r.status for r in deliveries(store)} == {"sent"}
