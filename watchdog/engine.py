"""The check engine: run every check on one integration's snapshots, apply the lifecycle, persist it.

``run_checks(store, integration, magento, stokly, ledger, now)`` is the whole of it:

1. every registered check runs in isolation on a ``CheckContext`` (both snapshots, the
   ledger view, a fixed ``now``, its ``[integrations.checks.<id>]`` table). A check whose
   ``needs`` name a part that could not be read, or that raises ``NotEvaluated``, is
   ``not_evaluated``; one that raises anything else, or breaks the finding contract
   (wrong check id, duplicate subject, a float measure...), is ``failed``;
2. the engine raises its own findings: one ``source_unreachable`` per system whose
   snapshot has errors or lacks a part a check needs (standing in for the findings
   that could not be computed, naming each part's route and cause), one
   ``upstream_shape`` per (system, route, field) a read could not take as expected
   (records set aside, or a field read as unknown), and one ``check_failed`` per
   crashed check;
3. ``watchdog.lifecycle.plan`` turns the results into steps, which are written with
   their transitions and one ``check_run`` row per check, in one transaction.

Only complete, successful runs resolve anything (see ``watchdog.lifecycle``). Engine
settings per check, next to the check's own: ``resolve_after`` (consecutive absent
runs before resolving, default 2) and ``pending_for`` (hold a new finding back this
long, default 0). Concurrent runs for one integration are kept apart by the
scheduler's slot ledger, not here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Protocol

from watchdog.config import IntegrationConfig
from watchdog.durations import parse_duration
from watchdog.findings import Check, CheckContext, Finding, NotEvaluated, Severity, Team
from watchdog.lifecycle import CheckResult, Outcome, Policy, plan
from watchdog.model import LedgerView, MagentoSnapshot, StoklySnapshot
from watchdog.registry import ENGINE_CHECKS, Registry, default_registry
from watchdog.store.db import Store
from watchdog.store.findings import (
    TransitionRecord,
    active_silences,
    add_check_run,
    apply_steps,
    load_tracked,
    open_counts,
)
from watchdog.store.ledger_view import load_ledger_view
from watchdog.upstream_shape import UPSTREAM_SHAPE, shape_result

__all__ = [
    "CHECK_FAILED",
    "SOURCE_UNREACHABLE",
    "UPSTREAM_SHAPE",
    "CheckSummary",
    "RunSummary",
    "context_for",
    "evaluate",
    "load_ledger_view",
    "policy_from_config",
    "run_checks",
]

log = logging.getLogger(__name__)
SOURCE_UNREACHABLE = "source_unreachable"
CHECK_FAILED = "check_failed"
Timer = Callable[[], float]


@dataclass(frozen=True)
class CheckSummary:
    """One check in one run: outcome, open findings after the run, findings it reported, error."""

    outcome: str  # ok | not_evaluated | failed
    open: int
    findings: int = 0
    error: str | None = None
    seconds: float = 0.0
    limits: tuple[str, ...] = ()  # what it could not judge (unknown upstream fields), each said once


    def json(self) -> dict[str, Any]:
        """``{"outcome", "open"}`` plus ``error`` and ``limits`` when there are any."""
        data: dict[str, Any] = {"outcome": self.outcome, "open": self.open}
        if self.error:
            data["error"] = self.error
        if self.limits:
            data["limits"] = list(self.limits)
        return data


@dataclass(frozen=True)
class RunSummary:
    """What one run of the checks did for one integration."""

    integration: str
    at: datetime
    checks: Mapping[str, CheckSummary]
    transitions: tuple[TransitionRecord, ...] = ()
    unreachable: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # system -> parts and why

    def checks_json(self) -> dict[str, dict[str, Any]]:
        """``{"<check id>": {"outcome": ..., "open": n}}``, the ``checks`` part of the demo's summary.json."""
        return {cid: c.json() for cid, c in self.checks.items()}

    def count(self, kind: str) -> int:
        """How many transitions of ``kind`` ("opened", "resolved", ...) this run wrote."""
        return sum(1 for t in self.transitions if t.kind == kind)


@dataclass(frozen=True)
class _Evaluation:
    result: CheckResult
    seconds: float


class EngineObserver(Protocol):
    """Told what a run did, after it is persisted; ``watchdog.metrics.Metrics`` satisfies it."""

    def source_checked(self, integration: str, system: str, up: bool, at: datetime, reason: str = "") -> None: ...

    def check_ran(self, integration: str, check: str, outcome: str, at: datetime) -> None: ...

    def finding_opened(self, integration: str, check: str, severity: str) -> None: ...

    def finding_resolved(self, integration: str, check: str, severity: str) -> None: ...

    def upstream_unreadable(self, integration: str, system: str, route: str, records: int) -> None: ...


def run_checks(store: Store, integration: IntegrationConfig, magento: MagentoSnapshot, stokly: StoklySnapshot,
               ledger: LedgerView, now: datetime, *, registry: Registry | None = None, policy: Policy | None = None,
               timer: Timer = time.perf_counter, observer: EngineObserver | None = None) -> RunSummary:
    """Run every check once and persist the lifecycle in one transaction; the run's summary.

    A check's crash never escapes. Raises RegistryError (default registry), ValueError (a bad
    ``resolve_after``/``pending_for`` setting) or a database error; nothing is written then.
    ``observer`` hears about sources, check outcomes and opened/resolved findings afterwards.
    """
    registry = registry if registry is not None else default_registry()
    policy = policy if policy is not None else policy_from_config(integration)
    evaluations = {check.id: evaluate(check, context_for(check.id, integration, magento, stokly, ledger, now), timer)
                   for check in registry}
    unreachable = unreachable_systems(registry, magento, stokly)
    results = {cid: ev.result for cid, ev in evaluations.items()}
    results[SOURCE_UNREACHABLE] = CheckResult(Outcome.OK, tuple(_unreachable_findings(unreachable, results)))
    results[UPSTREAM_SHAPE] = shape_result(magento, stokly)
    results[CHECK_FAILED] = _failures(results)
    runbooks = {**ENGINE_CHECKS, **{c.id: c.runbook for c in registry}}
    with store.session() as session:
        steps = plan(integration.name, load_tracked(session, integration.name), results, now, policy)
        transitions = apply_steps(session, integration.name, steps, now, runbooks=runbooks,
                                  silences=active_silences(session, now))
        for cid, ev in evaluations.items():
            add_check_run(session, integration.name, cid, started_at=now,
                          finished_at=now + timedelta(seconds=ev.seconds), outcome=ev.result.outcome,
                          findings=len(ev.result.findings), error=ev.result.error)
        counts = open_counts(session, integration.name)
    seconds = {cid: ev.seconds for cid, ev in evaluations.items()}
    checks = {cid: CheckSummary(outcome=r.outcome, open=counts.get(cid, 0), findings=len(r.findings), error=r.error,
                                seconds=seconds.get(cid, 0.0), limits=r.limits) for cid, r in results.items()}
    summary = RunSummary(integration=integration.name, at=now, checks=MappingProxyType(checks),
                         transitions=tuple(transitions), unreachable=MappingProxyType(unreachable))
    if observer is not None:
        _report(observer, summary)
        _report_shape(observer, integration.name, magento, stokly)
    return summary


def _report_shape(observer: EngineObserver, integration: str, *snapshots: MagentoSnapshot | StoklySnapshot) -> None:
    for snapshot in snapshots:
        for problem in snapshot.shape:
            if problem.set_aside:
                observer.upstream_unreadable(integration, problem.system, problem.route, problem.records)


def _report(observer: EngineObserver, summary: RunSummary) -> None:
    name, at = summary.integration, summary.at
    for system in ("magento", "stokly"):
        observer.source_checked(name, system, system not in summary.unreachable, at,
                                summary.unreachable.get(system, ""))
    for check_id, result in summary.checks.items():
        observer.check_ran(name, check_id, result.outcome, at)
    for t in summary.transitions:
        if t.kind == "opened":
            observer.finding_opened(name, t.check, t.severity)
        elif t.kind == "resolved":
            observer.finding_resolved(name, t.check, t.severity)


def context_for(check_id: str, integration: IntegrationConfig, magento: MagentoSnapshot, stokly: StoklySnapshot,
                ledger: LedgerView, now: datetime) -> CheckContext:
    """The context a check runs in: its config table over integration-wide defaults."""
    config: dict[str, Any] = {"import_states": list(integration.sync.import_states)}
    config.update(integration.checks.get(check_id, {}))
    return CheckContext(integration=integration.name, now=now, currency=integration.currency, magento=magento,
                        stokly=stokly, ledger=ledger, config=MappingProxyType(config),
                        magento_admin_url=f"{integration.magento.base_url}/admin")


def evaluate(check: Check, ctx: CheckContext, timer: Timer = time.perf_counter) -> _Evaluation:
    """Run one check in isolation; never raises (a crash is a ``failed`` result)."""
    started = timer()
    missing = [p for p in sorted(check.needs) if _part(p, ctx.magento, ctx.stokly) is None]
    if missing:
        result = CheckResult(Outcome.NOT_EVALUATED, error=not_read(missing, ctx.magento, ctx.stokly))
    else:
        result = _run(check, ctx)
    return _Evaluation(result, timer() - started)


def _run(check: Check, ctx: CheckContext) -> CheckResult:
    try:
        findings = tuple(check.run(ctx))
        _conform(check.id, findings)
    except NotEvaluated as exc:
        return CheckResult(Outcome.NOT_EVALUATED, error=str(exc))
    except Exception as exc:
        log.exception("check %s failed for %s", check.id, ctx.integration)
        return CheckResult(Outcome.FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
    return CheckResult(Outcome.OK, findings, unjudged=frozenset(ctx.limits.subjects),
                       limits=ctx.limits.summary())


def _conform(check_id: str, findings: Iterable[Finding]) -> None:
    """Raises TypeError/ValueError naming the first finding that breaks the contract."""
    subjects: set[str] = set()
    for f in findings:
        if not isinstance(f, Finding) or f.check != check_id or not f.subject:
            raise ValueError(f"check {check_id} returned a finding of another check or without subject: {f!r}")
        if not isinstance(f.severity, Severity) or not isinstance(f.owner, Team):
            raise TypeError(f"finding {f.subject}: severity and owner must be Severity and Team")
        bad = [k for k, v in f.measures.items() if isinstance(v, bool) or not isinstance(v, int | Decimal)]
        if bad:
            raise TypeError(f"finding {f.subject}: measures {bad} must be int or Decimal")
        if f.subject in subjects:
            raise ValueError(f"check {check_id} reported subject {f.subject} twice")
        subjects.add(f.subject)


def _part(name: str, magento: MagentoSnapshot, stokly: StoklySnapshot) -> object:
    system, _, attr = name.partition(".")
    if system == "ledger":
        return True
    return getattr(magento if system == "magento" else stokly, attr, None)


def not_read(parts: Iterable[str], magento: MagentoSnapshot, stokly: StoklySnapshot) -> str:
    """Why a check could not run: each missing part with the cause its read gave."""
    causes = []
    for part in parts:
        system, _, attr = part.partition(".")
        errors = magento.errors if system == "magento" else stokly.errors
        causes.append(f"{part} ({errors[attr]})" if attr in errors else part)
    return f"not read: {'; '.join(causes)}"


def unreachable_systems(registry: Registry, magento: MagentoSnapshot, stokly: StoklySnapshot) -> dict[str, str]:
    """Per system that could not be fully read: each part missing with its cause (route, status, field)."""
    needed = {p for check in registry for p in check.needs}
    found: dict[str, str] = {}
    for system, snapshot in (("magento", magento), ("stokly", stokly)):
        parts = {p.partition(".")[2] for p in needed
                 if p.startswith(f"{system}.") and _part(p, magento, stokly) is None}
        parts |= set(snapshot.errors)
        if parts:
            found[system] = "; ".join(f"{p}: {snapshot.errors[p]}" if p in snapshot.errors else p
                                      for p in sorted(parts))
    return found


def _unreachable_findings(unreachable: Mapping[str, str], results: Mapping[str, CheckResult]) -> Iterable[Finding]:
    blocked = sorted(cid for cid, r in results.items() if r.outcome is Outcome.NOT_EVALUATED)
    for system, causes in sorted(unreachable.items()):
        name = system.capitalize()
        yield Finding(
            check=SOURCE_UNREACHABLE, subject=f"system:{system}", severity=Severity.CRITICAL, owner=Team.PLATFORM,
            summary=(f"{name} could not be read — {causes}. {len(blocked)} check(s) could not run "
                     f"({', '.join(blocked) or 'none'}) and keep their findings as they were until {name} "
                     "answers again"),
            measures={"parts": causes.count("; ") + 1, "checks_blocked": len(blocked)},
        )


def _failures(results: Mapping[str, CheckResult]) -> CheckResult:
    """The ``check_failed`` result: one finding per crashed check; scoped to the checks that ran."""
    findings = tuple(
        Finding(check=CHECK_FAILED, subject=f"check:{cid}", severity=Severity.WARNING, owner=Team.PLATFORM,
                summary=(f"Check {cid} crashed ({r.error}): its findings are kept as they were and nothing it "
                         "watches is checked until it runs again"))
        for cid, r in sorted(results.items()) if r.outcome is Outcome.FAILED)
    ran = frozenset(f"check:{cid}" for cid, r in results.items() if r.outcome is not Outcome.NOT_EVALUATED)
    return CheckResult(Outcome.OK, findings, scope=ran)


def policy_from_config(integration: IntegrationConfig) -> Policy:
    """Flap damping and hold-back from each ``[integrations.checks.<id>]`` table. Raises ValueError."""
    resolve_after: dict[str, int] = {}
    pending_for: dict[str, timedelta] = {}
    for cid, table in integration.checks.items():
        if "resolve_after" in table:
            value = table["resolve_after"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"integrations.checks.{cid}.resolve_after must be a whole number >= 1")
            resolve_after[cid] = value
        if "pending_for" in table:
            pending_for[cid] = _duration(table["pending_for"], f"integrations.checks.{cid}.pending_for")
    return Policy(per_check_resolve_after=MappingProxyType(resolve_after),
                  per_check_pending_for=MappingProxyType(pending_for))


def _duration(value: object, key: str) -> timedelta:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"{key} must be a duration like '10m'")
