"""local rules: a case keeps the council's threshold number, window and timescales (issue 12)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 20:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Cases received before ran under the county's rules (their process version's): None says so.
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("local_rules", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("local_rules")
