"""Find cases: by reference, applicant name or postcode, stage, status and overdue tasks, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, defer

from trigger_workflow.engine import calendar
from trigger_workflow.engine import workflow as engine
from trigger_workflow.services.casework import case_diagrams, name_search
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, OpenTask

PER_PAGE = 25
STATUSES = {"open": "Open", "closed": "Closed"}


@dataclass(frozen=True)
class CaseSearch:
    """What an officer searches cases for; empty fields do not filter."""

    text: str = ""
    stage: str = ""
    status: str = ""
    overdue: bool = False
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args: Any) -> CaseSearch:
        """Read a search from request arguments; values out of range fall back to the defaults."""
        status = args.get("status", "")
        page = args.get("page", "1")
        return cls(
            text=" ".join(args.get("q", "").split())[:100],
            stage=args.get("stage", "").strip()[:100],
            status=status if status in STATUSES else "",
            overdue=args.get("overdue") == "yes",
            page=max(1, min(int(page), 100_000)) if page.isdigit() else 1,
        )

    @property
    def filtered(self) -> bool:
        """Return whether any filter is set."""
        return bool(self.text or self.stage or self.status or self.overdue)


@dataclass(frozen=True)
class CaseListRow:
    """One case in the list, and whether any of its open tasks is overdue."""

    case: Case
    overdue: bool


@dataclass(frozen=True)
class CaseList:
    """One page of matching cases, newest change first, and how many match in all."""

    search: CaseSearch
    rows: list[CaseListRow]
    total: int
    stages: list[str]

    @property
    def pages(self) -> int:
        """Return the number of pages (at least one)."""
        return max(1, -(-self.total // self.search.per_page))

    def page_numbers(self) -> list[int | None]:
        """Return the pages to link to: first, last and two either side; None for a gap."""
        now, last = self.search.page, self.pages
        shown = sorted({1, last, *range(max(1, now - 2), min(last, now + 2) + 1)})
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - (numbers[-1] or 0) > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers

    @property
    def first(self) -> int:
        """Return the position of the first case on this page (1-based; 0 when none)."""
        return (self.search.page - 1) * self.search.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """Return the position of the last case on this page."""
        return self.first + len(self.rows) - 1 if self.rows else 0


def search_cases(
    session: Session,
    search: CaseSearch,
    today: date | None = None,
    visible: Sequence[ColumnElement[bool]] = (),
) -> CaseList:
    """Return one page of the cases matching the search, newest change first, with the total.

    `visible` narrows every query to the cases the officer may see (access control's condition).
    """
    today = today or calendar.today()
    where = [*visible, *_conditions(search, today, session.get_bind().dialect.name)]
    offset = (search.page - 1) * search.per_page
    if search.filtered:
        # Matches are found in one scan and counted as they are found; only then sorted. Walking
        # the newest-first index instead would visit most cases to find the few that match.
        matches = (
            select(Case.id, Case.updated_at, func.count().over().label("total"))
            .where(*where)
            .subquery()
        )
        found = session.execute(
            select(matches.c.id, matches.c.total)
            .order_by(matches.c.updated_at.desc(), matches.c.id.desc())
            .offset(offset)
            .limit(search.per_page)
        ).all()
        ids = [case_id for case_id, _ in found]
        total = found[0][1] if found else _count(session, where) if search.page > 1 else 0
        by_id = {c.id: c for c in session.scalars(_cases().where(Case.id.in_(ids)))} if ids else {}
        cases = [by_id[case_id] for case_id in ids]
    else:
        page = _cases().where(*where).order_by(Case.updated_at.desc(), Case.id.desc())
        cases = list(session.scalars(page.offset(offset).limit(search.per_page)))
        total = _count(session, where)
    late = _with_overdue_tasks(session, [c.id for c in cases], today)
    rows = [CaseListRow(case, case.id in late) for case in cases]
    return CaseList(search, rows, total, stage_choices(session))


def _cases() -> Select[tuple[Case]]:
    """Select cases without their workflow state (tens of KB each, never shown in the list)."""
    return select(Case).options(defer(Case.workflow_state))


def _count(session: Session, where: list[ColumnElement[bool]]) -> int:
    return session.scalar(select(func.count()).select_from(Case).where(*where)) or 0


def _with_overdue_tasks(session: Session, case_ids: list[int], today: date) -> set[int]:
    """Return which of these cases have an open task past its due date."""
    if not case_ids:
        return set()
    query = select(OpenTask.case_id).where(OpenTask.case_id.in_(case_ids), OpenTask.due_on < today)
    return set(session.scalars(query))


def stage_choices(session: Session) -> list[str]:
    """Return the stages of the newest process version, then "Closed", for the stage filter."""
    deployed = processes.deployed(processes.latest_version(session))
    return [*case_diagrams.stage_names(deployed), engine.FINISHED_STAGE]


def _conditions(search: CaseSearch, today: date, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if search.text:
        where.append(name_search.matches_text(search.text, dialect))
    if search.stage:
        where.append(Case.stage == search.stage)
    if search.status:
        where.append(Case.status == search.status)
    if search.overdue:
        where.append(_has_overdue_task(today))
    return where


def _has_overdue_task(today: date) -> ColumnElement[bool]:
    # IN rather than EXISTS: both databases then gather the overdue tasks' cases once (a hash or
    # an automatic index) instead of probing the tasks for every open case.
    return Case.id.in_(select(OpenTask.case_id).where(OpenTask.due_on < today))
