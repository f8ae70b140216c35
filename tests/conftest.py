"""Fixtures: a migrated database (SQLite file, or PostgreSQL when configured), the app, a client."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.app import create_app
from trigger_workflow.engine import lint, loader
from trigger_workflow.engine.calendar import UK_TIME
from trigger_workflow.samples import OFFICERS, TEST_PASSWORD
from trigger_workflow.services.accounts import actors, passwords
from trigger_workflow.services.process_owners import processes
from trigger_workflow.settings import Settings
from trigger_workflow.store import db
from trigger_workflow.store.models import Base

pytest_plugins = ["tests.browser_fixtures"]  # browser, base_url and page, for the Chromium tests

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TRIGGER_WORKFLOW_TEST_DATABASE_URL", "")
# Cheap argon2 parameters: tests sign in hundreds of times (production uses the defaults).
TEST_HASHING = passwords.Hashing(time_cost=1, memory_kib=64)
TEST_PASSWORD_HASH = passwords.hash_password(TEST_PASSWORD, TEST_HASHING)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --today: run the whole suite with the clock moved, to prove no test needs a real date."""
    parser.addoption(
        "--today",
        default=os.environ.get("TRIGGER_WORKFLOW_TEST_TODAY", ""),
        help="run as if now were this UK date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM), the clock "
        "ticking from there (default: $TRIGGER_WORKFLOW_TEST_TODAY, else the real clock)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Move the clock for the whole run (imports included) when --today is given."""
    config.addinivalue_line(
        "markers",
        "today(day): run this test (fixtures included) on this UK date, at 10:00, ticking",
    )
    today = config.getoption("--today")
    if today:
        config.stash[MOVED_CLOCK] = time_machine.travel(uk_moment(today), tick=True)
        config.stash[MOVED_CLOCK].start()


def uk_moment(today: str) -> datetime:
    """Return the moment a --today or @pytest.mark.today value names: 10:00 UK time by default."""
    moment = datetime.fromisoformat(today if "T" in today else f"{today}T10:00")
    return moment.replace(tzinfo=UK_TIME)


@pytest.fixture(autouse=True)
def pinned_today(request: pytest.FixtureRequest) -> Iterator[None]:
    """Pin the clock for a test marked @pytest.mark.today("YYYY-MM-DD"), before its fixtures run."""
    marker = request.node.get_closest_marker("today")
    if marker is None:
        yield
        return
    with time_machine.travel(uk_moment(marker.args[0]), tick=True):
        yield


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put the clock back after a run with --today."""
    if MOVED_CLOCK in config.stash:
        config.stash[MOVED_CLOCK].stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say when the run's clock was moved."""
    today = config.getoption("--today")
    return f"clock moved to {today} (Europe/London), ticking" if today else None


MOVED_CLOCK = pytest.StashKey[time_machine.travel]()


def worker_database_url(url: str, worker: str) -> str:
    """Return this pytest-xdist worker's own PostgreSQL database, created if it is missing.

    Run serially (no worker), the tests use the configured database itself; under xdist, worker
    gw0 of ``.../test`` uses ``.../test_gw0``, so workers never truncate each other's tables.
    """
    parsed = make_url(url)
    if worker:
        parsed = parsed.set(database=f"{parsed.database}_{worker}")
    maintenance = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).first()
            if exists is None:
                quoted = connection.dialect.identifier_preparer.quote(str(parsed.database))
                connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        maintenance.dispose()
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def forms_checked_once() -> Iterator[None]:
    """Check each distinct form against the JSON Schema metaschema once per test process.

    Deploying checks every form (`Draft202012Validator.check_schema`): about four fifths of a
    deploy's time, and nearly every test deploys the same forms. The check is a pure function of
    the form, so a form that passed once passes again: only passes are remembered (by the form's
    canonical JSON); a form that fails is checked, and fails, every time.
    """
    real = jsonschema.Draft202012Validator.check_schema
    passed: set[str] = set()

    def check_schema(cls: type, schema: Any, *args: Any, **kwargs: Any) -> None:
        key = json.dumps(schema, sort_keys=True) if not (args or kwargs) else None
        if key is not None and key in passed:
            return
        real(schema, *args, **kwargs)
        if key is not None:
            passed.add(key)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonschema.Draft202012Validator, "check_schema", classmethod(check_schema))
        yield


@pytest.fixture(scope="session", autouse=True)
def processes_checked_once() -> Iterator[None]:
    """Remember which process files passed `processes.check`, once per test process.

    Nearly every test deploys the project's process (or one of a few variants of it), and each
    deploy parses and lints every diagram again: the same answer for the same files. The check is a
    pure function of the files and the code, so a set of files that passed once passes again; only
    passes are remembered (by the files' content hash and the arguments), and a fresh copy of the
    answer is returned each time. Files that fail are checked, and fail, every time; a test that
    replaces the lint or the loader (as an old version deployed before a check existed) is not
    answered from what passed under the real ones, nor remembered.
    """
    real = processes.check
    real_lint, real_load = lint.lint_expressions, loader.load_specs
    passed: dict[tuple[Any, ...], Any] = {}

    def check(files: loader.ProcessFiles, *args: Any, **kwargs: Any) -> Any:
        if lint.lint_expressions is not real_lint or loader.load_specs is not real_load:
            return real(files, *args, **kwargs)
        key = (files.content_hash(), args, tuple(sorted(kwargs.items())))
        if key not in passed:
            passed[key] = real(files, *args, **kwargs)
        return copy.deepcopy(passed[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(processes, "check", check)
        yield


class TemplatesCompiledOnce(BytecodeCache):
    """Jinja's compiled templates kept in memory for every test app of this process.

    Each test makes a new app, so each test's Jinja environment compiled every page it rendered
    again. The bucket's checksum is of the template's source, so an edited template is compiled
    anew; all test apps share one set of Jinja options (create_app's).
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Load the bucket's code compiled by an earlier test, if any."""
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Remember the bucket's freshly compiled code."""
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES_COMPILED = TemplatesCompiledOnce()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate a database once per worker: a SQLite file to copy, or the PostgreSQL database.

    SQLite files live under tmp_path_factory, which pytest-xdist gives each worker on its own.
    """
    if PG_URL:
        url = worker_database_url(PG_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))
        engine = db.make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        db.upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    db.upgrade(f"sqlite:///{path}")
    return str(path)


# The sequences of the tables' serial and identity columns, which TRUNCATE ... RESTART IDENTITY
# would restart: the ones owned by (deptype 'a') or the identity of (deptype 'i') such a column.
OWNED_SEQUENCES = text(
    "SELECT s.relname FROM pg_class s"
    " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
    " AND d.refclassid = 'pg_class'::regclass"
    " JOIN pg_class t ON t.oid = d.refobjid"
    " JOIN pg_namespace n ON n.oid = t.relnamespace"
    " WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') AND n.nspname = current_schema()"
    " AND t.relname = ANY(:tables) ORDER BY s.relname"
)


@pytest.fixture(scope="session")
def empty_database(migrated_template: str) -> Iterator[Callable[[], None] | None]:
    """On PostgreSQL, a function emptying this worker's database (on SQLite, None).

    Every table is emptied with DELETE, children first, and their sequences restarted: what
    `TRUNCATE ... RESTART IDENTITY` does, but TRUNCATE makes new files for each of the tables and
    took most of a second per test here, DELETE of a test's few rows a few hundredths.
    """
    if not PG_URL:
        yield None
        return
    engine = db.make_engine(migrated_template)
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.connect() as connection:
        sequences = connection.scalars(OWNED_SEQUENCES, {"tables": tables}).all()
    statements = [f'DELETE FROM "{name}"' for name in reversed(tables)]
    statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
    empty_all = "; ".join(statements)

    def empty() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql(empty_all)

    yield empty
    engine.dispose()


@pytest.fixture
def database_url(
    migrated_template: str, empty_database: Callable[[], None] | None, tmp_path: Path
) -> Iterator[str]:
    """Give each test an empty, migrated database."""
    if empty_database is not None:
        empty_database()
        yield migrated_template
        return
    path = tmp_path / "test.sqlite"
    shutil.copy(migrated_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on the test database."""
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory on the test database."""
    return db.make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """Return one session on the test database."""
    with sessions() as session:
        yield session


@pytest.fixture
def process_files() -> processes.loader.ProcessFiles:
    """Return the project's own diagrams, tables and forms."""
    return processes.read_process_files(ROOT / "processes", ROOT / "forms")


@pytest.fixture
def deployed(
    session: Session, process_files: processes.loader.ProcessFiles
) -> processes.DeployResult:
    """Deploy the project's process and add one officer per role."""
    result = processes.deploy(session, process_files, "test")
    for username, name, role, agency in OFFICERS:
        actors.add_officer(session, username, name, role, agency, TEST_PASSWORD_HASH)
    return result


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Return settings for a test app."""
    return Settings(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret",
        testing=True,
        argon2_time_cost=TEST_HASHING.time_cost,
        argon2_memory_kib=TEST_HASHING.memory_kib,
        script_time_limit_seconds=2.0,  # the escape tests wait for it: keep the suite quick
    )


@pytest.fixture
def app(settings: Settings, deployed: processes.DeployResult) -> Iterator[Flask]:
    """Return the application on a database with the process deployed."""
    app = create_app(settings)
    app.jinja_env.bytecode_cache = TEMPLATES_COMPILED
    app.test_client_class = CsrfClient
    yield app
    app.extensions["trigger_workflow.engine"].dispose()


class CsrfClient(FlaskClient):
    """A test client that sends the session's CSRF token with every state-changing request.

    Tests post forms and JSON as before; the token is added unless the test sent one itself.
    CSRF refusals are tested with a plain FlaskClient (the `raw_client` fixture).
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Add the CSRF token to a POST, PUT, PATCH or DELETE before sending it."""
        method = str(kwargs.get("method", "GET")).upper()
        if method in {"POST", "PUT", "PATCH", "DELETE"} and args and isinstance(args[0], str):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """Return a valid token for this client's session, making one if it has none."""
        assert self.application.secret_key
        with self.session_transaction() as session:
            raw = session.setdefault(CSRF_FIELD, hashlib.sha1(os.urandom(64)).hexdigest())
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return str(serializer.dumps(raw))


CSRF_FIELD = "csrf_token"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client that sends CSRF tokens by itself (like a browser on our pages)."""
    return app.test_client()


@pytest.fixture
def raw_client(app: Flask) -> FlaskClient:
    """Return a plain test client: no CSRF token unless the test sends one."""
    return FlaskClient(app, app.response_class, use_cookies=True)
