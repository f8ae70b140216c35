"""Create database engines and sessions, and migrate the schema with Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.json_text import read_json

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# What migration 0020 adds beside the models for the case list's text search
# (services/casework/name_search.py): SQLite's full-text table with its shadow tables, and indexes
# of one database only. Alembic's comparisons with the models leave them out.
OUTSIDE_THE_MODELS = frozenset(
    {
        "case_name_search",
        *(f"case_name_search_{part}" for part in ("data", "idx", "docsize", "config", "content")),
        "ix_case_applicant_name_trgm",
        "ix_case_reference_prefix",
        "ix_case_postcode_prefix",
    }
)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if _ensure_sqlite_folder(url):
        engine = create_engine(url, connect_args={"timeout": 30}, json_deserializer=read_json)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, json_deserializer=read_json)


def _ensure_sqlite_folder(url: str) -> bool:
    """Create the folder of a SQLite database file; return whether the URL is SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return True


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Erased personal data (issue 13) must not stay in freed pages of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory every request and command uses."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration pointing at this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def compared_with_models(name: str | None, type_: str, parent_names: Any) -> bool:
    """Return whether Alembic compares this table or index with the models (its include_name)."""
    return name not in OUTSIDE_THE_MODELS


def upgrade(url: str) -> None:
    """Bring the database schema to the newest migration."""
    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), "head")


def make_memory_engine() -> Engine:
    """Create a throw-away in-memory SQLite database with every table (diagram tests)."""
    from sqlalchemy.pool import StaticPool

    from trigger_workflow.store.models import Base

    engine = create_engine("sqlite://", poolclass=StaticPool, json_deserializer=read_json)
    event.listen(engine, "connect", _configure_memory)
    Base.metadata.create_all(engine)
    return engine


def _configure_memory(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
