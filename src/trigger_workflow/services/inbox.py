"""The officers' inbox: my tasks, my team's unclaimed tasks, all my team's tasks, and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar
from trigger_workflow.services.actors import PARTNER, Actor
from trigger_workflow.store.models import Case, OpenTask

MINE, UNCLAIMED, TEAM = "mine", "unclaimed", "team"
VIEWS = {TEAM: "All my team's tasks", MINE: "My tasks", UNCLAIMED: "Unclaimed"}
OVERDUE, DUE_SOON = "overdue", "soon"
DUE_FILTERS = {OVERDUE: "Overdue", DUE_SOON: "Due in the next 5 working days"}
SOON_DAYS = 5
SORTS = {
    "due": "Due date, soonest first",
    "-due": "Due date, latest first",
    "case": "Case reference",
    "stage": "Stage",
}


@dataclass(frozen=True)
class InboxQuery:
    """Which tasks an officer asks to see, and in which order."""

    view: str = TEAM
    stage: str = ""
    due: str = ""
    reference: str = ""
    sort: str = "due"
    limit: int = 200

    @classmethod
    def from_args(cls, args: Any, limit: int = 200) -> InboxQuery:
        """Read the query from request arguments; unknown values fall back to the defaults."""
        view, due, sort = args.get("view", TEAM), args.get("due", ""), args.get("sort", "due")
        return cls(
            view=view if view in VIEWS else TEAM,
            stage=args.get("stage", "").strip()[:100],
            due=due if due in DUE_FILTERS else "",
            reference=args.get("case", "").strip().upper()[:20],
            sort=sort if sort in SORTS else "due",
            limit=limit,
        )


@dataclass(frozen=True)
class InboxRow:
    """One task in the inbox, with its case and the working days left until it is due."""

    task: OpenTask
    reference: str
    applicant_name: str | None
    days_left: int | None

    @property
    def overdue(self) -> bool:
        """Return whether the task is past its due date."""
        return self.days_left is not None and self.days_left < 0


@dataclass(frozen=True)
class StageCount:
    """How many of the team's tasks wait at one stage."""

    stage: str
    team: int
    unclaimed: int
    mine: int
    overdue: int


@dataclass(frozen=True)
class Inbox:
    """The rows asked for and the counts of every view."""

    query: InboxQuery
    rows: list[InboxRow]
    stages: list[StageCount] = field(default_factory=list)

    def count(self, view: str) -> int:
        """Return how many tasks a view holds (before filters)."""
        return sum(getattr(s, view) for s in self.stages)

    @property
    def overdue(self) -> int:
        """Return how many of the team's tasks are overdue."""
        return sum(s.overdue for s in self.stages)


def inbox(session: Session, actor: Actor, query: InboxQuery, today: date | None = None) -> Inbox:
    """Return the tasks of one view of the officer's inbox, filtered and sorted, with counts."""
    today = today or calendar.today()
    rows = session.execute(_rows(actor, query, today))
    days_left: dict[date | None, int | None] = {}  # many tasks share a due date
    inbox_rows = []
    for task, reference, name in rows:
        if task.due_on not in days_left:
            days_left[task.due_on] = _days_left(task.due_on, today)
        inbox_rows.append(InboxRow(task, reference, name, days_left[task.due_on]))
    return Inbox(query, inbox_rows, stage_counts(session, actor, today))


def stage_counts(session: Session, actor: Actor, today: date) -> list[StageCount]:
    """Count the team's tasks by stage: all, unclaimed, the officer's own, overdue."""
    query = (
        select(
            OpenTask.stage,
            func.count(),
            func.count().filter(OpenTask.assignee.is_(None)),
            func.count().filter(OpenTask.assignee == actor.username),
            func.count().filter(OpenTask.due_on < today),
        )
        .where(*_team(actor))
        .group_by(OpenTask.stage)
        .order_by(OpenTask.stage)
    )
    return [StageCount(*row) for row in session.execute(query)]


def _team(actor: Actor) -> list[ColumnElement[bool]]:
    """Tasks offered to the officer's role, and for partner officers to their agency."""
    agency = OpenTask.agency == actor.agency if actor.role == PARTNER else OpenTask.agency.is_(None)
    return [OpenTask.role == actor.role, agency]


def _rows(actor: Actor, query: InboxQuery, today: date) -> Any:
    where = _team(actor)
    if query.view == MINE:
        where.append(OpenTask.assignee == actor.username)
    elif query.view == UNCLAIMED:
        where.append(OpenTask.assignee.is_(None))
    if query.stage:
        where.append(OpenTask.stage == query.stage)
    if query.due == OVERDUE:
        where.append(OpenTask.due_on < today)
    elif query.due == DUE_SOON:
        where.append(OpenTask.due_on.between(today, calendar.add_working_days(today, SOON_DAYS)))
    if query.reference:
        where.append(Case.reference.startswith(query.reference, autoescape=True))
    # Sorted by due date the query walks an index of (role, agency, due_on, created_at) and stops
    # at the limit; the other orders sort the team's rows first.
    orders: dict[str, list[Any]] = {
        "due": [OpenTask.due_on, OpenTask.created_at],
        "-due": [OpenTask.due_on.desc(), OpenTask.created_at.desc()],
        "case": [Case.reference, OpenTask.created_at],
        "stage": [OpenTask.stage, OpenTask.due_on, OpenTask.created_at],
    }
    order = orders[query.sort]
    return (
        select(OpenTask, Case.reference, Case.applicant_name)
        .join(Case, Case.id == OpenTask.case_id)
        .where(*where)
        .order_by(*order)
        .limit(query.limit)
    )


def _days_left(due_on: date | None, today: date) -> int | None:
    """Return working days from today to the due date: 0 is due today, negative is overdue."""
    if due_on is None:
        return None
    return calendar.working_days_between(today, due_on)
