"""The officers' inbox: my tasks, my team's unclaimed tasks, all my team's tasks, and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import COORDINATOR, PARTNER, Actor
from trigger_workflow.services.casework import case_diagrams, stalled
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import escalations
from trigger_workflow.store.models import Case, OpenTask

MINE, UNCLAIMED, TEAM = "mine", "unclaimed", "team"
VIEWS = {TEAM: "All my team's tasks", MINE: "My tasks", UNCLAIMED: "Unclaimed"}
OVERDUE, DUE_SOON = "overdue", "soon"
DUE_FILTERS = {OVERDUE: "Overdue", DUE_SOON: "Due in the next 5 working days"}
SOON_DAYS = 5
COUNT_CAP = 999
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
    page: int = 1

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
            page=_page_number(args.get("page", "1")),
        )


@dataclass(frozen=True)
class DueStatus:
    """Where a task stands against its due date, on one day.

    Due today only on the due date; overdue from the day after, whatever day of the week that
    is (the same rule as the overdue filter and the escalation timers); otherwise the working
    days left.
    """

    due_on: date
    today: date

    @property
    def overdue(self) -> bool:
        """Return whether the due date has passed."""
        return self.due_on < self.today

    @property
    def due_today(self) -> bool:
        """Return whether today is the due date."""
        return self.due_on == self.today

    @property
    def working_days_left(self) -> int:
        """Return the working days after today up to and including the due date (0 if past)."""
        return max(0, calendar.working_days_between(self.today, self.due_on))

    @property
    def working_days_late(self) -> int:
        """Return the working days after the due date up to and including today."""
        return max(0, calendar.working_days_between(self.due_on, self.today))


def due_status(due_on: date | None, today: date | None = None) -> DueStatus | None:
    """Return a due date's status today (None for a task with no due date)."""
    return None if due_on is None else DueStatus(due_on, today or calendar.today())


@dataclass(frozen=True)
class InboxRow:
    """One task in the inbox, with its case, what it is about, and how it stands to its due date."""

    task: OpenTask
    reference: str
    applicant_name: str | None
    due: DueStatus | None
    title: str = ""  # the task's name, saying which step an escalation is about
    stalled: str = ""  # for the coordinator: the agencies of the case nobody can answer for

    @property
    def overdue(self) -> bool:
        """Return whether the task is past its due date."""
        return self.due is not None and self.due.overdue


@dataclass(frozen=True)
class Inbox:
    """The rows asked for, the count of each view and of overdue tasks, and the stages to filter by."""

    query: InboxQuery
    rows: list[InboxRow]
    counts: dict[str, int] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)
    more: bool = False  # whether a next page follows
    # For the coordinator: agency tasks on open cases whose agency has no active officer (R14).
    stalled: list[stalled.StalledRequest] = field(default_factory=list)

    @property
    def first(self) -> int:
        """Return the position of this page's first task (1-based)."""
        return (self.query.page - 1) * self.query.limit + 1

    def count(self, view: str) -> str:
        """Return how many tasks a view holds (before filters), e.g. '12' or '999+'."""
        return _shown(self.counts.get(view, 0))

    @property
    def overdue(self) -> str:
        """Return how many of the team's tasks are overdue, '' when none."""
        return _shown(self.counts.get(OVERDUE, 0)) if self.counts.get(OVERDUE) else ""


def inbox(session: Session, actor: Actor, query: InboxQuery, today: date | None = None) -> Inbox:
    """Return the tasks of one view of the officer's inbox, filtered and sorted, with counts."""
    today = today or calendar.today()
    rows = session.execute(_rows(actor, query, today)).all()
    more = len(rows) > query.limit
    shown = rows[: query.limit]
    titles = escalations.titles(session, [(task, reference) for task, reference, _ in shown])
    stuck = stalled.unstaffed(session, actor=actor) if actor.role == COORDINATOR else []
    stuck_agencies: dict[str, list[str]] = {}
    for request in stuck:
        stuck_agencies.setdefault(request.reference, []).append(request.agency_name)
    inbox_rows = [
        InboxRow(
            task,
            reference,
            name,
            due_status(task.due_on, today),
            titles[task.id],
            ", ".join(sorted(set(stuck_agencies.get(reference, [])))),
        )
        for task, reference, name in shown
    ]
    deployed = processes.deployed(processes.latest_version(session))
    stages = case_diagrams.stage_names(deployed)
    counts = view_counts(session, actor, today)
    return Inbox(query, inbox_rows, counts, stages, more, stuck)


def view_counts(session: Session, actor: Actor, today: date) -> dict[str, int]:
    """Count the team's tasks, the unclaimed ones, the officer's own and the overdue ones.

    Each count stops at COUNT_CAP + 1 rows, read along an index: an inbox with tens of thousands
    of tasks shows "999+" instead of scanning them all on every page view.
    """
    team = _team(actor)
    wanted = {
        TEAM: team,
        UNCLAIMED: [*team, OpenTask.assignee.is_(None)],
        MINE: [OpenTask.assignee == actor.username, *_authorities(actor)],
        OVERDUE: [*team, OpenTask.due_on < today],
    }
    counts = [
        select(func.count())
        .select_from(
            select(literal(1)).select_from(OpenTask).where(*w).limit(COUNT_CAP + 1).subquery()
        )
        .scalar_subquery()
        for w in wanted.values()
    ]
    values = session.execute(select(*counts)).one()
    return dict(zip(wanted, values, strict=True))


def _page_number(text: str) -> int:
    return max(1, min(int(text), 10_000)) if text.isdigit() else 1


def _shown(count: int) -> str:
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)


def _team(actor: Actor) -> list[ColumnElement[bool]]:
    """Tasks offered to the officer's role, and for partner officers to their agency."""
    agency = OpenTask.agency == actor.agency if actor.role == PARTNER else OpenTask.agency.is_(None)
    return [OpenTask.role == actor.role, agency, *_authorities(actor)]


def _authorities(actor: Actor) -> list[ColumnElement[bool]]:
    """Only the tasks of cases of the authorities this officer serves (issue 12)."""
    return access.tasks_in_authorities(actor)


def _rows(actor: Actor, query: InboxQuery, today: date) -> Any:
    # "My tasks" are the officer's whatever the team (read along the assignee's index).
    mine = [OpenTask.assignee == actor.username, *_authorities(actor)]
    where = mine if query.view == MINE else _team(actor)
    if query.view == UNCLAIMED:
        where.append(OpenTask.assignee.is_(None))
    if query.stage:
        where.append(OpenTask.stage == query.stage)
    if query.due == OVERDUE:
        where.append(OpenTask.due_on < today)
    elif query.due == DUE_SOON:
        where.append(OpenTask.due_on.between(today, calendar.add_working_days(today, SOON_DAYS)))
    if query.reference:
        where.append(Case.reference.startswith(query.reference, autoescape=True))
    # Sorted by due date the query walks an index of (role, agency, due_on, created_at) — with
    # the authority after the agency for an officer of one council — and stops at the limit; the
    # other orders sort the team's rows first.
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
        .offset((query.page - 1) * query.limit)
        .limit(query.limit + 1)  # one more, to know whether a next page follows
    )
