"""uploads: the client address each anonymous upload came from, to limit uploads per client (issue 11)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 12:00:00

Uploads already kept have no address: they count towards the total of unclaimed uploads, never
towards one client's share.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
    op.create_index("ix_document_client_address", "document", ["client_address", "uploaded_at"])


def downgrade() -> None:
    op.drop_index("ix_document_client_address", table_name="document")
    with op.batch_alter_table("document") as batch:
        batch.drop_column("client_address")
