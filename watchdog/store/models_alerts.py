"""Tables of notification delivery: the delivery log, alert groups, digests, channel health.

Written only by ``watchdog.dispatch`` and ``watchdog.digests``; read by metrics.

``delivery.status``: ``claimed`` (being sent now), ``sent``, ``retry`` (a transient
failure; ``alert_group.next_attempt_at`` says when), ``failed`` (given up after
``give_up_after``), ``suppressed`` (``reason``: silenced, acked, below_threshold,
flapped, never_notified, resolved_off, finding_missing), ``unrouted`` (no channel for
the owner team; ``channel`` is empty).
``digest.status``: ``claimed``, ``sent``, ``retry`` (transient; ``next_attempt_at``),
``failed`` (permanent or given up).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchdog.store.models import Base

__all__ = ["AlertGroupRow", "ChannelStateRow", "DeliveryRow", "DigestRow"]


class DeliveryRow(Base):
    """One transition's delivery to one channel, claimed (inserted) before sending."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transition_id: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    integration: Mapped[str] = mapped_column(String(64))
    check: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(160))  # "slack:#ops-alerts"; "" when unrouted
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_ref: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        UniqueConstraint("transition_id", "channel"),
        Index("ix_delivery_status", "status", "channel"),
    )


class AlertGroupRow(Base):
    """One notification group (integration + check) on one channel: its card, what it shows, its lease.

    ``shown`` lists the fingerprints the card currently shows as open; a message says
    only what changed against it. ``lease_owner``/``lease_until`` make one dispatcher
    at a time send for the group (compare-and-set), across replicas and restarts.
    """

    __tablename__ = "alert_group"

    integration: Mapped[str] = mapped_column(String(64), primary_key=True)
    check: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(160), primary_key=True)
    card_ref: Mapped[str | None] = mapped_column(String(128))
    shown: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class DigestRow(Base):
    """A digest for one period (a local calendar day, a Slack digest slot), claimed before sending."""

    __tablename__ = "digest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # slack | email
    integration: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(160))  # a team ("operations") or "managers"
    period: Mapped[str] = mapped_column(String(32))  # e.g. "2026-11-26" or "2026-11-26T08:00"
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_ref: Mapped[str | None] = mapped_column(String(255))
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the headline numbers sent

    __table_args__ = (UniqueConstraint("kind", "integration", "audience", "period"),)


class ChannelStateRow(Base):
    """A notification channel marked broken after a permanent failure (bad token, unknown channel).

    Deliveries to a broken channel are held; one attempt every probe interval
    (``next_probe_at``) tests whether a person has fixed it.
    """

    __tablename__ = "channel_state"

    channel: Mapped[str] = mapped_column(String(160), primary_key=True)
    broken: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    integration: Mapped[str | None] = mapped_column(String(64))  # whose platform finding reports it
    since: Mapped[datetime | None]
    next_probe_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
