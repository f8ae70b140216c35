"""inbox: claims and reassignment (issue 4)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 21:40:00

When a task was claimed (the assignee column exists since 0001), an index for the case list
(newest change first) and one the inbox counts from.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("open_task", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_case_updated_at", "case", ["updated_at"])
    op.create_index(
        "ix_open_task_team_counts",
        "open_task",
        ["role", "agency", "stage", "assignee", "due_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_open_task_team_counts", table_name="open_task")
    op.drop_index("ix_case_updated_at", table_name="case")
    op.drop_column("open_task", "claimed_at")
