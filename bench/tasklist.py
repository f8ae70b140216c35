"""Fill the database with synthetic cases and time the task list (query and inbox page)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from database import BenchDatabase
from flask import Flask
from layers import sign_in
from sqlalchemy import func, insert, select, text
from timing import median, p95, timed

from trigger_workflow.engine.serialization import SERIALIZER_VERSION
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.accounts.authorities import default_authority
from trigger_workflow.services.casework import queries
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, CaseAgency, OpenTask

BATCH = 5_000
SET_SEQUENCE = (
    """SELECT setval(pg_get_serial_sequence('"case"', 'id'), (SELECT max(id) FROM "case"))"""
)
OPEN_SHARE = 0.30
PARTNER_AGENCIES = [
    "police",
    "housing",
    "environmental_health",
    "adult_social_care",
    "childrens_social_care",
    "health",
]
# Where open cases wait, roughly as in practice: task spec → (role, stage, share of open cases).
WAITING = {
    "acknowledge_application": ("coordinator", "Acknowledgement", 15),
    "record_complaints": ("coordinator", "Threshold decision", 10),
    "decide_threshold": ("coordinator", "Threshold decision", 10),
    "choose_agencies": ("coordinator", "Multi-agency case review", 8),
    "answer_information_request": ("partner", "Multi-agency case review", 25),
    "hold_review_meeting": ("chair", "Multi-agency case review", 10),
    "send_outcome_notice": ("coordinator", "Outcome notice", 7),
    "record_appeal": ("coordinator", "Appeal", 10),
    "decide_appeal": ("opcc", "Appeal", 5),
}
LANES = {
    "coordinator": "Coordinator",
    "partner": "Partner agency",
    "chair": "Review chair",
    "opcc": "OPCC appeals officer",
}
SPECS, WEIGHTS = list(WAITING), [weight for _, _, weight in WAITING.values()]
OUTCOMES = [
    "Closed: no appeal",
    "Closed: appeal confirmed",
    "Threshold not met",
    "Application rejected",
]


@dataclass(frozen=True)
class Fill:
    """How many rows one fill added, and how long it took."""

    cases: int
    open_tasks: int
    seconds: float


@dataclass(frozen=True)
class Timing:
    """Median and p95 in ms of one timed call, and how many rows it returned."""

    median: float
    p95: float
    rows: int


def fill(
    database: BenchDatabase, total: int, seed: int = 1, authorities: list[int] | None = None
) -> Fill:
    """Bulk-insert synthetic cases (Core executemany, in batches) until there are `total`,
    spread evenly over the given authorities (by default the first, a single council's)."""
    with database.sessions() as session:
        have = session.scalar(select(func.max(Case.id))) or 0
        version_id = processes.latest_version(session).id
        owners = authorities or [default_authority(session).id]
    rng = random.Random(seed + have)
    today = date.today()
    added_tasks = 0

    def load() -> None:
        nonlocal added_tasks
        with database.engine.begin() as connection:
            for case_rows, task_rows in _batches(rng, have + 1, total, version_id, today, owners):
                connection.execute(insert(Case), case_rows)
                if task_rows:
                    connection.execute(insert(OpenTask), task_rows)
                    shared = _shared(task_rows)
                    if shared:
                        connection.execute(insert(CaseAgency), shared)
                added_tasks += len(task_rows)
            _after_load(connection, database.dialect)

    _, took = timed(load)
    return Fill(total - have, added_tasks, took / 1000)


def _after_load(connection: Any, dialect: str) -> None:
    """On PostgreSQL move the id sequence past the inserted ids and refresh planner statistics."""
    if dialect != "postgresql":
        return
    connection.execute(text(SET_SEQUENCE))
    connection.execute(text('ANALYZE "case"'))
    connection.execute(text("ANALYZE open_task"))
    connection.execute(text("ANALYZE case_agency"))


def _batches(
    rng: random.Random, first: int, last: int, version_id: int, today: date, owners: list[int]
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Yield case rows and their open-task rows, BATCH cases at a time."""
    for start in range(first, last + 1, BATCH):
        case_rows: list[dict[str, Any]] = []
        task_rows: list[dict[str, Any]] = []
        for case_id in range(start, min(start + BATCH, last + 1)):
            is_open = rng.random() < OPEN_SHARE
            waiting = rng.choices(SPECS, weights=WEIGHTS)[0] if is_open else None
            case_rows.append(_case_row(rng, case_id, version_id, today, waiting))
            owner = owners[case_id % len(owners)]
            case_rows[-1]["authority_id"] = owner
            if waiting is not None:
                task_rows += _task_rows(rng, case_id, today, waiting, owner)
        yield case_rows, task_rows


def _shared(task_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the case_agency rows of the agencies asked for information (R22: shared with them)."""
    pairs = {(row["case_id"], row["agency"]) for row in task_rows if row["agency"]}
    return [{"case_id": case_id, "agency": agency} for case_id, agency in sorted(pairs)]


def _case_row(
    rng: random.Random, case_id: int, version_id: int, today: date, waiting: str | None
) -> dict[str, Any]:
    """Return one synthetic case: recent and open at a stage, or older and closed."""
    received = today - timedelta(days=rng.randint(0, 60) if waiting else rng.randint(30, 730))
    created = datetime.combine(received, time(9), tzinfo=UTC)
    return {
        "id": case_id,
        "reference": f"BX-{received.year}-{case_id:07d}",
        "process_version_id": version_id,
        "status": "open" if waiting else "closed",
        "stage": WAITING[waiting][1] if waiting else "Closed",
        "outcome": None if waiting else rng.choice(OUTCOMES),
        "applicant_name": f"Applicant {case_id}",
        "applicant_postcode": "DE1 1AA",
        "channel": rng.choice(["online", "phone", "email", "letter", "in_person"]),
        "submission_key": None,
        "received_on": received,
        "created_at": created,
        "updated_at": created + timedelta(days=rng.randint(0, 20)),
        "timer_due_at": None,
        "workflow_state": "{}",
        "serializer_version": SERIALIZER_VERSION,
        "lock_version": 1,
    }


def _task_rows(
    rng: random.Random, case_id: int, today: date, spec: str, authority_id: int
) -> list[dict[str, Any]]:
    """Return the open task of a case, or information requests to one or two agencies (each
    carrying the case's authority, as the application writes them)."""
    role, stage, _ = WAITING[spec]
    agencies = rng.sample(PARTNER_AGENCIES, rng.choice([1, 2])) if role == "partner" else [None]
    rows = []
    for agency in agencies:
        ready = today - timedelta(days=rng.randint(0, 25))
        rows.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "case_id": case_id,
                "authority_id": authority_id,
                "task_spec": spec,
                "name": spec.replace("_", " ").capitalize(),
                "stage": stage,
                "lane": LANES[role],
                "role": role,
                "agency": agency,
                "assignee": None,
                "due_on": ready + timedelta(days=rng.choice([5, 7, 14, 21, 28])),
                "created_at": datetime.combine(ready, time(10), tzinfo=UTC),
            }
        )
    return rows


def time_query(database: BenchDatabase, actor: Actor, runs: int, warmup: int = 5) -> Timing:
    """Time queries.open_tasks_for in a fresh session per call, after a warm-up."""

    def once() -> int:
        with database.sessions() as session:
            return len(queries.open_tasks_for(session, actor))

    for _ in range(warmup):
        once()
    samples = [timed(once) for _ in range(runs)]
    return Timing(median([s[1] for s in samples]), p95([s[1] for s in samples]), samples[0][0])


def time_inbox(app: Flask, username: str, runs: int, warmup: int = 5) -> Timing:
    """Time GET /tasks through the test client, signed in as the officer."""
    client = app.test_client()
    sign_in(client, username)

    def once() -> int:
        response = client.get("/tasks")
        if response.status_code != 200:
            raise RuntimeError(f"GET /tasks answered {response.status_code}")
        return response.text.count('href="/tasks/')

    for _ in range(warmup):
        once()
    samples = [timed(once) for _ in range(runs)]
    return Timing(median([s[1] for s in samples]), p95([s[1] for s in samples]), samples[0][0])
