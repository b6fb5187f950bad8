"""Digests once per period: local calendar days across restarts, Slack team slots, catch-up and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.alerts.support import (
    NOW,
    RecordingNotifier,
    RecordingObserver,
    check_run,
    config,
    dispatcher,
    integration,
    open_finding,
)
from watchdog.digests import due_period
from watchdog.findings import fingerprint
from watchdog.notifiers import build_notifiers
from watchdog.notify import DeliveryError, ManagerDigest, TeamDigest
from watchdog.simulators.fake_slack import FakeSlack
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.smtp import FakeSmtp
from watchdog.store.db import Store
from watchdog.store.models import FindingRow

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 11, 26, 7, 29, tzinfo=UTC), None),  # GMT: 07:29 local, before 07:30
    (datetime(2026, 11, 26, 7, 30, tzinfo=UTC), "2026-11-26"),
    (datetime(2026, 3, 29, 6, 29, tzinfo=UTC), None),  # BST began at 01:00 UTC: 07:29 local
    (datetime(2026, 3, 29, 6, 30, tzinfo=UTC), "2026-03-29"),
    (datetime(2026, 10, 25, 23, 59, tzinfo=UTC), "2026-10-25"),  # GMT again: still the 25th locally
    (datetime(2026, 10, 26, 0, 1, tzinfo=UTC), None),  # a new local day, before its 07:30
])
def test_the_email_is_due_once_per_local_calendar_day(now: datetime, expected: str | None) -> None:
    due = due_period(now, "Europe/London", ["07:30"], daily=True)
    assert (due[0] if due else None) == expected


def test_slack_slots_are_the_latest_passed_today_in_the_integrations_zone() -> None:
    at = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 16:30 in New York
    assert due_period(at, "America/New_York", ["08:00", "16:00"], daily=False) == (
        "2026-11-26T16:00", datetime(2026, 11, 26, 21, 0, tzinfo=UTC))
    assert due_period(at, "Europe/London", ["08:00", "16:00"], daily=False) == (
        "2026-11-26T16:00", datetime(2026, 11, 26, 16, 0, tzinfo=UTC))


def test_a_restart_on_the_same_day_sends_exactly_one_daily_email(store: Store, smtp: FakeSmtp) -> None:
    cfg = config(smtp_port=smtp.port)
    open_finding(store, "order:000000001", check="missing_orders", at=NOW - 3 * H)
    first = dispatcher(store, cfg, build_notifiers(cfg), owner="before-restart")
    assert first.send_digests(NOW - 4 * H, "email").sent == 1  # 08:00 local

    restarted = dispatcher(store, cfg, build_notifiers(cfg), owner="after-restart")
    for hours in (0, 3, 11):  # 12:00, 15:00, 23:00 local: same day
        assert [o.status for o in restarted.send_digests(NOW + hours * H, "email").outcomes] == ["already_sent"]
    assert len(smtp.messages) == 1

    assert restarted.send_digests(NOW + 20 * H, "email").sent == 1  # 08:00 the next day
    assert len(smtp.messages) == 2


class Crash(BaseException):
    """The process dies after claiming the digest, before the SMTP server has it."""


def test_a_crash_between_claim_and_send_is_taken_over_after_the_lease(store: Store, smtp: FakeSmtp) -> None:
    cfg = config(smtp_port=smtp.port)
    dying = RecordingNotifier(kind="email", failures=[Crash()])
    with pytest.raises(Crash):
        dispatcher(store, cfg, {"email": dying}, owner="dying").send_digests(NOW, "email")

    restarted = dispatcher(store, cfg, build_notifiers(cfg), owner="restarted")
    assert [o.status for o in restarted.send_digests(NOW + M, "email").outcomes] == ["in_progress"]
    assert restarted.send_digests(NOW + 6 * M, "email").sent == 1
    assert restarted.send_digests(NOW + 7 * M, "email").sent == 0
    assert len(smtp.messages) == 1


def test_nothing_is_sent_before_the_first_slot_of_the_day(sqlite_store: Store) -> None:
    notifier = RecordingNotifier(kind="email")
    d = dispatcher(sqlite_store, config(), {"email": notifier})
    assert d.send_digests(datetime(2026, 11, 26, 6, 0, tzinfo=UTC), "email").outcomes == ()
    assert notifier.sent == []


def test_a_permanent_email_failure_breaks_the_channel_and_is_probed_later(sqlite_store: Store) -> None:
    observer = RecordingObserver()
    notifier = RecordingNotifier(kind="email", failures=[DeliveryError("535 bad login", permanent=True,
                                                                        code="smtp_535")])
    d = dispatcher(sqlite_store, config(), {"email": notifier}, observer=observer)
    assert [o.status for o in d.send_digests(NOW, "email").outcomes] == ["failed"]
    assert [o.status for o in d.send_digests(NOW + 5 * M, "email").outcomes] == ["waiting"]
    with sqlite_store.session() as s:
        finding = s.get(FindingRow, fingerprint("acme", "notification_channel", "channel:email"))
        assert finding is not None
        assert finding.status == "open"
    assert d.send_digests(NOW + 16 * M, "email").sent == 1
    assert observer.notifications == [("email", "failed"), ("email", "sent")]
    assert observer.digests == [("email", NOW + 16 * M)]


def test_a_fresh_install_has_no_earlier_figure(sqlite_store: Store) -> None:
    notifier = RecordingNotifier(kind="email")
    open_finding(sqlite_store, "order:000000001", check="missing_orders", at=NOW - H)
    dispatcher(sqlite_store, config(), {"email": notifier}).send_digests(NOW, "email")
    [digest] = notifier.sent
    assert isinstance(digest, ManagerDigest)
    assert {f.key: (f.value, f.previous) for f in digest.figures} == {
        "orders_not_in_warehouse": (1, None), "oversell_units": (0, None), "vat_overstated": (0, None),
        "tracking_not_sent": (0, None)}


@pytest.fixture
def served(slack: FakeSlack) -> Iterator[ServedApp]:
    app = slack.serve()
    try:
        yield app
    finally:
        app.stop()


def test_slack_digests_go_to_each_team_at_each_slot_once(sqlite_store: Store, slack: FakeSlack,
                                                         served: ServedApp) -> None:
    store = sqlite_store
    cfg = config(integration(routes={"operations": "#ops-alerts", "finance": "#finance-alerts"}),
                 slack_url=FakeSlack.api_url(served))
    d = dispatcher(store, cfg, build_notifiers(cfg, sleep=lambda s: None), checks=("stock_divergence",))
    open_finding(store, "creditmemo:000000077", check="missing_credit_notes", owner="finance", at=NOW - 5 * H,
                 measures={"vat": Decimal("3.335"), "amount": Decimal("20.01")})
    open_finding(store, "order:000000001", check="missing_orders", at=NOW - 5 * H,
                 measures={"grand_total": Decimal("1234.5")})
    check_run(store, "missing_orders", "failed", NOW - M, error="boom")

    morning = d.send_digests(NOW, "slack")  # 12:00: the 08:00 slot is due (caught up once)
    again = d.send_digests(NOW + H, "slack")
    afternoon = d.send_digests(NOW + 4 * H + M, "slack")  # 16:01

    assert sorted((o.key.audience, o.key.period, o.status) for o in morning.outcomes) == [
        ("finance", "2026-11-26T08:00", "sent"), ("operations", "2026-11-26T08:00", "sent")]
    assert {o.status for o in again.outcomes} == {"already_sent"}
    assert afternoon.sent == 2
    posts = {p.channel: p for p in slack.posts()[:2]}
    finance = json.dumps(posts[slack.channel_id("#finance-alerts") or ""].blocks, ensure_ascii=False)
    ops = json.dumps(posts[slack.channel_id("#ops-alerts") or ""].blocks, ensure_ascii=False)
    assert "VAT still overstated:* £3.34" in finance
    assert "Orders not in the warehouse" not in finance
    assert "Order value not in the warehouse:* £1,234.50" in ops
    assert "`missing_orders` *NOT CHECKED*" in ops
    assert "`stock_divergence` *NOT CHECKED*: no run in the period" in ops


def test_team_digest_since_is_the_last_digest_sent(sqlite_store: Store) -> None:
    notifier = RecordingNotifier()
    d = dispatcher(sqlite_store, config(integration(routes={"operations": "#ops"})), {"slack": notifier})
    d.send_digests(NOW, "slack")
    d.send_digests(NOW + 4 * H + M, "slack")
    first, second = notifier.sent
    assert isinstance(first, TeamDigest)
    assert isinstance(second, TeamDigest)
    assert first.since == NOW - 24 * H
    assert second.since == NOW
