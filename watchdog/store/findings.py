"""Finding state in the store: what the engine loads, and how it writes a run's steps.

Measures are stored as JSON with Decimals as exact strings (``"3.33"``) and ints as
numbers; ``decode_measures`` turns them back. Every function takes the caller's session:
the engine runs a whole check run (findings, transitions, check_run rows) in one
transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchdog.findings import Finding, Measure, Severity
from watchdog.lifecycle import Kind, Silence, Status, Step, Tracked, matching_silence
from watchdog.store.models import CheckRunRow, FindingRow, SilenceRow, TransitionRow

__all__ = [
    "TransitionRecord",
    "active_silences",
    "add_check_run",
    "apply_steps",
    "decode_measures",
    "encode_measures",
    "load_tracked",
    "open_counts",
    "silence_of",
]

CHUNK = 500


@dataclass(frozen=True)
class TransitionRecord:
    """One persisted transition, as the dispatcher and metrics see it."""

    id: int
    fingerprint: str
    integration: str
    check: str
    subject: str
    kind: str
    at: datetime
    severity: str
    previous_severity: str | None
    owner: str
    summary: str
    measures: Mapping[str, Measure]
    muted_by: str | None


def encode_measures(measures: Mapping[str, Measure]) -> dict[str, Any]:
    """JSON-safe measures: ints stay numbers, Decimals become exact strings."""
    return {k: v if isinstance(v, int) else str(v) for k, v in measures.items()}


def decode_measures(stored: Mapping[str, Any]) -> dict[str, Measure]:
    """The measures ``encode_measures`` stored (ints as int, the rest as Decimal)."""
    return {k: v if isinstance(v, int) and not isinstance(v, bool) else Decimal(str(v)) for k, v in stored.items()}


def load_tracked(session: Session, integration: str) -> list[Tracked]:
    """The integration's pending and open findings."""
    rows = session.execute(select(FindingRow).where(
        FindingRow.integration == integration, FindingRow.status.in_([Status.PENDING, Status.OPEN]))).scalars()
    return [Tracked(fingerprint=r.fingerprint, check=r.check, subject=r.subject, status=Status(r.status),
                    severity=Severity(r.severity), summary=r.summary, measures=decode_measures(r.measures),
                    first_seen=r.first_seen, absent_runs=r.absent_runs) for r in rows]


def active_silences(session: Session, now: datetime) -> list[Silence]:
    """Silences in force at ``now``, oldest first."""
    rows = session.execute(select(SilenceRow).where(SilenceRow.created_at <= now, SilenceRow.expires_at > now)
                           .order_by(SilenceRow.id)).scalars()
    return [silence_of(r) for r in rows]


def silence_of(row: SilenceRow) -> Silence:
    return Silence(id=row.id, author=row.author, comment=row.comment, created_at=row.created_at,
                   expires_at=row.expires_at, integration=row.integration, check=row.check, subject=row.subject)


def apply_steps(session: Session, integration: str, steps: Sequence[Step], now: datetime, *,
                runbooks: Mapping[str, str], silences: Sequence[Silence] = ()) -> list[TransitionRecord]:
    """Write ``steps`` (finding rows and transitions); the transitions written, in order."""
    rows = _rows(session, [s.fingerprint for s in steps])
    written: list[tuple[TransitionRow, FindingRow]] = []
    for step in steps:
        row = rows.get(step.fingerprint)
        if step.forget:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = rows[step.fingerprint] = _new_row(session, integration, step, runbooks)
        _update(row, step, now)
        if step.kind is not None:
            transition = _transition(row, step.kind, step.previous_severity, now, silences)
            session.add(transition)
            written.append((transition, row))
    session.flush()
    return [_record(t, r) for t, r in written]


def _rows(session: Session, fingerprints: Sequence[str]) -> dict[str, FindingRow]:
    rows: dict[str, FindingRow] = {}
    for start in range(0, len(fingerprints), CHUNK):
        chunk = fingerprints[start:start + CHUNK]
        for row in session.execute(select(FindingRow).where(FindingRow.fingerprint.in_(chunk))).scalars():
            rows[row.fingerprint] = row
    return rows


def _new_row(session: Session, integration: str, step: Step, runbooks: Mapping[str, str]) -> FindingRow:
    row = FindingRow(fingerprint=step.fingerprint, integration=integration, check=step.check, subject=step.subject,
                     runbook=runbooks.get(step.check, f"docs/runbooks/{step.check}.md"), absent_runs=0)
    session.add(row)
    return row


def _update(row: FindingRow, step: Step, now: datetime) -> None:
    reopened = step.kind is Kind.OPENED or (step.status is Status.PENDING and row.status != Status.PENDING)
    row.status = step.status
    row.absent_runs = step.absent_runs
    row.first_seen = step.first_seen
    if step.finding is not None:
        _present(row, step.finding, now)
    if reopened or step.status is Status.RESOLVED:
        row.resolved_at = now if step.status is Status.RESOLVED else None
        row.acked_by = row.acked_at = row.ack_comment = None  # an ack holds until the finding resolves


def _present(row: FindingRow, finding: Finding, now: datetime) -> None:
    row.severity, row.owner, row.summary = finding.severity, finding.owner, finding.summary
    row.measures, row.links, row.last_seen = encode_measures(finding.measures), dict(finding.links), now


def _transition(row: FindingRow, kind: Kind, previous_severity: Severity | None, now: datetime,
                silences: Sequence[Silence]) -> TransitionRow:
    silence = matching_silence(silences, row.integration, row.check, row.subject, now)
    muted = f"silence:{silence.id}" if silence else f"ack:{row.acked_by}" if row.acked_by and kind is Kind.UPDATED \
        else None
    previous = previous_severity if kind is not Kind.OPENED else None
    return TransitionRow(fingerprint=row.fingerprint, integration=row.integration, check=row.check, kind=kind,
                         at=now, severity=row.severity, previous_severity=previous, summary=row.summary,
                         measures=dict(row.measures), muted_by=muted)


def _record(t: TransitionRow, row: FindingRow) -> TransitionRecord:
    return TransitionRecord(id=t.id, fingerprint=t.fingerprint, integration=t.integration, check=t.check,
                            subject=row.subject, kind=t.kind, at=t.at, severity=t.severity,
                            previous_severity=t.previous_severity, owner=row.owner, summary=t.summary,
                            measures=decode_measures(t.measures), muted_by=t.muted_by)


def add_check_run(session: Session, integration: str, check: str, *, started_at: datetime, finished_at: datetime,
                  outcome: str, findings: int, error: str | None) -> None:
    """Record one run of one check."""
    session.add(CheckRunRow(integration=integration, check=check, started_at=started_at, finished_at=finished_at,
                            outcome=outcome, findings=findings, error=error))


def open_counts(session: Session, integration: str) -> dict[str, int]:
    """Open findings per check (pending ones are not open yet)."""
    rows: Iterator[Any] = iter(session.execute(
        select(FindingRow.check, func.count()).where(FindingRow.integration == integration,
                                                     FindingRow.status == Status.OPEN).group_by(FindingRow.check)))
    return {check: int(count) for check, count in rows}
