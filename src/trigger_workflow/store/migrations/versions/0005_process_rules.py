"""process rules: recommendations tracked to completion (R16, issue 3)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("review", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=50), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "review", "number"),
    )
    op.create_index("ix_recommendation_case_id", "recommendation", ["case_id"])
    op.create_index("ix_recommendation_agency_status", "recommendation", ["agency", "status"])


def downgrade() -> None:
    op.drop_index("ix_recommendation_agency_status", table_name="recommendation")
    op.drop_index("ix_recommendation_case_id", table_name="recommendation")
    op.drop_table("recommendation")
