"""process owners: a deployment log, so rolling back makes an earlier version current (issue 5)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 21:40:00

Every version already deployed gets one deployment row, in version order, so the newest version
stays the one new cases take.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("deployed_by", sa.String(length=100), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["process_version_id"], ["process_version.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_process_deployment_process", "process_deployment", ["process_id", "id"])
    op.execute(
        "INSERT INTO process_deployment (process_id, process_version_id, deployed_by, deployed_at, kind) "
        "SELECT process_id, id, deployed_by, deployed_at, 'deploy' FROM process_version "
        "ORDER BY process_id, number"
    )


def downgrade() -> None:
    op.drop_index("ix_process_deployment_process", table_name="process_deployment")
    op.drop_table("process_deployment")
