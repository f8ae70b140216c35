"""process rules: recommendations and the like (issue 3)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 21:40:00

A placeholder in the chain, so that work in parallel branches each fills its own revision;
a revision nobody fills is removed before it lands.
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
