"""The timer worker: fires each due timer once, even with two workers at once, and survives a bad case."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.test_timers import TIMER_DIAGRAM
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases, timers
from trigger_workflow.store.models import Case, Event

TIMER_FILES = ProcessFiles(
    {"timer.bpmn": TIMER_DIAGRAM, "lanes.toml": "[lanes]\n", "timescales.toml": "[tasks]\n"}
)
COORDINATOR = actors.Actor("carol", "coordinator", "council")


@contextmanager
def engine_clock(moment: datetime) -> Iterator[None]:
    """Make the engine believe it is `moment` (it reads the clock itself)."""
    with mock.patch("SpiffWorkflow.bpmn.specs.event_definitions.timer.datetime") as clock:
        clock.now.return_value = moment
        clock.fromisoformat = datetime.fromisoformat
        clock.combine = datetime.combine
        yield


def start_timer_cases(sessions: sessionmaker[Session], count: int) -> list[str]:
    """Deploy the five-day timer process and start `count` cases on it."""
    with sessions() as session:
        processes.deploy(session, TIMER_FILES, "test", process_id="timer_process")
        return [
            cases.start_case(session, cases.StartCase("timer_process", COORDINATOR)).reference
            for _ in range(count)
        ]


def timer_events(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Return how many timer_fired events each case has."""
    with sessions() as session:
        rows = session.execute(
            select(Case.reference, func.count(Event.id))
            .outerjoin(Event, (Event.case_id == Case.id) & (Event.kind == "timer_fired"))
            .group_by(Case.reference)
        )
        return {reference: count for reference, count in rows}


def test_timers_fire_only_when_due(sessions: sessionmaker[Session]) -> None:
    """Nothing fires before the due time; after it every case moves on and closes."""
    references = start_timer_cases(sessions, 3)
    assert timers.fire_due_timers(sessions) == 0
    later = datetime.now(UTC) + timedelta(days=6)
    with engine_clock(later):
        assert timers.fire_due_timers(sessions, now=later) == 3
    with sessions() as session:
        closed = session.scalars(select(Case).where(Case.reference.in_(references))).all()
        assert {(c.status, c.outcome, c.timer_due_at) for c in closed} == {("closed", "Done", None)}
    assert timer_events(sessions) == dict.fromkeys(references, 1)


def test_two_workers_fire_each_timer_once(sessions: sessionmaker[Session]) -> None:
    """Two workers at the same moment: every due case is fired exactly once."""
    references = start_timer_cases(sessions, 6)
    later = datetime.now(UTC) + timedelta(days=6)
    barrier = threading.Barrier(2)

    def work() -> None:
        barrier.wait()
        timers.fire_due_timers(sessions, now=later)

    with engine_clock(later):
        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        timers.fire_due_timers(sessions, now=later)  # a case skipped while busy is taken now
    assert timer_events(sessions) == dict.fromkeys(references, 1)


def test_a_failing_case_does_not_stop_the_others(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    """A case whose state cannot be restored is logged and left; the rest still fire."""
    references = start_timer_cases(sessions, 3)
    with sessions() as session:
        broken = session.scalar(select(Case).where(Case.reference == references[0]))
        assert broken is not None
        broken.workflow_state = "{not json"
        session.commit()
    later = datetime.now(UTC) + timedelta(days=6)
    with engine_clock(later):
        assert timers.fire_due_timers(sessions, now=later) == 2
    assert timer_events(sessions) == {references[0]: 0, references[1]: 1, references[2]: 1}
    assert "Could not fire the timers of case id" in caplog.text
