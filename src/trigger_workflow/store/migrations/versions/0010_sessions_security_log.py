"""sessions ended on the server, a security log, sign-in throttling per username and address (issue 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 10:00:00

Sessions become rows (officer_session), so the officer's session_version counter goes; the
sign_in_failure rows (one per failure) give way to one counter per key (sign_in_throttle).
Sessions signed in before this migration end: their cookies name no row.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officer_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_officer_session_officer", "officer_session", ["officer_id", "ended_at"])
    op.create_index("ix_officer_session_started", "officer_session", ["started_at"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_allowed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "username", "address"),
    )
    op.create_index("ix_sign_in_throttle_last_failure", "sign_in_throttle", ["last_failure_at"])
    op.create_table(
        "security_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_security_event_subject", "security_event", ["subject", "id"])
    op.drop_index("ix_sign_in_failure_address", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_username", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    with op.batch_alter_table("officer") as batch:
        batch.drop_column("session_version")


def downgrade() -> None:
    with op.batch_alter_table("officer") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_failure_username", "sign_in_failure", ["username", "failed_at"])
    op.create_index("ix_sign_in_failure_address", "sign_in_failure", ["address", "failed_at"])
    op.drop_index("ix_security_event_subject", table_name="security_event")
    op.drop_table("security_event")
    op.drop_index("ix_sign_in_throttle_last_failure", table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_index("ix_officer_session_started", table_name="officer_session")
    op.drop_index("ix_officer_session_officer", table_name="officer_session")
    op.drop_table("officer_session")
