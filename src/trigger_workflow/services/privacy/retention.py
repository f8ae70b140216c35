"""The retention schedule (issue 13): erase closed cases' personal data once their time is up.

A closed case is kept for its authority's `retention_years` (none set: the service's default,
settings.retention_years, 6) counted from the day it closed (UK time); on the day it falls
due, every person's data in it is erased under the schedule (`erasures.erase`) and the case is
marked anonymised. Its shape, dates, outcome and the statutory figures stay.

Each case is erased in its own transaction: one that fails is logged and reported, and the
others still go. A dry run lists what would go, with the counts it would erase, and changes
nothing. The worker runs the schedule on every pass; `trigger-workflow retention run` runs it
by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.engine.calendar import UK_TIME
from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.casework import name_search
from trigger_workflow.services.privacy import erasures, personal_data
from trigger_workflow.store.models import Authority, Case

log = logging.getLogger(__name__)
DEFAULT_YEARS = 6
BATCH = 20  # cases erased per worker pass; the worker goes on at once while a batch is full


@dataclass(frozen=True)
class DueCase:
    """A closed case whose retention has run out: when it closed, when it fell due."""

    case_id: int
    reference: str
    closed_on: date
    due_on: date
    years: int
    counts: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class RetentionReport:
    """What one run of the schedule erased (or, in a dry run, would erase), and what failed."""

    today: date
    dry_run: bool
    erased: list[DueCase] = field(default_factory=list)
    failed: list[DueCase] = field(default_factory=list)
    more_waiting: bool = False


def add_years(day: date, years: int) -> date:
    """Return the same day `years` later (29 February falls due on 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def closed_on(closed_at: datetime) -> date:
    """Return the UK day a case closed."""
    return closed_at.astimezone(UK_TIME).date()


def due_cases(
    session: Session, today: date, default_years: int = DEFAULT_YEARS, limit: int | None = None
) -> list[DueCase]:
    """Return the closed, not yet anonymised cases due for erasure on `today`, oldest first."""
    years_of: dict[int | None, int] = {None: default_years}
    for authority_id, years in session.execute(select(Authority.id, Authority.retention_years)):
        years_of[authority_id] = years or default_years
    found: list[DueCase] = []
    for authority_id, years in years_of.items():
        # Closed on or before this day (one more for 29 February), then checked exactly below.
        last_day = add_years(today, -years) + timedelta(days=1)
        # In UTC: SQLite compares the stored moments as written, in UTC.
        before = datetime.combine(last_day + timedelta(days=1), time(0), UK_TIME).astimezone(UTC)
        query = (
            select(Case.id, Case.reference, Case.closed_at)
            .where(Case.status == "closed", Case.closed_at < before)
            .where(Case.anonymised_at.is_(None))
            .where(
                Case.authority_id.is_(None)
                if authority_id is None
                else Case.authority_id == authority_id
            )
            .order_by(Case.closed_at)
        )
        for case_id, reference, closed_at in session.execute(query):
            closed = closed_on(closed_at)
            due = add_years(closed, years)
            if due <= today:
                found.append(DueCase(case_id, reference, closed, due, years))
    found.sort(key=lambda d: (d.due_on, d.reference))
    return found[:limit] if limit is not None else found


def run(
    sessions: sessionmaker[Session],
    today: date,
    dry_run: bool,
    *,
    instance_path: Path,
    default_years: int = DEFAULT_YEARS,
    limit: int | None = None,
) -> RetentionReport:
    """Erase (or, in a dry run, count) each due case's personal data, one transaction each."""
    report = RetentionReport(today, dry_run)
    with sessions() as session:
        due = due_cases(session, today, default_years, None if limit is None else limit + 1)
    if limit is not None and len(due) > limit:
        due, report.more_waiting = due[:limit], True
    for item in due:
        try:
            counts = _one(sessions, item, dry_run, instance_path)
        except erasures.AlreadyAnonymised:
            continue  # another worker erased it meanwhile
        except Exception as error:
            log.exception("The retention schedule could not erase case %s", item.reference)
            report.failed.append(replace(item, error=_said(error)))
            continue
        report.erased.append(replace(item, counts=counts))
    if report.erased and not dry_run:
        _forget_old_pages(sessions)
    return report


def _said(error: Exception) -> str:
    """Say why a case could not be erased, in words that quote none of its data (a database
    error's message can hold the values it was writing)."""
    if isinstance(error, TriggerWorkflowError):
        return error.message
    return f"{type(error).__name__} (see the log)"


def _one(
    sessions: sessionmaker[Session], item: DueCase, dry_run: bool, instance_path: Path
) -> dict[str, Any]:
    with sessions() as session:
        case = session.get(Case, item.case_id)
        if case is None:
            raise erasures.ErasureRefused(f"Case {item.reference} is gone.")
        if dry_run:
            return erasures.preview(
                session,
                case,
                personal_data.SUBJECTS,
                under=erasures.SCHEDULE,
                instance_path=instance_path,
            )
        row = erasures.erase(
            session,
            case,
            personal_data.SUBJECTS,
            under=erasures.SCHEDULE,
            reason=(
                f"Retention schedule: closed on {item.closed_on:%d %B %Y}, kept {item.years} "
                f"years (due on {item.due_on:%d %B %Y})."
            ),
            actor=erasures.RETENTION_ACTOR,
            instance_path=instance_path,
        )
        return dict(row.counts)


def _forget_old_pages(sessions: sessionmaker[Session]) -> None:
    """On SQLite, merge the name search's index, then fold the write-ahead log into the database
    and empty it: the old versions of the erased rows' pages must not stay in the -wal file
    (secure_delete zeroes freed space), nor the erased names' trigrams in the index's older
    segments (a deletion is only a marker until its segments are merged)."""
    with sessions() as session:
        if session.get_bind().dialect.name == "sqlite":
            name_search.merge_index(session)
            session.commit()
            session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
