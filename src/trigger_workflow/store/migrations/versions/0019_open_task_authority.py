"""open tasks carry their case's council: an officer's inbox reads one index (issue 12)

A council's coordinator's inbox filtered the open tasks by their case's council through the case
table, so it walked every council's tasks (or gathered every id of the council's cases) to find
hers. Each open task now holds its case's `authority_id`, copied from the case here and whenever
the row is written, indexed with the columns the inbox filters and orders by.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

NO_AGENCY = sa.text("agency IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("open_task") as batch:
        batch.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_open_task_authority", "authority", ["authority_id"], ["id"])
    op.execute(
        'UPDATE open_task SET authority_id = (SELECT "case".authority_id FROM "case" '
        'WHERE "case".id = open_task.case_id)'
    )
    op.drop_index("ix_open_task_team_counts", table_name="open_task")
    op.create_index(
        "ix_open_task_team_counts",
        "open_task",
        ["role", "agency", "authority_id", "stage", "assignee", "due_on"],
    )
    op.create_index(
        "ix_open_task_role_agency_authority_due",
        "open_task",
        ["role", "agency", "authority_id", "due_on", "created_at"],
    )
    op.create_index(
        "ix_open_task_role_authority_due_unscoped",
        "open_task",
        ["role", "authority_id", "due_on", "created_at"],
        postgresql_where=NO_AGENCY,
        sqlite_where=NO_AGENCY,
    )


def downgrade() -> None:
    op.drop_index("ix_open_task_role_authority_due_unscoped", table_name="open_task")
    op.drop_index("ix_open_task_role_agency_authority_due", table_name="open_task")
    op.drop_index("ix_open_task_team_counts", table_name="open_task")
    op.create_index(
        "ix_open_task_team_counts", "open_task", ["role", "agency", "stage", "assignee", "due_on"]
    )
    with op.batch_alter_table("open_task") as batch:
        batch.drop_constraint("fk_open_task_authority", type_="foreignkey")
        batch.drop_column("authority_id")
