"""Find cases: by reference, applicant name or postcode, stage, status and overdue tasks, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar
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


def search_cases(session: Session, search: CaseSearch, today: date | None = None) -> CaseList:
    """Return one page of the cases matching the search, newest change first, with the total."""
    today = today or calendar.today()
    where = _conditions(search, today)
    total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    overdue = _has_overdue_task(today)
    query = (
        select(Case, overdue)
        .where(*where)
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .offset((search.page - 1) * search.per_page)
        .limit(search.per_page)
    )
    rows = [CaseListRow(case, bool(late)) for case, late in session.execute(query)]
    return CaseList(search, rows, total, open_stages(session))


def open_stages(session: Session) -> list[str]:
    """Return the stages open cases are at, for the stage filter."""
    query = select(Case.stage).where(Case.status == "open").group_by(Case.stage)
    return sorted(session.scalars(query))


def _conditions(search: CaseSearch, today: date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if search.text:
        text = search.text
        where.append(
            or_(
                Case.reference.startswith(text.upper(), autoescape=True),
                func.upper(Case.applicant_postcode).startswith(text.upper(), autoescape=True),
                func.lower(Case.applicant_name).contains(text.lower(), autoescape=True),
            )
        )
    if search.stage:
        where.append(Case.stage == search.stage)
    if search.status:
        where.append(Case.status == search.status)
    if search.overdue:
        where.append(_has_overdue_task(today))
    return where


def _has_overdue_task(today: date) -> Any:
    return exists().where(OpenTask.case_id == Case.id, OpenTask.due_on < today)
