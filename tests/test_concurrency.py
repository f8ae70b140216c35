"""Two officers completing the same task at the same moment: one wins, one is told, nothing is half-written."""

from __future__ import annotations

import threading

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.errors import ConcurrentChange, TaskNotOpen
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case, Event


def race(sessions: sessionmaker[Session], command: cases.CompleteTask) -> list[object]:
    """Run the same completion on two connections released at the same instant."""
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def complete() -> None:
        with sessions() as session:
            barrier.wait()
            try:
                outcomes.append(cases.complete_task(session, command))
            except (TaskNotOpen, ConcurrentChange) as error:
                outcomes.append(error)

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_same_task_completed_twice_at_once(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Over two real connections, exactly one completion is saved; the other gets a conflict."""
    with sessions() as session:
        carol: Actor = actors.find_officer(session, "carol")
    for _ in range(5):
        case = CaseDriver(client, sessions)
        reference = case.apply()
        case.act_as("carol")
        task_id = case.task_id("Acknowledge application")
        command = cases.CompleteTask(reference, task_id, ANSWERS["Acknowledge application"], carol)

        outcomes = race(sessions, command)

        saved = [o for o in outcomes if isinstance(o, cases.CaseResult)]
        refused = [o for o in outcomes if isinstance(o, TaskNotOpen | ConcurrentChange)]
        assert len(saved) == 1 and len(refused) == 1, outcomes
        assert "Nothing you entered was saved" in str(refused[0])
        with sessions() as session:
            stored = session.scalar(select(Case).where(Case.reference == reference))
            assert stored is not None
            completions = session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.case_id == stored.id, Event.task_id == task_id)
            )
            assert completions == 1
            assert stored.lock_version == 3
            assert [t.task_spec for t in stored.open_tasks] == ["record_complaints"]
        case.check_round_trip()
