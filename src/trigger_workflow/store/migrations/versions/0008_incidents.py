"""incidents: cases in error (issue 5)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("task_spec", sa.String(length=100), nullable=True),
        sa.Column("task_name", sa.String(length=200), nullable=True),
        sa.Column("element_id", sa.String(length=100), nullable=True),
        sa.Column("element_name", sa.String(length=200), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_case_id", "incident", ["case_id"])
    op.create_index("ix_incident_status_opened", "incident", ["status", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_incident_status_opened", table_name="incident")
    op.drop_index("ix_incident_case_id", table_name="incident")
    op.drop_table("incident")
