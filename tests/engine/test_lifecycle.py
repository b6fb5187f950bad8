"""The lifecycle as a pure function: tracked findings + results -> steps."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.checks.factories import NOW
from watchdog.findings import Finding, Severity, Team, fingerprint
from watchdog.lifecycle import (
    CheckResult,
    Kind,
    Outcome,
    Policy,
    Silence,
    Status,
    Tracked,
    matching_silence,
    plan,
    same_measures,
)

F = Finding(check="c", subject="sku:A", severity=Severity.WARNING, owner=Team.OPERATIONS, summary="A is off",
            measures={"units": 2})
FP = fingerprint("acme", "c", "sku:A")
POLICY = Policy()


def tracked(finding: Finding = F, *, status: Status = Status.OPEN, absent: int = 0,
            first_seen: object = NOW - timedelta(hours=1)) -> Tracked:
    return Tracked(fingerprint=fingerprint("acme", finding.check, finding.subject), check=finding.check,
                   subject=finding.subject, status=status, severity=finding.severity, summary=finding.summary,
                   measures=finding.measures, first_seen=first_seen, absent_runs=absent)  # type: ignore[arg-type]


def ok(*findings: Finding, scope: frozenset[str] | None = None) -> dict[str, CheckResult]:
    return {"c": CheckResult(Outcome.OK, findings, scope=scope)}


def test_a_new_finding_opens_and_an_unchanged_one_does_nothing() -> None:
    [step] = plan("acme", [], ok(F), NOW, POLICY)
    assert (step.fingerprint, step.kind, step.status, step.first_seen) == (FP, Kind.OPENED, Status.OPEN, NOW)
    [same] = plan("acme", [tracked()], ok(F), NOW, POLICY)
    assert (same.kind, same.status, same.absent_runs) == (None, Status.OPEN, 0)


def test_measures_summary_and_severity_changes() -> None:
    assert plan("acme", [tracked()], ok(replace(F, measures={"units": 3})), NOW, POLICY)[0].kind is Kind.UPDATED
    assert plan("acme", [tracked()], ok(replace(F, summary="other")), NOW, POLICY)[0].kind is Kind.UPDATED
    up = plan("acme", [tracked()], ok(replace(F, severity=Severity.CRITICAL)), NOW, POLICY)[0]
    assert (up.kind, up.previous_severity) == (Kind.ESCALATED, Severity.WARNING)
    down = plan("acme", [tracked()], ok(replace(F, severity=Severity.INFO)), NOW, POLICY)[0]
    assert down.kind is Kind.UPDATED


def test_equal_numbers_in_other_spellings_are_not_a_change() -> None:
    from decimal import Decimal

    assert same_measures({"u": Decimal("4.00")}, {"u": 4})
    assert not same_measures({"u": 4}, {"u": 4, "v": 1})
    assert plan("acme", [tracked()], ok(replace(F, measures={"units": Decimal("2.0")})), NOW, POLICY)[0].kind is None


def test_resolution_needs_n_consecutive_complete_absences() -> None:
    [first] = plan("acme", [tracked()], ok(), NOW, POLICY)
    assert (first.kind, first.status, first.absent_runs) == (None, Status.OPEN, 1)
    [second] = plan("acme", [tracked(absent=1)], ok(), NOW, POLICY)
    assert (second.kind, second.status) == (Kind.RESOLVED, Status.RESOLVED)
    [back] = plan("acme", [tracked(absent=1)], ok(F), NOW, POLICY)
    assert (back.kind, back.absent_runs) == (None, 0)
    assert plan("acme", [tracked()], ok(), NOW, Policy(per_check_resolve_after={"c": 1}))[0].kind is Kind.RESOLVED


def test_not_evaluated_and_failed_checks_touch_nothing() -> None:
    for outcome in (Outcome.NOT_EVALUATED, Outcome.FAILED):
        assert plan("acme", [tracked(absent=1)], {"c": CheckResult(outcome)}, NOW, POLICY) == ()
    assert plan("acme", [tracked(absent=1)], {}, NOW, POLICY) == ()


def test_findings_outside_the_scope_are_left_alone() -> None:
    assert plan("acme", [tracked(absent=5)], ok(scope=frozenset({"sku:B"})), NOW, POLICY) == ()
    [step] = plan("acme", [tracked(absent=5)], ok(scope=frozenset({"sku:A"})), NOW, POLICY)
    assert step.kind is Kind.RESOLVED


def test_pending_for_holds_a_finding_back_and_forgets_one_that_vanished() -> None:
    policy = Policy(pending_for=timedelta(minutes=10))
    [held] = plan("acme", [], ok(F), NOW, policy)
    assert (held.kind, held.status) == (None, Status.PENDING)
    pending = tracked(status=Status.PENDING, first_seen=NOW - timedelta(minutes=10))
    [opened] = plan("acme", [pending], ok(F), NOW, policy)
    assert (opened.kind, opened.first_seen) == (Kind.OPENED, NOW - timedelta(minutes=10))
    [gone] = plan("acme", [pending], ok(), NOW, policy)
    assert gone.forget
    assert gone.kind is None


def test_silences_match_by_glob_and_expire() -> None:
    s = Silence(id=1, author="ann", comment="stocktake", created_at=NOW - timedelta(hours=1),
                expires_at=NOW + timedelta(hours=1), check="stock_*", subject="sku:ABC-*")
    assert matching_silence([s], "acme", "stock_divergence", "sku:ABC-1", NOW) is s
    assert matching_silence([s], "acme", "stock_divergence", "sku:XYZ", NOW) is None
    assert matching_silence([s], "acme", "stock_divergence", "sku:ABC-1", NOW + timedelta(hours=2)) is None
    assert not replace(s, integration="other").matches("acme", "stock_divergence", "sku:ABC-1", NOW)
