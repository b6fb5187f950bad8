"""The dispatch core's pure decisions: timers, backoff, silences and what a batch means for a card."""

from __future__ import annotations

from datetime import timedelta

from tests.alerts.support import NOW
from watchdog.dispatch_rules import (
    DispatchPolicy,
    GroupState,
    Pending,
    SilenceRule,
    backoff,
    due_at,
    fold,
    is_silenced,
)
from watchdog.notify import Alert

POLICY = DispatchPolicy()
M = timedelta(minutes=1)


def alert(fp: str, *, acked_by: str | None = None) -> Alert:
    return Alert(fingerprint=fp, integration="acme", check="stock_divergence", subject=f"sku:{fp}",
                 severity="warning", owner="operations", summary="", first_seen=NOW, acked_by=acked_by)


def pending(tid: int, fp: str, kind: str, severity: str = "warning", *, muted: bool = False) -> Pending:
    return Pending(transition_id=tid, fingerprint=fp, integration="acme", check="stock_divergence", kind=kind,
                   at=NOW, severity=severity, muted=muted)


def test_due_at_waits_group_wait_for_new_incidents_and_group_interval_for_ongoing_ones() -> None:
    assert due_at(GroupState(), NOW, POLICY) == NOW + POLICY.group_wait
    ongoing = GroupState(shown=frozenset({"a"}), last_sent_at=NOW)
    assert due_at(ongoing, NOW + M, POLICY) == NOW + POLICY.group_interval
    closed = GroupState(last_sent_at=NOW)  # the last incident resolved at NOW
    assert due_at(closed, NOW + M, POLICY) == NOW + POLICY.group_interval
    backing_off = GroupState(next_attempt_at=NOW + 10 * M)
    assert due_at(backing_off, NOW, POLICY) == NOW + 10 * M


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after() -> None:
    assert [backoff(n, None, POLICY).total_seconds() for n in (1, 2, 3, 6, 10)] == [30, 60, 120, 900, 900]
    assert backoff(1, 300, POLICY) == timedelta(seconds=300)


def test_silence_rules_match_by_integration_check_and_subject_glob() -> None:
    rules = [SilenceRule(None, "stock_divergence", "sku:ABC-*")]
    assert is_silenced(rules, "acme", "stock_divergence", "sku:ABC-1")
    assert not is_silenced(rules, "acme", "stock_divergence", "sku:XYZ")
    assert not is_silenced(rules, "acme", "missing_orders", "sku:ABC-1")
    assert is_silenced([SilenceRule("acme", None, None)], "acme", "any", "thing")


def test_fold_says_only_what_changed_against_the_card() -> None:
    alerts = {fp: alert(fp) for fp in "abcd"}
    group = GroupState(shown=frozenset({"a", "b"}), card_ref="C/1", last_sent_at=NOW)
    batch = [pending(1, "a", "resolved"), pending(2, "b", "escalated", "critical"), pending(3, "c", "opened"),
             pending(4, "d", "opened", muted=True), pending(5, "b", "updated")]
    folded = fold(batch, group, alerts, set(), POLICY)
    assert (folded.opened, folded.escalated, folded.resolved) == (("c",), ("b",), ("a",))
    assert folded.shown == frozenset({"b", "c"})
    assert folded.suppressed == {4: "silenced"}
    assert folded.refresh


def test_fold_without_resolved_notices_only_refreshes_the_card() -> None:
    group = GroupState(shown=frozenset({"a"}), last_sent_at=NOW)
    folded = fold([pending(1, "a", "resolved")], group, {"a": alert("a")}, set(),
                  DispatchPolicy(send_resolved=False))
    assert folded.resolved == ()
    assert folded.refresh
    assert folded.shown == frozenset()


def test_a_reminder_of_an_acked_finding_is_only_a_refresh() -> None:
    group = GroupState(shown=frozenset({"a"}), last_sent_at=NOW)
    folded = fold([pending(1, "a", "reminded")], group, {"a": alert("a", acked_by="bob")}, set(), POLICY)
    assert not folded.reminder
    assert folded.refresh
