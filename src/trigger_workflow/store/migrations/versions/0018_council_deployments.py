"""council deployments: a council's process owner deploys a version for that council (issue 12)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 20:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every deployment so far was the county's: None says so.
    with op.batch_alter_table("process_deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_process_deployment_authority", "authority", ["authority_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("process_deployment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_process_deployment_authority", type_="foreignkey")
        batch_op.drop_column("authority_id")
