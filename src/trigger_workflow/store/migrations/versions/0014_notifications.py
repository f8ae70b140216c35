"""notifications: GOV.UK Notify delivery, short messages in the outbox, tracking codes (issue 14)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A notification (a stage update, a task alert, a one-time code) is an outbox row with no
    # letter: the same sender, retries and failure rules deliver it.
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column("letter_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("recipient_phone", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("purpose", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provider_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=30), nullable=True))
        batch_op.add_column(
            sa.Column("delivery_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key("fk_outbox_message_case_id", "case", ["case_id"], ["id"])
        batch_op.create_unique_constraint("uq_outbox_message_provider_id", ["provider_id"])
        batch_op.create_index("ix_outbox_message_case_id", ["case_id"])
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column("task_emails", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "rate_limit",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index("ix_rate_limit_window", "rate_limit", ["window_started_at"])
    op.create_table(
        "tracking_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrong_tries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tracking_code_case_created", "tracking_code", ["case_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tracking_code_case_created", table_name="tracking_code")
    op.drop_table("tracking_code")
    op.drop_index("ix_rate_limit_window", table_name="rate_limit")
    op.drop_table("rate_limit")
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("task_emails")
        batch_op.drop_column("email")
    op.execute("DELETE FROM outbox_message WHERE letter_id IS NULL")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_case_id")
        batch_op.drop_constraint("uq_outbox_message_provider_id", type_="unique")
        batch_op.drop_constraint("fk_outbox_message_case_id", type_="foreignkey")
        for column in (
            "delivery_updated_at",
            "delivery_status",
            "provider_id",
            "body",
            "subject",
            "purpose",
            "case_id",
            "recipient_phone",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("letter_id", existing_type=sa.Integer(), nullable=False)
