"""Find the information requests (R14) nobody at their agency can answer, or nobody picked up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar
from trigger_workflow.services.accounts import access, actors
from trigger_workflow.services.accounts.actors import AGENCIES, PARTNER
from trigger_workflow.services.casework import labels
from trigger_workflow.store.models import Case, OpenTask

NO_OFFICER, NOT_PICKED_UP = "no_officer", "not_picked_up"


@dataclass(frozen=True)
class StalledRequest:
    """One agency's open task that cannot move on without the coordinator, and why."""

    reference: str
    task_id: str
    step: str
    agency: str
    reason: str  # NO_OFFICER or NOT_PICKED_UP
    due_on: date | None

    @property
    def agency_name(self) -> str:
        """Return the agency's name as officers know it."""
        return AGENCIES.get(self.agency, self.agency)

    @property
    def message(self) -> str:
        """Say what is stuck, why, and what the coordinator can do."""
        # "Answer information request" reads "the information request"; other steps by name.
        named = self.step.removeprefix("Answer ")
        step = named if named != self.step else f"'{self.step}' task"
        if self.reason == NO_OFFICER:
            return (
                f"Nobody at {self.agency_name} can answer the {step}: the agency has no active "
                f"officer. Ask the agency to name an officer and an administrator to add them "
                f"(or re-enable theirs); the task then appears in that officer's tasks."
            )
        due = labels.long_date(self.due_on) if self.due_on else "its due date"
        return (
            f"Nobody at {self.agency_name} has picked up the {step}, due on {due}. Chase the "
            f"agency, or reassign the task to one of its officers."
        )


def for_case(
    session: Session, reference: str, tasks: Iterable[OpenTask], today: date | None = None
) -> list[StalledRequest]:
    """Return the case's agency tasks with no active officer, or overdue and unclaimed."""
    today = today or calendar.today()
    agency_tasks = [t for t in tasks if t.role == PARTNER and t.agency]
    if not agency_tasks:
        return []
    staffed = actors.staffed_agencies(session)
    found = []
    for task in sorted(agency_tasks, key=lambda t: (t.agency or "", t.name)):
        assert task.agency is not None
        if task.agency not in staffed:
            reason = NO_OFFICER
        elif task.assignee is None and task.due_on is not None and task.due_on < today:
            reason = NOT_PICKED_UP
        else:
            continue
        found.append(
            StalledRequest(reference, task.id, task.name, task.agency, reason, task.due_on)
        )
    return found


def unstaffed(
    session: Session, limit: int = 50, actor: actors.Actor | None = None
) -> list[StalledRequest]:
    """Return open agency tasks, on any case (of this officer's authorities, if one is given),
    whose agency has no active officer (oldest first)."""
    staffed = actors.staffed_agencies(session)
    rows = session.execute(
        select(OpenTask, Case.reference)
        .join(Case, Case.id == OpenTask.case_id)
        .where(
            OpenTask.role == PARTNER,
            OpenTask.agency.is_not(None),
            OpenTask.agency.not_in(sorted(staffed)),
            Case.status == "open",
            *(access.tasks_in_authorities(actor) if actor else []),
        )
        .order_by(OpenTask.created_at, Case.reference)
        .limit(limit)
    ).all()
    return [
        StalledRequest(reference, t.id, t.name, t.agency or "", NO_OFFICER, t.due_on)
        for t, reference in rows
    ]
