"""The store aggregated for one metrics scrape: a few GROUP BY queries, never loading rows.

``read_summary`` reads open findings (counts, divergent units, VAT, missing order value),
the last run and last success of every check and sync flow, ledger states, digests,
unfinished deliveries and broken channels, in one read transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from watchdog.store.db import Store
from watchdog.store.models import CheckRunRow, FindingRow
from watchdog.store.models_alerts import ChannelStateRow, DeliveryRow, DigestRow
from watchdog.store.models_sync import FlowRunRow, SyncRecordRow

__all__ = ["FLOW_SUCCESS", "Key", "StoreSummary", "read_summary"]

FLOW_SUCCESS = ("ok", "partial")  # a partial run still moved records; its failures count elsewhere

Key = tuple[str, ...]


@dataclass(frozen=True)
class StoreSummary:
    """What the store says at ``read_at`` (Unix seconds), aggregated; the input of one scrape."""

    read_at: float
    read_seconds: float
    findings_open: dict[Key, int] = field(default_factory=dict)  # integration, check, severity, team
    divergent_units: dict[Key, float] = field(default_factory=dict)  # integration, direction
    vat: dict[str, float] = field(default_factory=dict)  # integration
    missing_order_value: dict[str, float] = field(default_factory=dict)  # integration
    check_last_run: dict[Key, float] = field(default_factory=dict)  # integration, check
    check_last_success: dict[Key, float] = field(default_factory=dict)
    flow_last_run: dict[Key, float] = field(default_factory=dict)  # integration, flow
    flow_last_success: dict[Key, float] = field(default_factory=dict)
    sync_states: dict[Key, int] = field(default_factory=dict)  # integration, flow, state
    digest_last_sent: dict[str, float] = field(default_factory=dict)  # kind
    deliveries: dict[Key, int] = field(default_factory=dict)  # channel, status (unfinished only)
    channel_last_sent: dict[str, float] = field(default_factory=dict)  # channel
    channels_broken: dict[str, bool] = field(default_factory=dict)  # channel


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _read_findings(conn: Connection, summary: StoreSummary) -> None:
    """One pass over open findings: counts, and the money/stock measures of the checks that have them."""
    f = FindingRow
    stock = f.check == "stock_divergence"
    difference = f.measures["difference"].as_float()
    inner = select(
        f.integration, f.check, f.severity, f.owner,
        case((stock & (difference > 0), "oversell"), (stock & (difference < 0), "undersell"), else_="").label("d"),
        case((stock, f.measures["units"].as_float())).label("units"),
        case((f.check == "missing_credit_notes", f.measures["vat"].as_float())).label("vat"),
        case((f.check == "missing_orders", f.measures["grand_total"].as_float())).label("total"),
    ).where(f.status == "open").subquery()
    c = inner.c
    query = select(c.integration, c.check, c.severity, c.owner, c.d, func.count(), func.sum(c.units),
                   func.sum(c.vat), func.sum(c.total)).group_by(c.integration, c.check, c.severity, c.owner, c.d)
    for integration, check, severity, team, direction, count, units, vat, total in conn.execute(query):
        key = (integration, check, severity, team)
        summary.findings_open[key] = summary.findings_open.get(key, 0) + count
        if direction:
            units_key = (integration, direction)
            summary.divergent_units[units_key] = summary.divergent_units.get(units_key, 0.0) + _num(units)
        if vat is not None:
            summary.vat[integration] = summary.vat.get(integration, 0.0) + _num(vat)
        if total is not None:
            summary.missing_order_value[integration] = summary.missing_order_value.get(integration, 0.0) + _num(total)


def _read_runs(conn: Connection, summary: StoreSummary) -> None:
    """Last run and last success of every check and every sync flow (one GROUP BY each)."""
    r = CheckRunRow
    ok = func.max(case((r.outcome == "ok", r.finished_at)))
    for integration, check, last, last_ok in conn.execute(
            select(r.integration, r.check, func.max(r.finished_at), ok).group_by(r.integration, r.check)):
        summary.check_last_run[(integration, check)] = _ts(last) or 0.0
        summary.check_last_success[(integration, check)] = _ts(last_ok) or 0.0  # 0: has run, never succeeded
    w = FlowRunRow
    ok = func.max(case((w.outcome.in_(FLOW_SUCCESS), w.finished_at)))
    for integration, flow, last, last_ok in conn.execute(
            select(w.integration, w.flow, func.max(w.finished_at), ok).group_by(w.integration, w.flow)):
        summary.flow_last_run[(integration, flow)] = _ts(last) or 0.0
        summary.flow_last_success[(integration, flow)] = _ts(last_ok) or 0.0


def _read_sync_and_alerts(conn: Connection, summary: StoreSummary) -> None:
    """Ledger states per flow, digests, unfinished deliveries and broken channels."""
    s = SyncRecordRow
    for integration, flow, state, count in conn.execute(
            select(s.integration, s.flow, s.state, func.count()).group_by(s.integration, s.flow, s.state)):
        summary.sync_states[(integration, flow, state)] = count
    d = DigestRow
    for kind, sent in conn.execute(select(d.kind, func.max(d.sent_at)).where(d.status == "sent").group_by(d.kind)):
        summary.digest_last_sent[kind] = _ts(sent) or 0.0
    v = DeliveryRow
    for channel, status, count, sent in conn.execute(
            select(v.channel, v.status, func.count(), func.max(v.sent_at)).where(v.channel != "")
            .group_by(v.channel, v.status)):
        if status == "sent":
            summary.channel_last_sent[channel] = _ts(sent) or 0.0
        else:
            summary.deliveries[(channel, status)] = count
    for channel, broken in conn.execute(select(ChannelStateRow.channel, ChannelStateRow.broken)):
        summary.channels_broken[channel] = bool(broken)


def read_summary(store: Store, clock: Callable[[], float] = time.time) -> StoreSummary:
    """Aggregate the store into a ``StoreSummary`` in one read transaction. Raises SQLAlchemy errors."""
    started = time.perf_counter()
    partial = StoreSummary(read_at=clock(), read_seconds=0.0)
    with store.engine.connect() as conn:
        _read_findings(conn, partial)
        _read_runs(conn, partial)
        _read_sync_and_alerts(conn, partial)
    return replace(partial, read_seconds=time.perf_counter() - started)
