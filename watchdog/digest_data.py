"""What the digests are made of, read from the store: figures, counts, changes, coverage.

Headline figures (the team's agreed definitions) at any moment ``at`` come from the
transitions: a finding counts if its last lifecycle transition at or before ``at``
is not ``resolved``, with that transition's measures. So "now" and "24 hours ago"
are computed the same way, and yesterday's figure is right even if yesterday's
digest was never sent.

- orders not in the warehouse = open ``missing_orders`` findings;
- oversell-risk units = sum of ``units`` of open ``stock_divergence`` with ``difference`` > 0;
- VAT still overstated = sum of ``vat`` of open ``missing_credit_notes``;
- tracking not sent = open ``rejected_tracking`` findings;
- (Slack, operations) order value not in the warehouse = sum of ``grand_total`` of open ``missing_orders``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchdog.dispatch_store import alerts_by_fingerprint, to_alert, to_measures
from watchdog.notify import Alert, CheckCount, CoverageRow, Figure, Measure, severity_rank
from watchdog.store.models import CheckRunRow, FindingRow, TransitionRow

__all__ = [
    "FIGURES",
    "META_CHECKS",
    "FigureSpec",
    "by_check",
    "changes",
    "coverage",
    "figures",
    "oldest",
    "open_alerts",
]

LIFECYCLE = ("opened", "updated", "escalated", "reminded", "resolved")
META_CHECKS = frozenset({"source_unreachable", "check_failed", "notification_channel"})


@dataclass(frozen=True)
class FigureSpec:
    """How one headline figure is computed from open findings of one check."""

    key: str
    label: str
    check: str
    team: str
    unit: Literal["count", "units", "money"]
    measure: str | None = None  # None: count the findings; else sum this measure
    oversell_only: bool = False
    email: bool = True


FIGURES = (
    FigureSpec("orders_not_in_warehouse", "Orders not in the warehouse", "missing_orders", "operations", "count"),
    FigureSpec("oversell_units", "Oversell-risk units", "stock_divergence", "operations", "units", "units",
               oversell_only=True),
    FigureSpec("vat_overstated", "VAT still overstated", "missing_credit_notes", "finance", "money", "vat"),
    FigureSpec("tracking_not_sent", "Tracking not sent to customers", "rejected_tracking", "operations", "count"),
    FigureSpec("orders_value_not_in_warehouse", "Order value not in the warehouse", "missing_orders", "operations",
               "money", "grand_total", email=False),
)


OpenState = dict[str, tuple[str, dict[str, Measure]]]


def open_at(session: Session, integration: str, checks: Collection[str], at: datetime) -> OpenState:
    """Fingerprint -> (check, measures) of every finding open at ``at`` (by its last lifecycle transition)."""
    last = (select(func.max(TransitionRow.id).label("id"))
            .where(TransitionRow.integration == integration, TransitionRow.check.in_(sorted(checks)),
                   TransitionRow.kind.in_(LIFECYCLE), TransitionRow.at <= at)
            .group_by(TransitionRow.fingerprint).subquery())
    rows = session.execute(select(TransitionRow).join(last, TransitionRow.id == last.c.id)).scalars()
    return {row.fingerprint: (row.check, to_measures(row.measures)) for row in rows if row.kind != "resolved"}


def _figure_value(spec: FigureSpec, state: Mapping[str, tuple[str, Mapping[str, Measure]]]) -> Measure:
    total: Measure = 0
    for check, measures in state.values():
        if check != spec.check:
            continue
        if spec.oversell_only and Decimal(measures.get("difference", 0)) <= 0:
            continue
        total += 1 if spec.measure is None else measures.get(spec.measure, 0)
    return total


def figures(session: Session, integration: str, now: datetime, previous: datetime | None,
            specs: Iterable[FigureSpec]) -> tuple[Figure, ...]:
    """Each figure now, with its value at ``previous`` (None when nothing had been recorded by then)."""
    chosen = list(specs)
    checks = {s.check for s in chosen}
    current = open_at(session, integration, checks, now)
    before = open_at(session, integration, checks, previous) if previous is not None else None
    recorded = previous is not None and _any_history(session, integration, previous)
    return tuple(Figure(key=s.key, label=s.label, value=_figure_value(s, current),
                        previous=_figure_value(s, before) if before is not None and recorded else None,
                        unit=s.unit, check=s.check, team=s.team) for s in chosen)


def _any_history(session: Session, integration: str, at: datetime) -> bool:
    """True if the watchdog had run for ``integration`` by ``at`` (a check run or a transition)."""
    ran = session.execute(select(func.min(CheckRunRow.finished_at))
                          .where(CheckRunRow.integration == integration)).scalar()
    moved = session.execute(select(func.min(TransitionRow.at))
                            .where(TransitionRow.integration == integration)).scalar()
    first = min((t for t in (ran, moved) if t is not None), default=None)
    return first is not None and first <= at


def open_alerts(session: Session, integration: str, owner: str | None = None) -> list[Alert]:
    """Every open finding of ``integration`` (of one team if ``owner``), as Alerts."""
    query = select(FindingRow).where(FindingRow.integration == integration, FindingRow.status == "open")
    if owner is not None:
        query = query.where(FindingRow.owner == owner)
    return [to_alert(row) for row in session.execute(query).scalars()]


def oldest(alerts: Iterable[Alert], limit: int) -> tuple[Alert, ...]:
    """The ``limit`` longest-open alerts, oldest first."""
    return tuple(sorted(alerts, key=lambda a: (a.first_seen, -severity_rank(a.severity), a.subject))[:limit])


def _window(session: Session, integration: str, kind: str, since: datetime, now: datetime) -> list[str]:
    """Fingerprints with a ``kind`` transition in (since, now], first occurrence order."""
    rows = session.execute(
        select(TransitionRow.fingerprint).where(
            TransitionRow.integration == integration, TransitionRow.kind == kind,
            TransitionRow.at > since, TransitionRow.at <= now).order_by(TransitionRow.id)).scalars()
    return list(dict.fromkeys(rows))


def changes(session: Session, integration: str, kind: Literal["opened", "resolved"], since: datetime,
            now: datetime, *, limit: int, owner: str | None = None) -> tuple[tuple[Alert, ...], int]:
    """Findings ``kind`` in (since, now] (at most ``limit``, most severe first) and how many in all."""
    alerts = alerts_by_fingerprint(session, _window(session, integration, kind, since, now))
    chosen = [a for a in alerts.values() if owner is None or a.owner == owner]
    chosen.sort(key=lambda a: (-severity_rank(a.severity), a.check, a.subject))
    return tuple(chosen[:limit]), len(chosen)


def by_check(session: Session, integration: str, open_now: Sequence[Alert], since: datetime, now: datetime,
             owner: str | None = None) -> tuple[CheckCount, ...]:
    """Open, critical, new and resolved counts per check (of one team if ``owner``)."""
    opened = alerts_by_fingerprint(session, _window(session, integration, "opened", since, now))
    resolved = alerts_by_fingerprint(session, _window(session, integration, "resolved", since, now))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for label, alerts in (("open", open_now), ("new", opened.values()), ("resolved", resolved.values())):
        for alert in alerts:
            if owner is None or alert.owner == owner:
                counts[alert.check][label] += 1
                if label == "open" and alert.severity == "critical":
                    counts[alert.check]["critical"] += 1
    return tuple(CheckCount(check, c["open"], c["new"], c["resolved"], c["critical"])
                 for check, c in sorted(counts.items(), key=lambda kv: (-kv[1]["open"], kv[0])))


def coverage(session: Session, integration: str, since: datetime, now: datetime,
             expected: Iterable[str]) -> tuple[CoverageRow, ...]:
    """How each check ran in (since, now]; a check that never ran or last failed is NOT CHECKED."""
    seen = set(session.execute(select(CheckRunRow.check).distinct()
                               .where(CheckRunRow.integration == integration)).scalars())
    runs = session.execute(select(CheckRunRow).where(
        CheckRunRow.integration == integration, CheckRunRow.finished_at > since, CheckRunRow.finished_at <= now,
    ).order_by(CheckRunRow.finished_at, CheckRunRow.id)).scalars().all()
    by: dict[str, list[CheckRunRow]] = defaultdict(list)
    for run in runs:
        by[run.check].append(run)
    names = sorted((set(expected) | seen | set(by)) - META_CHECKS)
    return tuple(_coverage_row(session, integration, name, by.get(name, []), now) for name in names)


def _coverage_row(session: Session, integration: str, check: str, runs: Sequence[CheckRunRow],
                  now: datetime) -> CoverageRow:
    last_ok = session.execute(select(func.max(CheckRunRow.finished_at)).where(
        CheckRunRow.integration == integration, CheckRunRow.check == check, CheckRunRow.outcome == "ok",
        CheckRunRow.finished_at <= now)).scalar()
    if not runs:
        return CoverageRow(check, "not_checked", 0, 0, None, None, last_ok, "no run in the period")
    latest = runs[-1]
    ok_runs = sum(1 for r in runs if r.outcome == "ok")
    status: Literal["ok", "gaps", "not_checked"] = (
        "not_checked" if latest.outcome != "ok" else "gaps" if ok_runs < len(runs) else "ok")
    reason = (latest.error or "")[:160] if latest.outcome != "ok" else ""
    return CoverageRow(check, status, len(runs), ok_runs, latest.outcome, latest.finished_at, last_ok, reason)
