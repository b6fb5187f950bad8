"""Tables of notification delivery: the delivery log, Slack cards, digests, channel health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchdog.store.models import Base

__all__ = ["ChannelStateRow", "DeliveryRow", "DigestRow", "SlackCardRow"]


class DeliveryRow(Base):
    """One notification of one transition to one channel, claimed before sending."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    transition_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # claimed | sent | failed
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_ts: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("fingerprint", "transition_id", "channel"),)


class SlackCardRow(Base):
    """The one Slack message (card) of a notification group, updated in place by its ``ts``."""

    __tablename__ = "slack_card"

    group_key: Mapped[str] = mapped_column(String(255), primary_key=True)  # integration + check
    channel: Mapped[str] = mapped_column(String(128), primary_key=True)
    ts: Mapped[str | None] = mapped_column(String(64))
    last_sent_at: Mapped[datetime | None]
    last_digest: Mapped[str | None] = mapped_column(Text)  # what the card said, to send only deltas


class DigestRow(Base):
    """A digest for one period (a local calendar day, a Slack digest slot), claimed before sending."""

    __tablename__ = "digest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # slack | email
    integration: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(128))  # team or recipient list
    period: Mapped[str] = mapped_column(String(32))  # e.g. "2026-11-26" or "2026-11-26T08:00"
    status: Mapped[str] = mapped_column(String(16))  # claimed | sent | failed
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("kind", "integration", "audience", "period"),)


class ChannelStateRow(Base):
    """A notification channel marked broken after a permanent failure (bad token, unknown channel)."""

    __tablename__ = "channel_state"

    channel: Mapped[str] = mapped_column(String(128), primary_key=True)
    broken: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
