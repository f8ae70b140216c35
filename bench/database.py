"""Give the bench an empty migrated database, with the processes deployed and officers added."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from workload import EIGHT_FORMS_PROCESS, FORMS, PROCESSES

from trigger_workflow.samples import OFFICERS, TEST_PASSWORD
from trigger_workflow.services.accounts import actors, authorities, passwords
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store import db
from trigger_workflow.store.models import Base

PROTECTED = {"test"}  # the test suite's PostgreSQL database: never touched


@dataclass
class BenchDatabase:
    """An engine and session factory on a freshly migrated database, and its officers."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    officers: dict[str, Actor]

    @property
    def dialect(self) -> str:
        """Return the backend name: sqlite or postgresql."""
        return self.engine.dialect.name

    @property
    def where(self) -> str:
        """Return a short description of the database for tables."""
        return "PostgreSQL" if self.dialect == "postgresql" else "SQLite file"

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def sqlite_url(directory: Path, name: str) -> str:
    """Return the URL of a SQLite file in the bench's temporary directory."""
    return f"sqlite:///{directory / name}.sqlite"


def empty_url(base: str, tmp: Path, name: str) -> str:
    """Return an empty database named `name`: a SQLite file in tmp, or with a PostgreSQL URL a
    fresh schema of that name (the bench's layouts and sides side by side in one database)."""
    if not base:
        return sqlite_url(tmp, name)
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {name}"))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{name}"


def check_url(url: str) -> None:
    """Refuse databases the bench must not drop tables in."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.database in PROTECTED:
        raise SystemExit(
            f"Refusing to use the database '{parsed.database}': it belongs to the tests."
        )


# Cheap argon2 parameters: signing in is not what the bench measures (the app uses the same).
BENCH_HASHING = passwords.Hashing(time_cost=1, memory_kib=64)


def fresh(url: str, eight_forms: tuple[Path, Path] | None = None) -> BenchDatabase:
    """Empty and migrate the database, deploy the processes and add one officer per role."""
    check_url(url)
    engine = db.make_engine(url)
    _drop_tables(engine)
    db.upgrade(url)
    sessions = db.make_session_factory(engine)
    with sessions() as session:
        processes.deploy(session, processes.read_process_files(PROCESSES, FORMS), "bench")
        if eight_forms is not None:
            files = processes.read_process_files(*eight_forms)
            processes.deploy(session, files, "bench", process_id=EIGHT_FORMS_PROCESS)
        password_hash = passwords.hash_password(TEST_PASSWORD, BENCH_HASHING)
        officers = {
            username: actors.add_officer(session, username, name, role, agency, password_hash)
            for username, name, role, agency in OFFICERS
        }
    return BenchDatabase(url, engine, sessions, officers)


def _drop_tables(engine: Engine) -> None:
    """Drop the project's tables and Alembic's version table, so upgrade starts from nothing."""
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def server_version(engine: Engine) -> str:
    """Return the database library or server version."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(connection.execute(text("select sqlite_version()")).scalar())
        return str(connection.execute(text("select version()")).scalar())


def add_councils(db: BenchDatabase, councils: int) -> list[int]:
    """Add councils 2..N beside the first (Derby City); return every council's id, first first."""
    with db.sessions() as session:
        ids = [authorities.default_authority(session).id]
        for number in range(2, councils + 1):
            details = authorities.AuthorityDetails(
                code=f"council-{number}", name=f"Council {number}", reference_prefix=f"C{number}"
            )
            ids.append(authorities.save(session, details).id)
        session.commit()
    return ids
