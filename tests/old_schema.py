"""An empty database for a migration test: a SQLite file, or on PostgreSQL a schema of its own
beside the test database (so the test can upgrade it from an older release's revision)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

PG_URL = os.environ.get("TRIGGER_WORKFLOW_TEST_DATABASE_URL", "")


def empty_database(tmp_path: Path, name: str) -> str:
    """Return the URL of an empty database named for the release it starts from."""
    if not PG_URL:
        return f"sqlite:///{tmp_path / (name + '.sqlite')}"
    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        # Migration 0020 creates pg_trgm where the search path says, unless it is there: in
        # public, once, so that a test's schema dropped with CASCADE never takes it (and the
        # indexes another test's schema built on it) along, nor two tests create it at once.
        connection.execute(text("SELECT pg_advisory_xact_lock(20020)"))
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {name}"))
    engine.dispose()
    return PG_URL + f"?options=-csearch_path%3D{name}"


def drop_database(name: str) -> None:
    """Drop what empty_database made on PostgreSQL (a SQLite file goes with tmp_path)."""
    if not PG_URL:
        return
    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


# The first process version of an older release, for a case row to point at.
FIRST_VERSION = text(
    "INSERT INTO process_version (id, process_id, number, content_hash, files, spec, "
    "serializer_version, deployed_by, deployed_at) VALUES (1, 'community_trigger', 1, "
    "'h', '{}', '', '1', 'test', CURRENT_TIMESTAMP)"
)
