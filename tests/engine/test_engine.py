"""run_checks on SQLite and PostgreSQL: persisted lifecycle, outcomes, engine-raised findings, ack, silence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import select

from tests.engine.support import NOW, Boom, integration, registry, snapshots
from watchdog.engine import RunSummary, run_checks
from watchdog.findings import CheckContext, Finding, Severity, Team, fingerprint
from watchdog.lifecycle import Policy
from watchdog.registry import registry_of
from watchdog.store.db import Store
from watchdog.store.finding_queries import ack, add_silence, findings_json
from watchdog.store.models import CheckRunRow, FindingRow, TransitionRow

FP_A = fingerprint("acme", "stock_divergence", "sku:A")
MIN = timedelta(minutes=5)


def run(store: Store, qty: dict[str, int], at: int, **kw: Any) -> RunSummary:
    magento, stokly, ledger = snapshots(qty, stokly_ok=kw.pop("stokly_ok", True))
    return run_checks(store, integration(kw.pop("checks", None)), magento, stokly, ledger, NOW + at * MIN,
                      registry=kw.pop("registry", registry()), **kw)


def kinds(store: Store, fp: str = FP_A) -> list[str]:
    with store.session() as s:
        return list(s.execute(select(TransitionRow.kind).where(TransitionRow.fingerprint == fp)
                              .order_by(TransitionRow.id)).scalars())


def row(store: Store, fp: str = FP_A) -> FindingRow:
    with store.session() as s:
        found = s.get(FindingRow, fp)
        assert found is not None
        return found


def test_opened_updated_escalated_then_resolved_after_two_complete_runs(store: Store) -> None:
    first = run(store, {"A": 3, "B": 5}, 0)  # 2 lower than Stokly: warning
    assert first.count("opened") == 1
    assert first.checks["stock_divergence"].open == 1
    run(store, {"A": 3, "B": 5}, 1)  # unchanged: nothing written
    run(store, {"A": 2, "B": 5}, 2)  # 3 lower
    run(store, {"A": 9, "B": 5}, 3)  # 4 higher: oversell
    assert kinds(store) == ["opened", "updated", "escalated"]
    assert row(store).severity == "critical"
    assert row(store).measures["units"] == "4"
    run(store, {"A": 5, "B": 5}, 4)
    assert row(store).status == "open"
    assert row(store).absent_runs == 1
    last = run(store, {"A": 5, "B": 5}, 5)
    assert kinds(store) == ["opened", "updated", "escalated", "resolved"]
    assert (row(store).status, row(store).resolved_at) == ("resolved", NOW + 5 * MIN)
    assert last.count("resolved") == 1
    assert last.checks["stock_divergence"].open == 0


def test_a_resolved_finding_opens_again_with_the_same_fingerprint(store: Store) -> None:
    run(store, {"A": 9}, 0, policy=Policy(resolve_after=1))
    run(store, {"A": 5}, 1, policy=Policy(resolve_after=1))
    run(store, {"A": 8}, 2, policy=Policy(resolve_after=1))
    assert kinds(store) == ["opened", "resolved", "opened"]
    assert (row(store).status, row(store).first_seen, row(store).resolved_at) == ("open", NOW + 2 * MIN, None)


def test_an_unreadable_source_freezes_findings_and_raises_one_source_unreachable(store: Store) -> None:
    run(store, {"A": 9}, 0)
    down = run(store, {"A": 5}, 1, stokly_ok=False)
    assert down.checks["stock_divergence"].outcome == "not_evaluated"
    assert down.checks["source_unreachable"].open == 1
    assert down.unreachable == {"stokly": "stock_levels: HTTP 503 after 4 attempts"}  # the part and its cause
    assert "HTTP 503 after 4 attempts" in (down.checks["stock_divergence"].error or "")
    down = run(store, {"A": 5}, 2, stokly_ok=False)
    assert (row(store).status, row(store).absent_runs) == ("open", 0)  # no false resolution
    system = fingerprint("acme", "source_unreachable", "system:stokly")
    assert row(store, system).owner == "platform"
    assert row(store, system).severity == "critical"
    for at in (3, 4):
        back = run(store, {"A": 5}, at)
    assert back.checks["source_unreachable"].open == 0
    assert back.checks["stock_divergence"].open == 0
    assert kinds(store, system) == ["opened", "resolved"]


def test_a_crashing_check_is_isolated_counted_raised_and_resolves_nothing(store: Store) -> None:
    run(store, {"BIG": 500, "A": 5}, 0)
    big = fingerprint("acme", "boom", "sku:BIG")
    assert row(store, big).status == "open"
    crashed = run(store, {"A": 9, "BOOM": 1}, 1)
    assert crashed.checks["boom"].outcome == "failed"
    assert "RuntimeError" in (crashed.checks["boom"].error or "")
    assert crashed.checks["stock_divergence"].outcome == "ok"  # the others still run
    run(store, {"A": 9, "BOOM": 1}, 2)
    assert (row(store, big).status, row(store, big).absent_runs) == ("open", 0)
    failed = fingerprint("acme", "check_failed", "check:boom")
    assert row(store, failed).status == "open"
    assert "crashed" in row(store, failed).summary
    for at in (3, 4):
        run(store, {"A": 9}, at)
    assert row(store, failed).status == "resolved"
    assert row(store, big).status == "resolved"


def test_check_runs_are_recorded_with_their_outcomes(store: Store) -> None:
    run(store, {"A": 5}, 0)
    run(store, {"A": 5, "BOOM": 1}, 1, stokly_ok=False)
    with store.session() as s:
        rows = s.execute(select(CheckRunRow.check, CheckRunRow.outcome).order_by(CheckRunRow.id)).all()
    assert [tuple(r) for r in rows] == [("stock_divergence", "ok"), ("boom", "ok"),
                                        ("stock_divergence", "not_evaluated"), ("boom", "failed")]


def test_the_summary_reports_every_check_for_summary_json(store: Store) -> None:
    summary = run(store, {"A": 9}, 0)
    assert summary.checks_json() == {
        "stock_divergence": {"outcome": "ok", "open": 1}, "boom": {"outcome": "ok", "open": 0},
        "source_unreachable": {"outcome": "ok", "open": 0}, "check_failed": {"outcome": "ok", "open": 0},
        "upstream_shape": {"outcome": "ok", "open": 0}}


def test_an_ack_holds_until_resolved_and_mutes_updates_but_not_escalations(store: Store) -> None:
    run(store, {"A": 3}, 0)
    with store.session() as s:
        ack(s, FP_A[:10], by="alice", comment="recount booked", now=NOW + MIN)
    run(store, {"A": 2}, 2)
    run(store, {"A": 9}, 3)
    with store.session() as s:
        muted = s.execute(select(TransitionRow.kind, TransitionRow.muted_by).where(TransitionRow.fingerprint == FP_A)
                          .order_by(TransitionRow.id)).all()
    assert [tuple(m) for m in muted] == [("opened", None), ("acked", None), ("updated", "ack:alice"),
                                         ("escalated", None)]
    assert row(store).acked_by == "alice"
    for at in (4, 5):
        run(store, {"A": 5}, at)
    assert row(store).acked_by is None


def test_a_silence_mutes_matching_transitions_until_it_expires(store: Store) -> None:
    with store.session() as s:
        silence = add_silence(s, by="bob", comment="stocktake", now=NOW, expires_at=NOW + 2 * MIN,
                              check="stock_divergence", subject="sku:A*")
    run(store, {"A": 9, "B": 5}, 0)
    run(store, {"A": 8, "B": 5}, 3)  # expired by now
    with store.session() as s:
        muted = list(s.execute(select(TransitionRow.muted_by).where(TransitionRow.fingerprint == FP_A)
                               .order_by(TransitionRow.id)).scalars())
    assert muted == [f"silence:{silence.id}", None]


def test_pending_for_holds_new_findings_back(store: Store) -> None:
    checks = {"stock_divergence": {"pending_for": "10m"}}
    first = run(store, {"A": 9}, 0, checks=checks)
    assert first.transitions == ()
    assert row(store).status == "pending"
    assert first.checks["stock_divergence"].open == 0
    run(store, {"A": 9}, 2, checks=checks)
    assert kinds(store) == ["opened"]
    assert row(store).first_seen == NOW


class Floaty:
    id: ClassVar[str] = "floaty"
    owner: ClassVar[Team] = Team.PLATFORM
    runbook: ClassVar[str] = "docs/runbooks/check_failed.md"
    needs: ClassVar[frozenset[str]] = frozenset()

    def run(self, ctx: CheckContext) -> list[Finding]:
        f = Finding(check="floaty", subject="x", severity=Severity.INFO, owner=Team.PLATFORM, summary="s",
                    measures={"money": 0.1})  # type: ignore[dict-item]
        return [f]


def test_a_finding_that_breaks_the_contract_fails_its_check(store: Store) -> None:
    summary = run(store, {"A": 5}, 0, registry=registry_of([("floaty", "t", Floaty), ("boom", "t", Boom)]))
    assert summary.checks["floaty"].outcome == "failed"
    assert "int or Decimal" in (summary.checks["floaty"].error or "")


def test_findings_render_in_the_check_json_format(store: Store) -> None:
    run(store, {"A": 9}, 0)
    [data] = findings_json(store, currencies={"acme": "GBP"})
    assert {k: data[k] for k in ("integration", "check", "subject", "fingerprint", "severity", "owner", "status",
                                 "runbook", "currency")} == {
        "integration": "acme", "check": "stock_divergence", "subject": "sku:A", "fingerprint": FP_A,
        "severity": "critical", "owner": "operations", "status": "open",
        "runbook": "docs/runbooks/stock_divergence.md", "currency": "GBP"}
    assert data["measures"]["units"] == 4
    assert data["first_seen"] == NOW.isoformat()
    assert set(data) >= {"summary", "last_seen", "links"}
    assert Decimal(str(data["measures"]["magento_qty"])) == 9
