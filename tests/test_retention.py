"""The retention schedule (issue 13): a closed case's personal data is erased everywhere once its
authority's retention period has run from its closure; open cases are never touched.

The seeded case (tests/retention_helpers.py) is driven through the real process to its close on
15 December 2026; the service's default keeps it 6 years, so it falls due on 15 December 2032.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.retention_helpers import (
    APPLICANT_VALUES,
    CASE_VALUES,
    SEEDED,
    found_in_database,
    found_in_files,
    seeded_case,
)
from tests.test_rules_deadlines import london
from trigger_workflow.services.audit import figures, verify
from trigger_workflow.services.privacy import erasures, retention
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import records
from trigger_workflow.store.models import Authority, Case, CaseSecret, Erasure, Event, Letter

RECEIVED = date(2026, 12, 15)
CLOSED = london(2026, 12, 15, 10, 0)
DUE = date(2032, 12, 15)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """The instance folder: uploads are kept under it."""
    return tmp_path / "instance"


def _closed_case(sessions: sessionmaker[Session], instance: Path) -> str:
    with time_machine.travel(CLOSED, tick=False):
        reference = seeded_case(sessions, instance, RECEIVED)
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.status == "closed"
    return reference


def _figures(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        result = figures.figures(session, figures.Period.financial_year(RECEIVED))
        return figures.figures_csv(result)


def _in_sqlite_file(sessions: sessionmaker[Session]) -> list[str]:
    """Return the seeded values still in the bytes of a SQLite database's files (freed pages,
    the write-ahead log); nothing to read on PostgreSQL."""
    url = sessions.kw["bind"].url
    if url.get_backend_name() != "sqlite":
        return []
    raw = b"".join(
        path.read_bytes()
        for path in (Path(url.database), Path(url.database + "-wal"))
        if path.exists()
    )
    return [value for value in SEEDED if value.encode() in raw]


def _run(sessions: sessionmaker[Session], instance: Path, today: date, dry_run: bool = False):
    with time_machine.travel(london(today.year, today.month, today.day, 2, 0), tick=False):
        return retention.run(sessions, today, dry_run, instance_path=instance)


def test_after_retention_no_seeded_value_is_left_in_any_table_or_file(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, instance: Path
) -> None:
    """R20 and issue 13: on its due day the schedule erases every person's data of the closed
    case from every table, column and file, keeps the statutory figures exactly, and the
    workflow still restores."""
    reference = _closed_case(sessions, instance)
    assert set(found_in_database(sessions, SEEDED)) == set(SEEDED)  # the search finds them
    assert found_in_files(instance, ["Tobias Wrenfield"])  # and the upload
    figures_before = _figures(sessions)

    report = _run(sessions, instance, DUE)

    assert [(d.reference, d.closed_on, d.due_on) for d in report.erased] == [
        (reference, CLOSED.date(), DUE)
    ]
    assert report.failed == []
    assert found_in_database(sessions, SEEDED) == {}
    assert found_in_files(instance, SEEDED) == {}
    assert _in_sqlite_file(sessions) == []
    assert _figures(sessions) == figures_before
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.anonymised_at is not None
        assert (case.status, case.outcome, case.received_on) == (
            "closed",
            "Closed: no appeal",
            RECEIVED,
        )
        records.load_workflow(case)  # still restores
        assert verify.verify_cases(session, [reference]).broken == []  # the chain verifies
        erasure = session.scalar(select(Erasure).where(Erasure.case_id == case.id))
        assert erasure is not None and erasure.under == "schedule"
        assert erasure.counts["events"] > 0 and erasure.counts["letters"] >= 3
        assert erasure.counts["documents"] == 1 and erasure.counts["letter_pdfs_remade"] >= 3
        assert erasure.counts["legacy_events"] == []  # every event was sealed as recorded
        assert all(isinstance(n, int) for k, n in erasure.counts.items() if k != "legacy_events")
        salts = session.execute(
            select(CaseSecret.subject, CaseSecret.salt).where(CaseSecret.case_id == case.id)
        ).all()
        assert sorted(salts) == [("applicant", None), ("case", None), ("victim", None)]
        last = session.scalar(
            select(Event).where(Event.case_id == case.id).order_by(Event.seq.desc()).limit(1)
        )
        assert last is not None and last.kind == "personal_data_erased"
        assert last.detail == {
            "erasure": erasure.id,
            "subjects": ["applicant", "case", "responsible_adult", "victim"],
            "under": "schedule",
        }
        assert all(letter.pdf for letter in session.scalars(select(Letter)))


def test_nothing_is_erased_the_day_before_it_falls_due(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, instance: Path
) -> None:
    """A case closed on 15 December 2026 is kept until 15 December 2032 (6 years)."""
    _closed_case(sessions, instance)
    report = _run(sessions, instance, date(2032, 12, 14))
    assert report.erased == [] and report.failed == []
    assert set(found_in_database(sessions, SEEDED)) == set(SEEDED)


def test_an_authoritys_own_retention_period_counts(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, instance: Path
) -> None:
    """An authority keeping closed cases 2 years has them erased 2 years after closure."""
    reference = _closed_case(sessions, instance)
    with sessions() as session:
        for authority in session.scalars(select(Authority)):
            authority.retention_years = 2
        session.commit()
    assert _run(sessions, instance, date(2028, 12, 14)).erased == []
    report = _run(sessions, instance, date(2028, 12, 15))
    assert [d.reference for d in report.erased] == [reference]
    assert found_in_database(sessions, APPLICANT_VALUES + CASE_VALUES) == {}


def test_a_dry_run_lists_what_would_go_and_changes_nothing(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, instance: Path
) -> None:
    """The dry run names the case, its closing and due days and the counts, and changes nothing
    (no row, no file)."""
    reference = _closed_case(sessions, instance)
    before = found_in_database(sessions, SEEDED)
    files_before = sorted(p.name for p in instance.rglob("*") if p.is_file())

    report = _run(sessions, instance, DUE, dry_run=True)

    assert [(d.reference, d.closed_on, d.due_on) for d in report.erased] == [
        (reference, CLOSED.date(), DUE)
    ]
    assert report.erased[0].counts["events"] > 0 and report.erased[0].counts["documents"] == 1
    assert found_in_database(sessions, SEEDED) == before
    assert sorted(p.name for p in instance.rglob("*") if p.is_file()) == files_before
    with sessions() as session:
        assert session.scalars(select(Erasure)).all() == []
        assert session.scalars(select(Case.anonymised_at)).all() == [None]


def test_a_case_still_open_is_never_touched(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, instance: Path
) -> None:
    """A case still in review when its would-be retention passes keeps every value."""
    with time_machine.travel(CLOSED, tick=False):
        seeded_case(sessions, instance, RECEIVED, close=False)
    before = found_in_database(sessions, SEEDED)
    report = _run(sessions, instance, date(2040, 1, 1))
    assert report.erased == [] and report.failed == []
    assert found_in_database(sessions, SEEDED) == before
    with sessions() as session:
        assert session.scalars(select(Erasure)).all() == []


def test_one_case_failing_is_left_whole_and_the_others_still_go(
    sessions: sessionmaker[Session],
    deployed: processes.DeployResult,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two cases fall due; the first fails after its stores were scrubbed (destroying its
    salts): it is reported, and left exactly as it was (rows, letters, its upload's file), and
    the second is erased."""
    first = _closed_case(sessions, instance)
    second = _closed_case(sessions, instance)
    real_destroy = erasures.salts.destroy

    def destroy(session: Session, case: Case, subjects: object) -> None:
        if case.reference == first:
            raise RuntimeError("the disk is full")
        real_destroy(session, case, subjects)  # type: ignore[arg-type]

    monkeypatch.setattr(erasures.salts, "destroy", destroy)
    with sessions() as session:
        before = _rows_of(session, first)
    files_before = sorted(p.name for p in instance.rglob("*") if p.is_file())

    report = _run(sessions, instance, DUE)

    assert [(d.reference, d.error) for d in report.failed] == [
        (first, "RuntimeError (see the log)")
    ]
    assert [d.reference for d in report.erased] == [second]
    with sessions() as session:
        assert _rows_of(session, first) == before
        assert _rows_of(session, second)[0] == ("[erased]", "[erased]")
    assert len(files_before) == 2
    assert sorted(p.name for p in instance.rglob("*") if p.is_file()) != files_before
    assert len([p for p in instance.rglob("*") if p.is_file()]) == 1  # the first's is kept


def _rows_of(session: Session, reference: str) -> tuple[object, ...]:
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    letters = session.scalars(select(Letter.html).where(Letter.case_id == case.id)).all()
    events = session.scalars(select(Event.data).where(Event.case_id == case.id)).all()
    return (case.applicant_name, case.applicant_postcode), letters, events, case.workflow_state
