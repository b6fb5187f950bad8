"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 16:07:51.208394
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "alert_group",
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=160), nullable=False),
        sa.Column("card_ref", sa.String(length=128), nullable=True),
        sa.Column("shown", sa.JSON(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration", "check", "channel", name=op.f("pk_alert_group")),
    )
    op.create_table(
        "channel_state",
        sa.Column("channel", sa.String(length=160), nullable=False),
        sa.Column("broken", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("integration", sa.String(length=64), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_probe_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_state")),
    )
    op.create_table(
        "check_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_run")),
    )
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.create_index("ix_check_run_latest", ["integration", "check", "finished_at"], unique=False)

    op.create_table(
        "cursor",
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("position", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration", "flow", name=op.f("pk_cursor")),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=160), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_ref", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("transition_id", "channel", name=op.f("uq_delivery_transition_id")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_status", ["status", "channel"], unique=False)

    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=160), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_ref", sa.String(length=255), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest")),
        sa.UniqueConstraint("kind", "integration", "audience", "period", name=op.f("uq_digest_kind")),
    )
    op.create_table(
        "finding",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("runbook", sa.String(length=128), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("absent_runs", sa.Integer(), nullable=False),
        sa.Column("acked_by", sa.String(length=128), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_finding")),
    )
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.create_index("ix_finding_integration_status", ["integration", "status", "check"], unique=False)

    op.create_table(
        "flow_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("dead", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run")),
    )
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.create_index("ix_flow_run_latest", ["integration", "flow", "finished_at"], unique=False)

    op.create_table(
        "job_lock",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_lock")),
    )
    op.create_table(
        "job_slot",
        sa.Column("job", sa.String(length=128), nullable=False),
        sa.Column("slot", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("job", "slot", name=op.f("pk_job_slot")),
    )
    with op.batch_alter_table("job_slot", schema=None) as batch_op:
        batch_op.create_index("ix_job_slot_due", ["job", "due_at"], unique=False)
        batch_op.create_index("ix_job_slot_status", ["status", "due_at"], unique=False)

    op.create_table(
        "silence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=True),
        sa.Column("check", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    op.create_table(
        "sync_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("source_ref", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_class", sa.String(length=16), nullable=True),
        sa.Column("payload_hash", sa.String(length=64), nullable=True),
        sa.Column("source_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_record")),
        sa.UniqueConstraint("integration", "flow", "source_id", name=op.f("uq_sync_record_integration")),
    )
    with op.batch_alter_table("sync_record", schema=None) as batch_op:
        batch_op.create_index("ix_sync_record_state", ["integration", "flow", "state"], unique=False)
        batch_op.create_index("ix_sync_record_ref", ["integration", "flow", "source_ref"], unique=False)
        batch_op.create_index("ix_sync_record_target", ["integration", "flow", "target_id"], unique=False)

    op.create_table(
        "transition",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("previous_severity", sa.String(length=16), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("muted_by", sa.String(length=160), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition")),
    )
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transition_fingerprint"), ["fingerprint"], unique=False)
        batch_op.create_index("ix_transition_integration_at", ["integration", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.drop_index("ix_transition_integration_at")
        batch_op.drop_index(batch_op.f("ix_transition_fingerprint"))

    op.drop_table("transition")
    with op.batch_alter_table("sync_record", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_record_target")
        batch_op.drop_index("ix_sync_record_ref")
        batch_op.drop_index("ix_sync_record_state")

    op.drop_table("sync_record")
    op.drop_table("silence")
    with op.batch_alter_table("job_slot", schema=None) as batch_op:
        batch_op.drop_index("ix_job_slot_status")
        batch_op.drop_index("ix_job_slot_due")

    op.drop_table("job_slot")
    op.drop_table("job_lock")
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_run_latest")

    op.drop_table("flow_run")
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.drop_index("ix_finding_integration_status")

    op.drop_table("finding")
    op.drop_table("digest")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_status")

    op.drop_table("delivery")
    op.drop_table("cursor")
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.drop_index("ix_check_run_latest")

    op.drop_table("check_run")
    op.drop_table("channel_state")
    op.drop_table("alert_group")
