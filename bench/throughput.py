"""Throughput: real gunicorn (the project's config) with N workers, N clients completing tasks.

Run with `python bench/throughput.py --help`; the report is also written to
bench/results/throughput.txt. SQLite (a temporary file) and PostgreSQL are run one after the other.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from database import BENCH_HASHING, BenchDatabase, check_url, fresh, server_version, sqlite_url
from layers import fresh_data
from sqlalchemy import String, bindparam, create_engine, make_url, or_, select, text
from timing import Report, median, ms, p95, progress
from workload import MAIN_PATH, Step, encode

from trigger_workflow.samples import TEST_PASSWORD
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case, OpenTask

RESULTS = Path(__file__).resolve().parent / "results" / "throughput.txt"
GUNICORN = Path(sys.executable).with_name("gunicorn")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_throughput"
OFFICER_STEPS = MAIN_PATH[1:]  # the application makes the case; officers do the other nine


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--cases",
        type=int,
        default=48,
        help="cases driven to the end of the main path (default 48)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help=f"PostgreSQL database to use, created if missing (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="run on PostgreSQL only")
    parser.add_argument("--skip-postgres", action="store_true", help="run on SQLite only")
    return parser.parse_args(argv)


@dataclass
class Run:
    """What one database's run measured."""

    where: str
    completions: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]

    @property
    def per_second(self) -> float:
        """Return completions a second over the whole drive, clients' own work included."""
        return self.completions / self.seconds if self.seconds else 0.0


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database through the server's maintenance database when missing."""
    parsed = make_url(url)
    maintenance = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).first()
            if found is None:
                quoted = connection.dialect.identifier_preparer.quote(str(parsed.database))
                connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        maintenance.dispose()


def seed(database: BenchDatabase, count: int) -> list[str]:
    """Submit `count` applications through the services (untimed); return their references."""
    application = MAIN_PATH[0]
    references = []
    for _ in range(count):
        with database.sessions() as session:
            command = cases.SubmitApplication(fresh_data(application), actors.PUBLIC)
            references.append(cases.submit_application(session, command).reference)
    return references


@contextmanager
def gunicorn(url: str, workers: int, instance: Path) -> Iterator[str]:
    """Run the real gunicorn with the project's config on a free loopback port; yield its URL.

    The port is bound and listening here and handed to gunicorn (``fd://``), so nothing can take
    it in between. gunicorn's own log goes to a file in the instance folder.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.set_inheritable(True)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {
        **os.environ,
        "TRIGGER_WORKFLOW_DATABASE_URL": url,
        "TRIGGER_WORKFLOW_SECRET_KEY": "bench-throughput",
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(instance),
        "TRIGGER_WORKFLOW_ARGON2_TIME_COST": str(BENCH_HASHING.time_cost),
        "TRIGGER_WORKFLOW_ARGON2_MEMORY_KIB": str(BENCH_HASHING.memory_kib),
        "TRIGGER_WORKFLOW_BIND": f"fd://{listener.fileno()}",
        "TRIGGER_WORKFLOW_WORKERS": str(workers),
        "TRIGGER_WORKFLOW_LOG_LEVEL": "WARNING",
    }
    log = instance / "gunicorn.log"
    instance.mkdir(parents=True, exist_ok=True)
    with listener, log.open("wb") as output:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "python:trigger_workflow.gunicorn_config",
             "trigger_workflow.app:create_app()"],
            env=env, stdout=output, stderr=output, pass_fds=[listener.fileno()],
        )  # fmt: skip
        try:
            _wait_for(base, server, log)
            yield base
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


def _wait_for(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until gunicorn answers /healthz."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(base + "/healthz", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Officer:
    """One officer signed in over HTTP: a cookie jar and the session's CSRF token."""

    http: requests.Session
    token: str


def sign_in(base: str, username: str) -> Officer:
    """Sign in through the sign-in form (untimed), as a browser does."""
    http = requests.Session()
    found = CSRF.search(http.get(base + "/sign-in", timeout=60).text)
    if found is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    form = {"username": username, "password": TEST_PASSWORD, "csrf_token": found.group(1)}
    response = http.post(base + "/sign-in", data=form, timeout=60, allow_redirects=False)
    if response.status_code != 302:
        raise RuntimeError(f"could not sign in as {username}: {response.status_code}")
    found = CSRF.search(http.get(base + "/tasks", timeout=60).text)
    if found is None:
        raise RuntimeError("the inbox has no CSRF token")
    return Officer(http, found.group(1))


class TaskLookup:
    """Find a case's open task the cheapest way, as the client's own overhead counts too.

    One plain statement on a pool without a ping on each checkout (the ORM session and the
    ping cost the client about as much again as the query): the client shares the two cores
    with the server it measures.
    """

    def __init__(self, url: str, clients: int) -> None:
        self.engine = create_engine(url, pool_size=clients)
        self.query = (
            select(OpenTask.id)
            .join(Case, Case.id == OpenTask.case_id)
            .where(
                Case.reference == bindparam("reference"),
                OpenTask.task_spec == bindparam("task_spec"),
                or_(
                    bindparam("agency", type_=String).is_(None),
                    OpenTask.agency == bindparam("agency", type_=String),
                ),
            )
            .limit(1)
        )

    def open_task_id(self, reference: str, step: Step) -> str:
        """Return the id of the open task a step is about, or raise RuntimeError."""
        values = {"reference": reference, "task_spec": step.task, "agency": step.agency}
        with self.engine.connect() as connection:
            task_id = connection.execute(self.query, values).scalar()
        if task_id is None:
            raise RuntimeError(f"case {reference} has no open task {step.label}")
        return str(task_id)

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class Client:
    """One client: its officers signed in, taking cases from the queue and driving each to the end."""

    base: str
    database: BenchDatabase
    forms: dict[str, list[tuple[str, str]]]
    lookup: TaskLookup
    officers: dict[str, Officer] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def sign_in_all(self) -> None:
        """Sign in as every officer the main path needs, before the clock starts."""
        for username in sorted({step.officer for step in OFFICER_STEPS}):
            self.officers[username] = sign_in(self.base, username)

    def drive(self, work: queue.Queue[str]) -> None:
        """Complete every officer's task of each case taken from the queue, in order."""
        while True:
            try:
                reference = work.get_nowait()
            except queue.Empty:
                return
            for step in OFFICER_STEPS:
                if not self._complete(reference, step):
                    break  # the rest of this case cannot be done; the error is reported

    def _complete(self, reference: str, step: Step) -> bool:
        """POST the task's form as its officer; time the request up to its redirect."""
        officer = self.officers[step.officer]
        try:
            task_id = self.lookup.open_task_id(reference, step)
        except RuntimeError as error:
            self.errors.append(str(error))
            return False
        fields = [*self.forms[step.label], ("csrf_token", officer.token)]
        start = time.perf_counter()
        response = officer.http.post(
            f"{self.base}/tasks/{task_id}", data=fields, timeout=120, allow_redirects=False
        )
        took = (time.perf_counter() - start) * 1000
        if response.status_code != 302:
            self.errors.append(f"{reference} {step.label}: HTTP {response.status_code}")
            return False
        self.latencies.append(took)
        return True


def step_forms(database: BenchDatabase) -> dict[str, list[tuple[str, str]]]:
    """Encode each officer step's answers as the form fields a browser posts."""
    with database.sessions() as session:
        deployed = processes.deployed(processes.latest_version(session, "community_trigger"))
    forms = {}
    for step in OFFICER_STEPS:
        form = deployed.form(deployed.user_tasks[step.task].form)
        if form is None:
            raise RuntimeError(f"task {step.task} has no form")
        forms[step.label] = list(encode(form, step.data))
    return forms


def run_on(where: str, url: str, args: argparse.Namespace, tmp: Path) -> Run:
    """Seed a fresh database, serve it with gunicorn, and drive the clients against it."""
    progress(f"{where}: migrating, deploying and submitting {args.cases} applications")
    database = fresh(url)
    try:
        references = seed(database, args.cases)
        forms = step_forms(database)
        with gunicorn(url, args.workers, tmp / f"instance-{where}") as base:
            lookup = TaskLookup(url, args.clients)
            clients = [Client(base, database, forms, lookup) for _ in range(args.clients)]
            progress(
                f"{where}: gunicorn with {args.workers} workers; signing in {args.clients} clients"
            )
            for client in clients:
                client.sign_in_all()
            work: queue.Queue[str] = queue.Queue()
            for reference in references:
                work.put(reference)
            threads = [threading.Thread(target=c.drive, args=(work,)) for c in clients]
            progress(f"{where}: {args.clients} clients completing {len(references) * 9} tasks")
            load_before = os.getloadavg()
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - start
            load_after = os.getloadavg()
            lookup.dispose()
        latencies = [t for c in clients for t in c.latencies]
        errors = [e for c in clients for e in c.errors]
        return Run(where, len(latencies), seconds, latencies, errors, load_before, load_after)
    finally:
        database.dispose()


def load(values: tuple[float, float, float]) -> str:
    """Format a load average as the 1, 5 and 15 minute figures."""
    return " ".join(f"{v:.2f}" for v in values)


def report_runs(report: Report, args: argparse.Namespace, runs: list[Run]) -> None:
    """Print the table of runs and any errors."""
    report.line(
        f"gunicorn workers: {args.workers}, clients: {args.clients}, cases: {args.cases} "
        f"({len(OFFICER_STEPS)} officers' tasks each, the main path), {os.cpu_count()} CPUs"
    )
    report.line()
    rows = [
        [
            run.where,
            str(run.completions),
            f"{run.seconds:.1f} s",
            f"{run.per_second:.1f}",
            ms(median(run.latencies)),
            ms(p95(run.latencies)),
            str(len(run.errors)),
            load(run.load_before),
            load(run.load_after),
        ]
        for run in runs
    ]
    header = ["database", "completions", "time", "per s", "p50", "p95", "errors"]
    report.table([*header, "load before", "load after"], rows)
    for run in runs:
        for error in run.errors[:10]:
            report.line(f"  {run.where}: {error}")


def main(argv: list[str] | None = None) -> None:
    """Run the throughput bench on SQLite and PostgreSQL and print the report."""
    args = parse_args(argv)
    report = Report(RESULTS)
    report.line("Throughput: POST /tasks/<id> over real HTTP to gunicorn (gunicorn_config)")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as directory:
        tmp = Path(directory)
        if not args.skip_sqlite:
            runs.append(run_on("SQLite", sqlite_url(tmp, "throughput"), args, tmp))
        if not args.skip_postgres:
            check_url(args.postgres_url)  # never the tests' database
            ensure_postgres_database(args.postgres_url)
            engine = create_engine(args.postgres_url)
            try:
                version = " ".join(server_version(engine).split()[:2])
            finally:
                engine.dispose()
            runs.append(run_on(version, args.postgres_url, args, tmp))
    report_runs(report, args, runs)
    report.close()
    if any(run.errors for run in runs):
        raise SystemExit("some tasks could not be completed: see the errors above")


if __name__ == "__main__":
    main()
