"""Drive a case through the services (no HTTP) for the rule scenarios: apply, complete, look."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.engine import workflow as engine
from trigger_workflow.samples import ANSWERS, APPLICATION, OFFICERS
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.tasks import cases, timers
from trigger_workflow.services.tasks.records import load_workflow
from trigger_workflow.store.models import Case, Event, OpenTask

ACTORS = {u: actors.Actor(u, role, agency, name) for u, name, role, agency in OFFICERS}
OFFICER_FOR = {
    "coordinator": "carol",
    "chair": "ingrid",
    "opcc": "olu",
    ("partner", "police"): "pete",
    ("partner", "housing"): "hana",
    ("partner", "health"): "heath",
}


class ServiceCase:
    """One case driven through the service layer, as the officer whose role each task is."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.reference = ""

    def apply(self, received_on: date | None = None, data: dict[str, Any] | None = None) -> str:
        """Enter an application as the coordinator (R2), received on the given day."""
        with self.sessions() as session:
            result = cases.submit_application(
                session,
                cases.SubmitApplication(
                    data=data or APPLICATION, actor=ACTORS["carol"], received_on=received_on
                ),
            )
        self.reference = result.reference
        return self.reference

    def open_tasks(self) -> list[OpenTask]:
        """Return the case's open-task rows."""
        with self.sessions() as session:
            case = self._case(session)
            return sorted(case.open_tasks, key=lambda t: (t.task_spec, t.agency or ""))

    def open_specs(self) -> list[str]:
        """Return the task ids of the open tasks, sorted."""
        return [t.task_spec for t in self.open_tasks()]

    def task(self, spec: str, agency: str | None = None) -> OpenTask:
        """Return the open task with this task id (and agency)."""
        for task in self.open_tasks():
            if task.task_spec == spec and (agency is None or task.agency == agency):
                return task
        raise AssertionError(f"no open task {spec} ({agency}); open: {self.open_specs()}")

    def complete(
        self,
        spec: str,
        data: dict[str, Any] | None = None,
        agency: str | None = None,
        actor: str | None = None,
    ) -> cases.CaseResult:
        """Complete an open task with these answers (the sample answers by default)."""
        task = self.task(spec, agency)
        who = actor or OFFICER_FOR[(task.role, task.agency) if task.agency else task.role]
        answers = ANSWERS[spec] if data is None else data
        with self.sessions() as session:
            return cases.complete_task(
                session, cases.CompleteTask(self.reference, task.id, answers, ACTORS[who])
            )

    def state(self) -> Case:
        """Return the case row."""
        with self.sessions() as session:
            return self._case(session)

    def data(self, spec: str) -> dict[str, Any]:
        """Return the data an open task of the case holds (what flowed to it)."""
        with self.sessions() as session:
            workflow = load_workflow(self._case(session))
        for task in engine.human_tasks(workflow):
            if task.spec_name == spec:
                return dict(task.data)
        raise AssertionError(f"no open task {spec}")

    def final_data(self) -> dict[str, Any]:
        """Return the data of the main diagram's end, once the case is closed."""
        with self.sessions() as session:
            workflow = load_workflow(self._case(session))
        assert workflow.is_completed()
        return dict(workflow.data)

    def events(self, kind: str | None = None) -> list[Event]:
        """Return the case's events, in order."""
        with self.sessions() as session:
            case = self._case(session)
            query = select(Event).where(Event.case_id == case.id).order_by(Event.seq)
            if kind:
                query = query.where(Event.kind == kind)
            return list(session.scalars(query))

    def fire_timers(self) -> int:
        """Run the worker once, as `trigger-workflow worker --once` does."""
        return timers.fire_due_timers(self.sessions)

    def _case(self, session: Session) -> Case:
        case = session.scalar(select(Case).where(Case.reference == self.reference))
        assert case is not None
        _ = case.open_tasks
        return case
