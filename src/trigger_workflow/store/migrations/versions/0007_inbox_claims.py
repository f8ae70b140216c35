"""inbox: claims and reassignment (issue 4)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 21:40:00

A placeholder in the chain, so that work in parallel branches each fills its own revision;
a revision nobody fills is removed before it lands.
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
