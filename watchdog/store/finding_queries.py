"""Findings for people: listing, the JSON format of ``watchdog check --json``, ack, silence, resolve.

``finding_json`` renders one stored finding in the format of design.md section 9
(integration, check, subject, fingerprint, severity, owner, status, summary, measures,
first_seen, last_seen, runbook, links; plus resolved_at, ack and, when known, currency).
Measures come out as JSON numbers: ints as ints, Decimals as the float with the same
digits. ``findings_json(store, ...)`` is the list the demo writes to findings.json and
``/findings`` serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.lifecycle import Kind, Silence, Status
from watchdog.store.db import Store
from watchdog.store.findings import decode_measures, silence_of
from watchdog.store.models import FindingRow, SilenceRow, TransitionRow

__all__ = [
    "FindingNotFound",
    "ack",
    "add_silence",
    "find",
    "finding_json",
    "findings_json",
    "json_number",
    "list_silences",
    "resolve_by_hand",
    "select_findings",
    "transitions_of",
]


class FindingNotFound(LookupError):
    """No finding, or more than one, matches the fingerprint (prefix) given."""


def json_number(value: Decimal | int) -> int | float:
    """A measure as a JSON number: an int when integral, else the float with the same digits."""
    if isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def finding_json(row: FindingRow, currency: str | None = None) -> dict[str, Any]:
    """One finding in the ``check --json`` format."""
    data: dict[str, Any] = {
        "integration": row.integration, "check": row.check, "subject": row.subject, "fingerprint": row.fingerprint,
        "severity": row.severity, "owner": row.owner, "status": row.status, "summary": row.summary,
        "measures": {k: json_number(v) for k, v in decode_measures(row.measures).items()},
        "first_seen": row.first_seen.isoformat(), "last_seen": row.last_seen.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "runbook": row.runbook, "links": dict(row.links),
        "acked_by": row.acked_by, "acked_at": row.acked_at.isoformat() if row.acked_at else None,
    }
    if currency:
        data["currency"] = currency
    return data


def select_findings(session: Session, *, integration: str | None = None, check: str | None = None,
                    statuses: Iterable[str] = (Status.OPEN,)) -> list[FindingRow]:
    """Findings by integration, check and status; most severe first, then oldest."""
    query = select(FindingRow).where(FindingRow.status.in_(list(statuses)))
    if integration is not None:
        query = query.where(FindingRow.integration == integration)
    if check is not None:
        query = query.where(FindingRow.check == check)
    rows = list(session.execute(query).scalars())
    rank = {"critical": 0, "warning": 1, "info": 2}
    return sorted(rows, key=lambda r: (rank.get(r.severity, 3), r.first_seen, r.check, r.subject))


def findings_json(store: Store, *, integration: str | None = None, statuses: Iterable[str] = (Status.OPEN,),
                  currencies: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The findings in the ``check --json`` format (open ones by default)."""
    with store.session() as session:
        rows = select_findings(session, integration=integration, statuses=statuses)
        return [finding_json(r, (currencies or {}).get(r.integration)) for r in rows]


def find(session: Session, fingerprint: str) -> FindingRow:
    """The finding whose fingerprint is or starts with ``fingerprint``. Raises FindingNotFound."""
    prefix = fingerprint.strip().lower()
    if len(prefix) < 4:
        raise FindingNotFound(f"give at least 4 characters of the fingerprint, not {fingerprint!r}")
    rows = list(session.execute(select(FindingRow).where(FindingRow.fingerprint.startswith(prefix)).limit(2))
                .scalars())
    if len(rows) != 1:
        raise FindingNotFound(f"{'no finding' if not rows else 'more than one finding'} matches {fingerprint!r}")
    return rows[0]


def transitions_of(session: Session, fingerprint: str) -> list[TransitionRow]:
    """A finding's transitions, oldest first."""
    return list(session.execute(select(TransitionRow).where(TransitionRow.fingerprint == fingerprint)
                                .order_by(TransitionRow.at, TransitionRow.id)).scalars())


def _transition(row: FindingRow, kind: Kind, now: datetime, summary: str) -> TransitionRow:
    return TransitionRow(fingerprint=row.fingerprint, integration=row.integration, check=row.check, kind=kind,
                         at=now, severity=row.severity, previous_severity=None, summary=summary,
                         measures=dict(row.measures), muted_by=None)


def ack(session: Session, fingerprint: str, *, by: str, comment: str, now: datetime) -> FindingRow:
    """Acknowledge an open finding until it resolves; writes an ``acked`` transition.

    Raises FindingNotFound, or ValueError if the finding is not open.
    """
    row = find(session, fingerprint)
    if row.status != Status.OPEN:
        raise ValueError(f"finding {row.fingerprint[:12]} is {row.status}, not open: nothing to acknowledge")
    row.acked_by, row.acked_at, row.ack_comment = by, now, comment
    session.add(_transition(row, Kind.ACKED, now, f"acknowledged by {by}: {comment}" if comment else
                            f"acknowledged by {by}"))
    return row


def resolve_by_hand(session: Session, fingerprint: str, *, by: str, comment: str, now: datetime) -> FindingRow:
    """Resolve a pending or open finding now; writes a ``resolved`` transition.

    The next run that still sees the divergence opens it again. Raises FindingNotFound,
    or ValueError if it is already resolved.
    """
    row = find(session, fingerprint)
    if row.status == Status.RESOLVED:
        raise ValueError(f"finding {row.fingerprint[:12]} is already resolved")
    row.status, row.resolved_at, row.absent_runs = Status.RESOLVED, now, 0
    row.acked_by = row.acked_at = row.ack_comment = None
    session.add(_transition(row, Kind.RESOLVED, now, f"resolved by hand by {by}: {comment or row.summary}"))
    return row


def add_silence(session: Session, *, by: str, comment: str, now: datetime, expires_at: datetime,
                integration: str | None = None, check: str | None = None, subject: str | None = None) -> Silence:
    """Create a silence; at least one matcher is required. Raises ValueError."""
    if integration is None and check is None and subject is None:
        raise ValueError("a silence needs at least one matcher: --integration, --check or --subject")
    if expires_at <= now:
        raise ValueError("a silence must expire in the future")
    row = SilenceRow(integration=integration, check=check, subject=subject, author=by, comment=comment,
                     created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    return silence_of(row)


def list_silences(session: Session, now: datetime, *, include_expired: bool = False) -> Sequence[Silence]:
    """Silences in force at ``now`` (and the expired ones too when asked), newest first."""
    query = select(SilenceRow).order_by(SilenceRow.id.desc())
    if not include_expired:
        query = query.where(SilenceRow.expires_at > now)
    return [silence_of(r) for r in session.execute(query).scalars()]
