"""indexes for the case list's text search: names by trigrams, references and postcodes by prefix

The case list finds a case by the start of its reference or postcode, or by any part of its
applicant's name (services/casework/name_search.py). A "contains" search cannot use an ordinary
index, so both databases read every case: 33 ms on SQLite, 56-69 ms on PostgreSQL at 100,000
cases (issue 15, item 4). And the OR needs every arm indexed, or the whole of it reads the table.

PostgreSQL: the pg_trgm extension (PostgreSQL's contrib; a trusted extension since PostgreSQL
13: a role with CREATE on the database may create it, else a superuser first, see
docs/operations.md), a GIN trigram index on `lower(applicant_name)`, and B-trees with
`text_pattern_ops` (LIKE 'x%' under any collation) on `reference` and `lower(applicant_postcode)`.

SQLite: an FTS5 table with the trigram tokenizer over `case.applicant_name`, with external
content (it keeps no copy of the names), filled from the existing cases here and kept in step by
triggers on insert, on a change of the name (erasure included) and on delete; and NOCASE indexes
on `reference` and `applicant_postcode`, which the LIKE prefix optimisation needs.

A later migration that rebuilds "case" on SQLite (batch mode) drops its triggers: it must create
them again (and the NOCASE indexes, which batch mode copies only if reflected).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 23:30:00
"""

from alembic import op
from sqlalchemy import text

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FTS_TABLE = (
    "CREATE VIRTUAL TABLE case_name_search USING fts5(applicant_name, content='case', "
    "content_rowid='id', tokenize='trigram')"
)
FTS_TRIGGERS = [
    'CREATE TRIGGER case_name_search_insert AFTER INSERT ON "case" BEGIN '
    "INSERT INTO case_name_search (rowid, applicant_name) VALUES (new.id, new.applicant_name); "
    "END",
    'CREATE TRIGGER case_name_search_delete AFTER DELETE ON "case" BEGIN '
    "INSERT INTO case_name_search (case_name_search, rowid, applicant_name) "
    "VALUES ('delete', old.id, old.applicant_name); END",
    'CREATE TRIGGER case_name_search_update AFTER UPDATE OF applicant_name ON "case" BEGIN '
    "INSERT INTO case_name_search (case_name_search, rowid, applicant_name) "
    "VALUES ('delete', old.id, old.applicant_name); "
    "INSERT INTO case_name_search (rowid, applicant_name) VALUES (new.id, new.applicant_name); "
    "END",
]
TRIGGER_NAMES = ["case_name_search_insert", "case_name_search_delete", "case_name_search_update"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(FTS_TABLE)
        op.execute("INSERT INTO case_name_search (case_name_search) VALUES ('rebuild')")
        for trigger in FTS_TRIGGERS:
            op.execute(trigger)
        op.execute('CREATE INDEX ix_case_reference_prefix ON "case" (reference COLLATE NOCASE)')
        op.execute(
            'CREATE INDEX ix_case_postcode_prefix ON "case" (applicant_postcode COLLATE NOCASE)'
        )
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # The operator class is named with the extension's schema: it may have been created in
    # another schema than the one the tables are in (search_path).
    schema = op.get_bind().scalar(
        text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    )
    op.execute(
        'CREATE INDEX ix_case_applicant_name_trgm ON "case" '
        f"USING gin (lower(applicant_name) {schema}.gin_trgm_ops)"
    )
    op.execute('CREATE INDEX ix_case_reference_prefix ON "case" (reference text_pattern_ops)')
    op.execute(
        'CREATE INDEX ix_case_postcode_prefix ON "case" '
        "(lower(applicant_postcode) text_pattern_ops)"
    )


def downgrade() -> None:
    op.drop_index("ix_case_postcode_prefix", table_name="case")
    op.drop_index("ix_case_reference_prefix", table_name="case")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE case_name_search")
        return
    op.drop_index("ix_case_applicant_name_trgm", table_name="case")
    # The extension stays: other schemas or tools of this database may use it.
