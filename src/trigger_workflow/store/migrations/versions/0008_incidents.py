"""incidents: cases in error (issue 5)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 21:40:00

A placeholder in the chain, so that work in parallel branches each fills its own revision;
a revision nobody fills is removed before it lands.
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
