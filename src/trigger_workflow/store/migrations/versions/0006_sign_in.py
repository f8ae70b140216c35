"""sign-in: passwords, throttling (issue 4)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 21:40:00

A placeholder in the chain, so that work in parallel branches each fills its own revision;
a revision nobody fills is removed before it lands.
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
