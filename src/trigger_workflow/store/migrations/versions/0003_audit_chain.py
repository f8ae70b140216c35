"""event hash chain (issue 6)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:40:00

Adds each event's hash and the hash of the event before it, and each case's chain head; events
recorded before this revision are chained here, in the order of their numbers.
"""

import sqlalchemy as sa
from alembic import op

from trigger_workflow.store import chain

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("last_event_hash", sa.String(length=64), nullable=True))
    _chain_recorded_events()
    with op.batch_alter_table("event") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table("case") as batch:
        batch.alter_column("last_event_hash", existing_type=sa.String(length=64), nullable=False)


def _chain_recorded_events() -> None:
    connection = op.get_bind()
    event = sa.table(
        "event",
        *(sa.column(name) for name in ("id", "prev_hash", "hash")),
        *(
            sa.column(name)
            for name in chain.CONTENT_FIELDS
            if name not in ("data", "detail", "occurred_at")
        ),
        sa.column("data", sa.JSON),
        sa.column("detail", sa.JSON),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
    )
    case = sa.table("case", sa.column("id"), sa.column("last_event_hash"))
    heads: dict[int, str] = {}
    rows = connection.execute(sa.select(event).order_by(event.c.case_id, event.c.seq)).mappings()
    for row in list(rows):
        prev = heads.get(row["case_id"], chain.GENESIS)
        digest = chain.event_hash(dict(row), prev)
        connection.execute(
            event.update().where(event.c.id == row["id"]).values(prev_hash=prev, hash=digest)
        )
        heads[row["case_id"]] = digest
    connection.execute(case.update().values(last_event_hash=chain.GENESIS))
    for case_id, head in heads.items():
        connection.execute(case.update().where(case.c.id == case_id).values(last_event_hash=head))


def downgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.drop_column("last_event_hash")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
