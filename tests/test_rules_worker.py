"""The timer worker as separate OS processes: each due escalation fires once, kill or no kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from tests.test_rules_deadlines import london
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, Event, OpenTask

WORKER = str(Path(sys.executable).parent / "trigger-workflow")
CASES = 8


def overdue_cases(sessions: sessionmaker[Session]) -> list[str]:
    """Start cases on 23 December 2025 whose acknowledgements fall due on 2 January 2026."""
    references = []
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        for _ in range(CASES):
            case = ServiceCase(sessions)
            references.append(case.apply())
    return references


@dataclass
class Worker:
    """A `trigger-workflow worker` process and the file its output goes to."""

    process: subprocess.Popen[str]
    log: IO[str]

    def output(self, timeout: float) -> str:
        """Wait for the worker to end and return what it wrote."""
        self.process.wait(timeout=timeout)
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        return text


def worker(database_url: str, tmp_path: Path, *args: str) -> Worker:
    """Start `trigger-workflow worker` in its own process on the test database.

    Its output goes to a file, not a pipe: with two workers running, a pipe not yet read fills,
    and a worker blocked writing its log while holding a lock stops the other one too.
    """
    env = os.environ | {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    log = tempfile.TemporaryFile("w+", dir=tmp_path)  # noqa: SIM115 (closed by Worker.output)
    process = subprocess.Popen(
        [WORKER, "worker", *args], env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    return Worker(process, log)


def fired_per_case(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Return how many timer_fired events each case has."""
    with sessions() as session:
        rows = session.execute(
            select(Case.reference, func.count(Event.id))
            .outerjoin(Event, (Event.case_id == Case.id) & (Event.kind == "timer_fired"))
            .group_by(Case.reference)
        )
        return {reference: count for reference, count in rows}


def escalations_per_case(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Return how many open escalation tasks each case has."""
    with sessions() as session:
        rows = session.execute(
            select(Case.reference, func.count(OpenTask.id))
            .outerjoin(
                OpenTask,
                (OpenTask.case_id == Case.id) & (OpenTask.task_spec == "handle_escalation"),
            )
            .group_by(Case.reference)
        )
        return {reference: count for reference, count in rows}


def test_r5_two_worker_processes_fire_each_due_escalation_once(
    sessions: sessionmaker[Session],
    deployed: processes.DeployResult,
    database_url: str,
    tmp_path: Path,
) -> None:
    """R5: two `worker --once` processes started together on the same database fire every due
    escalation exactly once between them (SKIP LOCKED on PostgreSQL); a third run finds nothing."""
    references = overdue_cases(sessions)
    assert fired_per_case(sessions) == dict.fromkeys(references, 0)
    first, second = (
        worker(database_url, tmp_path, "--once"),
        worker(database_url, tmp_path, "--once"),
    )
    outputs = [first.output(timeout=300), second.output(timeout=300)]
    assert (first.process.returncode, second.process.returncode) == (0, 0), outputs
    assert fired_per_case(sessions) == dict.fromkeys(references, 1)
    assert escalations_per_case(sessions) == dict.fromkeys(references, 1)
    again = worker(database_url, tmp_path, "--once")
    output = again.output(timeout=300)
    assert again.process.returncode == 0 and "Fired" not in output, output
    assert fired_per_case(sessions) == dict.fromkeys(references, 1)


def test_r5_worker_killed_at_any_moment_then_restarted_fires_each_once(
    sessions: sessionmaker[Session],
    deployed: processes.DeployResult,
    database_url: str,
    tmp_path: Path,
) -> None:
    """R5: a worker killed outright (SIGKILL) while it fires leaves each case fired or untouched,
    never half; the restarted worker fires the rest, and every case is escalated exactly once."""
    references = overdue_cases(sessions)
    running = worker(database_url, tmp_path, "--interval", "3600")
    deadline = time.monotonic() + 120
    while sum(fired_per_case(sessions).values()) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    running.process.send_signal(signal.SIGKILL)
    running.output(timeout=60)
    fired = fired_per_case(sessions)
    assert set(fired.values()) <= {0, 1}
    assert escalations_per_case(sessions) == fired
    restarted = worker(database_url, tmp_path, "--once")
    output = restarted.output(timeout=300)
    assert restarted.process.returncode == 0, output
    assert fired_per_case(sessions) == dict.fromkeys(references, 1)
    assert escalations_per_case(sessions) == dict.fromkeys(references, 1)
