"""application drafts: the public form's answers kept between its pages (issue 10)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application_draft",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_application_draft_expires_at", "application_draft", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_application_draft_expires_at", table_name="application_draft")
    op.drop_table("application_draft")
