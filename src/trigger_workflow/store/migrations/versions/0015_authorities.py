"""authorities: a county's councils in one deployment; cases and staff belong to one (issue 12)

An existing single-council database gets one authority, made from its settings (the council's
name, address, email, phone and reference prefix); every case and every officer is given to it,
and its reference counter carries on from the old one, so nothing changes for that council.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-07 14:00:00
"""

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The settings' defaults (settings.py), read from the same TRIGGER_WORKFLOW_* variables.
DEFAULTS = {
    "name": ("COUNCIL_NAME", "Derby City Council"),
    "address": ("COUNCIL_ADDRESS", "The Council House, Corporation Street, Derby DE1 2FS"),
    "email": ("COUNCIL_EMAIL", "asb.casereview@example.gov.uk"),
    "phone": ("COUNCIL_PHONE", "01332 000000"),
    "reference_prefix": ("REFERENCE_PREFIX", "CT"),
}


def _setting(name: str) -> str:
    variable, default = DEFAULTS[name]
    return os.environ.get(f"TRIGGER_WORKFLOW_{variable}") or default


def upgrade() -> None:
    authority = op.create_table(
        "authority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reference_prefix", sa.String(length=8), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("logo_file", sa.String(length=200), nullable=True),
        sa.Column("threshold_number", sa.Integer(), nullable=True),
        sa.Column("threshold_window_months", sa.Integer(), nullable=True),
        sa.Column("timescales", sa.JSON(), nullable=False),
        sa.Column("agencies", sa.JSON(), nullable=True),
        sa.Column("process_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["process_version_id"], ["process_version.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("reference_prefix"),
    )
    op.create_table(
        "authority_counter",
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"]),
        sa.PrimaryKeyConstraint("authority_id", "year"),
    )
    op.create_table(
        "officer_authority",
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"]),
        sa.PrimaryKeyConstraint("officer_id", "authority_id"),
    )
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_case_authority", "authority", ["authority_id"], ["id"])
        batch.create_index("ix_case_authority_id", ["authority_id"])
    with op.batch_alter_table("officer") as batch:
        batch.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("county_wide", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_foreign_key("fk_officer_authority", "authority", ["authority_id"], ["id"])
    # API clients (0013) are scoped like officers: one authority, or county-wide.
    with op.batch_alter_table("api_client") as batch:
        batch.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("county_wide", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_foreign_key("fk_api_client_authority", "authority", ["authority_id"], ["id"])
    with op.batch_alter_table("application_draft") as batch:
        batch.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_application_draft_authority", "authority", ["authority_id"], ["id"]
        )

    # The one council this database served until now: its cases and staff are its own.
    name = _setting("name")
    op.bulk_insert(
        authority,
        [
            {
                "id": 1,
                "code": "-".join(name.lower().replace("council", "").split()) or "council",
                "name": name,
                "reference_prefix": _setting("reference_prefix"),
                "address": _setting("address"),
                "email": _setting("email"),
                "phone": _setting("phone"),
                "timescales": {},
                "created_at": datetime.now(UTC),
            }
        ],
    )
    op.execute('UPDATE "case" SET authority_id = 1')
    op.execute("UPDATE officer SET authority_id = 1")
    op.execute("UPDATE api_client SET authority_id = 1")
    op.execute(
        "INSERT INTO authority_counter (authority_id, year, last_number) "
        "SELECT 1, year, last_number FROM reference_counter"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('authority_id_seq', (SELECT max(id) FROM authority))")


def downgrade() -> None:
    with op.batch_alter_table("application_draft") as batch:
        batch.drop_constraint("fk_application_draft_authority", type_="foreignkey")
        batch.drop_column("authority_id")
    with op.batch_alter_table("api_client") as batch:
        batch.drop_constraint("fk_api_client_authority", type_="foreignkey")
        batch.drop_column("county_wide")
        batch.drop_column("authority_id")
    with op.batch_alter_table("officer") as batch:
        batch.drop_constraint("fk_officer_authority", type_="foreignkey")
        batch.drop_column("county_wide")
        batch.drop_column("authority_id")
    with op.batch_alter_table("case") as batch:
        batch.drop_index("ix_case_authority_id")
        batch.drop_constraint("fk_case_authority", type_="foreignkey")
        batch.drop_column("authority_id")
    op.drop_table("officer_authority")
    op.drop_table("authority_counter")
    op.drop_table("authority")
