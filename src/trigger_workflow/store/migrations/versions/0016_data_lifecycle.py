"""data lifecycle: personal values committed to by salted digests, erasures, retention (issue 13)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events recorded from now on say which of their values are personal (and whose); events
    # recorded before keep None and are hashed as they always were.
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal", sa.JSON(), nullable=True))
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("authority", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_years", sa.Integer(), nullable=True))
    # A closed case's retention counts from its last event: the moment it closed.
    op.execute(
        'UPDATE "case" SET closed_at = (SELECT MAX(event.occurred_at) FROM event '
        "WHERE event.case_id = \"case\".id) WHERE status = 'closed'"
    )
    op.create_table(
        "case_secret",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=30), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id", "subject"),
    )
    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("under", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("erased_by", sa.String(length=100), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasure_case_id", "erasure", ["case_id"])
    op.create_index("ix_case_closed_at", "case", ["status", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_case_closed_at", table_name="case")
    op.drop_index("ix_erasure_case_id", table_name="erasure")
    op.drop_table("erasure")
    op.drop_table("case_secret")
    with op.batch_alter_table("authority", schema=None) as batch_op:
        batch_op.drop_column("retention_years")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("personal")
