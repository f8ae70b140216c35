"""sign-in: passwords, throttling, sharing cases with agencies (issue 4)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("officer", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column(
        "officer",
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "officer",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
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
    op.create_table(
        "case_agency",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=50), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id", "agency"),
    )
    op.create_index("ix_case_agency_agency", "case_agency", ["agency", "case_id"])
    # Cases already running: share them with the agencies that have a task open on them.
    op.execute(
        "INSERT INTO case_agency (case_id, agency, shared_at) "
        "SELECT DISTINCT case_id, agency, CURRENT_TIMESTAMP FROM open_task "
        "WHERE agency IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_case_agency_agency", table_name="case_agency")
    op.drop_table("case_agency")
    op.drop_index("ix_sign_in_failure_address", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_username", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    with op.batch_alter_table("officer") as batch:
        batch.drop_column("session_version")
        batch.drop_column("disabled")
        batch.drop_column("password_hash")
