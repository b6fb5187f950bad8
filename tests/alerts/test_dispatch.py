"""The dispatch core with a recording notifier: routing, grouping timers, acks, silences, inhibition, failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.alerts.support import (
    NOW,
    RecordingNotifier,
    RecordingObserver,
    ack,
    config,
    deliveries,
    dispatcher,
    integration,
    open_finding,
    resolve,
    silence,
)
from watchdog.dispatch import Dispatcher
from watchdog.findings import fingerprint
from watchdog.notify import DeliveryError, GroupMessage
from watchdog.store.db import Store
from watchdog.store.models import FindingRow, TransitionRow
from watchdog.store.models_alerts import ChannelStateRow

S = timedelta(seconds=1)
M = timedelta(minutes=1)


def setup(store: Store, **kwargs: object) -> tuple[Dispatcher, RecordingNotifier, RecordingObserver]:
    notifier, observer = RecordingNotifier(), RecordingObserver()
    return dispatcher(store, config(), {"slack": notifier}, observer=observer, **kwargs), notifier, observer  # type: ignore[arg-type]


def sent(notifier: RecordingNotifier) -> list[GroupMessage]:
    return [m for m in notifier.sent if isinstance(m, GroupMessage)]


def subjects(alerts: tuple[object, ...]) -> list[str]:
    return [a.subject for a in alerts]  # type: ignore[attr-defined]


def test_a_new_group_waits_group_wait_then_sends_one_card_per_group_and_channel(store: Store) -> None:
    d, notifier, observer = setup(store)
    for n in range(3):
        open_finding(store, f"sku:A{n}", at=NOW + n * S)
    open_finding(store, "order:000000001", check="missing_orders", at=NOW)
    open_finding(store, "creditmemo:000000077", check="missing_credit_notes", owner="finance", at=NOW)

    assert d.dispatch_once(NOW + 10 * S).messages == 0
    summary = d.dispatch_once(NOW + 32 * S)

    assert summary.messages == 3
    assert summary.delivered == 5
    by_group = {(m.destination, m.check): m for m in sent(notifier)}
    stock = by_group[("#ops-alerts", "stock_divergence")]
    assert subjects(stock.opened) == ["sku:A0", "sku:A1", "sku:A2"]
    assert stock.card_ref is None
    assert stock.open == stock.opened
    assert ("#finance-alerts", "missing_credit_notes") in by_group
    assert all(r.status == "sent" for r in deliveries(store))
    assert observer.notifications.count(("slack:#ops-alerts", "sent")) == 2


def test_later_changes_wait_for_the_group_interval_and_say_only_what_changed(store: Store) -> None:
    d, notifier, _ = setup(store)
    a = open_finding(store, "sku:A", at=NOW)
    d.dispatch_once(NOW + 30 * S)
    open_finding(store, "sku:B", at=NOW + M)
    resolve(store, a, NOW + 2 * M)

    assert d.dispatch_once(NOW + 3 * M).messages == 0
    assert d.dispatch_once(NOW + 6 * M).messages == 1

    _first, second = sent(notifier)
    assert second.card_ref == "C1/1"
    assert subjects(second.opened) == ["sku:B"]
    assert subjects(second.resolved) == ["sku:A"]
    assert subjects(second.open) == ["sku:B"]


def test_nothing_is_sent_again_without_a_transition(store: Store) -> None:
    d, notifier, _ = setup(store)
    open_finding(store, "sku:A", at=NOW)
    for minutes in (1, 10, 20, 60, 120):
        d.dispatch_once(NOW + minutes * M)
    assert len(notifier.sent) == 1


def test_a_resolved_group_says_so_and_the_next_incident_gets_a_new_card(store: Store) -> None:
    d, notifier, _ = setup(store)
    a = open_finding(store, "sku:A", at=NOW)
    d.dispatch_once(NOW + M)
    resolve(store, a, NOW + 2 * M)
    d.dispatch_once(NOW + 7 * M)
    open_finding(store, "sku:A", at=NOW + 20 * M)
    d.dispatch_once(NOW + 21 * M)

    _, resolved, reopened = sent(notifier)
    assert subjects(resolved.resolved) == ["sku:A"]
    assert resolved.open == ()
    assert reopened.card_ref is None
    assert subjects(reopened.opened) == ["sku:A"]


def test_a_finding_that_opens_and_resolves_within_group_wait_is_never_notified(store: Store) -> None:
    d, notifier, _ = setup(store)
    a = open_finding(store, "sku:A", at=NOW)
    resolve(store, a, NOW + 10 * S)
    summary = d.dispatch_once(NOW + M)
    assert notifier.sent == []
    assert summary.suppressed == 2
    assert {(r.status, r.reason) for r in deliveries(store)} == {("suppressed", "flapped")}


def test_acks_silences_mutes_and_low_severity_do_not_notify(store: Store) -> None:
    d, notifier, _ = setup(store)
    acked = open_finding(store, "sku:ACKED", at=NOW)
    ack(store, acked, "alice", NOW + S)
    silence(store, check="missing_orders")
    open_finding(store, "order:000000001", check="missing_orders", at=NOW)
    open_finding(store, "sku:MUTED", at=NOW, muted_by="silence:7")
    open_finding(store, "sku:INFO", at=NOW, severity="info")
    d.dispatch_once(NOW + M)
    assert notifier.sent == []
    assert {r.reason for r in deliveries(store)} == {"acked", "silenced", "below_threshold"}

    open_finding(store, "sku:INFO", at=NOW + 2 * M, severity="warning", kind="escalated")
    d.dispatch_once(NOW + 3 * M)
    [message] = sent(notifier)
    assert subjects(message.opened) == ["sku:INFO"]


def test_an_ack_after_notifying_refreshes_the_card_quietly_and_stops_reminders(store: Store) -> None:
    d, notifier, _ = setup(store)
    a = open_finding(store, "sku:A", at=NOW)
    d.dispatch_once(NOW + M)
    ack(store, a, "alice", NOW + 2 * M)
    d.dispatch_once(NOW + 7 * M)
    refresh = sent(notifier)[-1]
    assert not refresh.has_delta
    assert refresh.open[0].acked_by == "alice"
    assert d.dispatch_once(NOW + 5 * 60 * M).reminders == 0


def test_a_source_outage_holds_its_integrations_alerts_until_it_is_back(store: Store) -> None:
    d, notifier, _ = setup(store)
    down = open_finding(store, "system:magento", check="source_unreachable", owner="platform", severity="critical",
                        at=NOW)
    open_finding(store, "order:000000001", check="missing_orders", at=NOW)
    summary = d.dispatch_once(NOW + M)
    [outage] = sent(notifier)
    assert (outage.destination, outage.check) == ("#platform", "source_unreachable")
    assert summary.held == 1

    resolve(store, down, NOW + 10 * M)
    d.dispatch_once(NOW + 11 * M)
    assert [(m.check, subjects(m.opened or m.resolved)) for m in sent(notifier)[1:]] == [
        ("missing_orders", ["order:000000001"]), ("source_unreachable", ["system:magento"])]


def test_a_team_without_a_route_is_logged_as_unrouted_once(store: Store) -> None:
    d, _notifier, observer = setup(store)
    open_finding(store, "sku:a-1", check="sku_mismatch", owner="ecommerce", at=NOW)
    assert d.dispatch_once(NOW + M).unrouted == 1
    assert d.dispatch_once(NOW + 2 * M).unrouted == 0
    assert [(r.channel, r.status, r.reason) for r in deliveries(store)] == [("", "unrouted", "no_route")]
    assert ("", "unrouted") in observer.notifications


def test_unchanged_open_groups_are_reminded_every_repeat_interval_once(store: Store) -> None:
    d, notifier, _ = setup(store)
    open_finding(store, "sku:A", at=NOW)
    open_finding(store, "sku:B", at=NOW)
    d.dispatch_once(NOW + M)
    assert d.dispatch_once(NOW + 3 * 60 * M).reminders == 0

    summary = d.dispatch_once(NOW + 4 * 60 * M + M)
    other = dispatcher(store, config(), {"slack": RecordingNotifier()}, owner="d2").dispatch_once(
        NOW + 4 * 60 * M + 2 * M)

    assert summary.reminders == 2
    assert other.reminders == 0
    reminder = sent(notifier)[-1]
    assert reminder.reminder
    assert subjects(reminder.open) == ["sku:A", "sku:B"]
    with store.session() as s:
        kinds = list(s.execute(select(TransitionRow.kind).where(TransitionRow.kind == "reminded")).scalars())
    assert len(kinds) == 2


def test_a_transient_failure_backs_off_then_delivers_everything_once_in_order(store: Store) -> None:
    d, notifier, observer = setup(store)
    notifier.failures = [DeliveryError("503", permanent=False, code="http_503")] * 2
    open_finding(store, "sku:A", at=NOW)
    assert d.dispatch_once(NOW + M).retrying == 1  # backoff 30 s
    open_finding(store, "sku:B", at=NOW + M + 5 * S)
    assert d.dispatch_once(NOW + M + 10 * S).held == 2
    assert d.dispatch_once(NOW + M + 40 * S).retrying == 2  # backoff 60 s
    assert d.dispatch_once(NOW + 2 * M).messages == 0
    assert d.dispatch_once(NOW + 3 * M).messages == 1

    [message] = sent(notifier)
    assert subjects(message.opened) == ["sku:A", "sku:B"]
    assert [r.status for r in deliveries(store)] == ["sent", "sent"]
    assert [o for _, o in observer.notifications] == ["retry", "retry", "sent"]


def test_a_permanent_failure_breaks_the_channel_raises_a_platform_finding_and_recovers(store: Store) -> None:
    d, notifier, observer = setup(store)
    notifier.failures = [DeliveryError("channel_not_found", permanent=True, code="channel_not_found")]
    open_finding(store, "sku:A", at=NOW)

    summary = d.dispatch_once(NOW + M)

    assert summary.broken == ("slack:#ops-alerts",)
    assert ("slack:#ops-alerts", "failed") in observer.notifications
    platform_fp = fingerprint("acme", "notification_channel", "channel:slack:#ops-alerts")
    with store.session() as s:
        assert s.get(ChannelStateRow, "slack:#ops-alerts").broken  # type: ignore[union-attr]
        finding = s.get(FindingRow, platform_fp)
        assert finding is not None
        assert (finding.status, finding.owner, finding.severity) == ("open", "platform", "critical")
    assert d.dispatch_once(NOW + 5 * M).messages == 1  # only the platform alert, to #platform
    assert sent(notifier)[0].destination == "#platform"

    d.dispatch_once(NOW + 17 * M)  # the probe: delivery works again
    with store.session() as s:
        assert not s.get(ChannelStateRow, "slack:#ops-alerts").broken  # type: ignore[union-attr]
        assert s.get(FindingRow, platform_fp).status == "resolved"  # type: ignore[union-attr]
    assert subjects(sent(notifier)[1].opened) == ["sku:A"]


def test_a_delivery_failing_beyond_give_up_after_is_marked_failed(store: Store) -> None:
    d, notifier, _ = setup(store)
    notifier.failures = [DeliveryError("503", permanent=False)] * 100
    open_finding(store, "sku:A", at=NOW)
    d.dispatch_once(NOW + M)
    summary = d.dispatch_once(NOW + 25 * 60 * M)
    assert summary.failed == 1
    assert [r.status for r in deliveries(store)] == ["failed"]


class Crash(BaseException):
    """The process dies in the middle of a send."""


def test_a_dispatcher_dying_mid_send_leaves_a_claim_another_takes_over_after_the_lease(store: Store) -> None:
    dying = RecordingNotifier(failures=[Crash()])
    open_finding(store, "sku:A", at=NOW)
    with pytest.raises(Crash):
        dispatcher(store, config(), {"slack": dying}, owner="dead").dispatch_once(NOW + M)
    assert [r.status for r in deliveries(store)] == ["claimed"]

    d, _notifier, _ = setup(store, owner="alive")
    assert d.dispatch_once(NOW + 2 * M).messages == 0  # the lease (5 min) still holds
    assert d.dispatch_once(NOW + 7 * M).messages == 1
    assert [r.status for r in deliveries(store)] == ["sent"]


def test_integrations_route_to_their_own_channels(store: Store) -> None:
    notifier = RecordingNotifier()
    cfg = config(integration("acme"), integration("beta", routes={"operations": "#beta-ops"}))
    d = dispatcher(store, cfg, {"slack": notifier})
    open_finding(store, "sku:A", at=NOW)
    open_finding(store, "sku:A", at=NOW, integration="beta")
    d.dispatch_once(NOW + M)
    assert sorted((m.integration, m.destination) for m in sent(notifier)) == [
        ("acme", "#ops-alerts"), ("beta", "#beta-ops")]
