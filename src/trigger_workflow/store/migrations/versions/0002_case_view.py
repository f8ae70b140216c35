"""case view log (R22)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=False),
        sa.Column("agency", sa.String(length=50), nullable=True),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_view_case_viewed", "case_view", ["case_id", "viewed_at"])


def downgrade() -> None:
    op.drop_index("ix_case_view_case_viewed", table_name="case_view")
    op.drop_table("case_view")
