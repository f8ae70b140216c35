"""event hash chain (issue 6)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:40:00

A placeholder in the chain, so that work in parallel branches each fills its own revision;
a revision nobody fills is removed before it lands.
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
