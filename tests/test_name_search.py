"""The case list's text search through its indexes (issue 15, item 4): the same cases as the plain
scan found — names by any part in any case, references and postcodes by their start — only the
cases the officer may see, names kept in step when they change, and an index in every plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import time_machine
from alembic import command
from sqlalchemy import ColumnElement, create_engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tests import old_schema
from tests.authorities_helpers import two_authorities
from tests.old_schema import FIRST_VERSION, empty_database
from tests.retention_helpers import seeded_case
from tests.test_rules_deadlines import london
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import access, actors
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.casework import case_list, name_search
from trigger_workflow.services.privacy import erasures
from trigger_workflow.services.privacy.personal_data import ERASED
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases
from trigger_workflow.store import db
from trigger_workflow.store.models import Case

TRICKY = 'Seán O\'Brien "AND" NEAR* (x)'  # FTS5 query syntax, quotes and a non-ASCII letter


def _apply(session: Session, name: str, postcode: str, authority_id: int | None = None) -> str:
    applicant = dict(APPLICATION["applicant"], name=name, postcode=postcode)
    application = dict(APPLICATION, applicant=applicant)
    submitted = cases.SubmitApplication(application, actors.PUBLIC, None, None, authority_id)
    return cases.submit_application(session, submitted).reference


def _found(session: Session, words: str, officer: str = "carol") -> set[str]:
    actor = actors.find_officer(session, officer)
    search = case_list.CaseSearch(text=words)
    found = case_list.search_cases(session, search, visible=[access.visible_cases(actor)])
    assert found.total == len(found.rows)
    return {row.case.reference for row in found.rows}


@pytest.mark.today("2026-12-07")
def test_names_are_found_by_any_part_in_any_case_references_and_postcodes_by_their_start(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """Part of a name, any case, any letter (ś as Ś: both databases, as PostgreSQL did), text
    with quotes and FTS5 operators as plain text, LIKE's wildcards as plain text, short text
    (under three letters: no trigram), a reference's start and a postcode's start."""
    with sessions() as session:
        ann = _apply(session, "Ann Smith", "DE1 2AB")
        zofia = _apply(session, "Zofia Śmiałek", "NG7 1XY")
        sean = _apply(session, TRICKY, "S1 4QQ")
        bob = _apply(session, "Bob Jones", "de22 3zz")
        expected = {
            "smi": {ann},
            "ANN SMITH": {ann},
            "śmiałek": {zofia},
            "ŚMIAŁEK": {zofia},
            "Zofia Śm": {zofia},
            TRICKY: {sean},
            '"and" near*': {sean},
            "o'brien": {sean},
            "NEAR* (": {sean},
            "a_n": set(),
            "10%": set(),
            "jo": {bob},
            "ś": {zofia},
            "an": {ann, sean},
            "ó": set(),
            ann: {ann},
            ann[:4].lower(): {ann, zofia, sean, bob},
            "de1": {ann},
            "ng7 1x": {zofia},
            "DE22": {bob},
            "nobody": set(),
        }
        found = {words: _found(session, words) for words in expected}
    assert found == expected


@pytest.mark.today("2026-12-07")
def test_a_search_keeps_to_the_cases_the_officer_may_see(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R22 and issue 12: Derby's coordinator does not find Chesterfield's applicant of the same
    name; the police officer (not asked about either case) finds neither."""
    county = two_authorities(sessions)
    with sessions() as session:
        derby = _apply(session, "Priya Kowalczyk", "DE1 1AA", county.derby)
        chesterfield = _apply(session, "Priya Kowalczyk", "S40 1LP", county.chesterfield)
        assert _found(session, "kowalczyk") == {derby}
        assert _found(session, "kowalczyk", officer="cath") == {chesterfield}
        assert _found(session, "kowalczyk", officer="pete") == set()


@pytest.mark.today("2026-12-07")
def test_a_renamed_or_removed_applicant_is_no_longer_found_by_the_old_name(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """The index follows every change of the name, by the ORM or by plain SQL (a deleted row:
    in the migration test, cases here hold events)."""
    with sessions() as session:
        reference = _apply(session, "Harriet Oldname", "DE1 2AB")
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        case.applicant_name = "Harriet Newname"
        session.commit()
        assert (_found(session, "oldname"), _found(session, "newname")) == (set(), {reference})
        session.execute(update(Case).values(applicant_name=None))
        session.commit()
        assert _found(session, "newname") == set()


@pytest.mark.today("2027-02-01")
def test_an_erased_applicant_is_no_longer_found(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, tmp_path: Path
) -> None:
    """Issue 13's erasure replaces the name in the case row: the search forgets it at once."""
    with time_machine.travel(london(2026, 12, 15, 10, 0), tick=False):
        reference = seeded_case(sessions, tmp_path, date(2026, 12, 15), close=True)
    with sessions() as session:
        assert _found(session, "quillfeather") == {reference}
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        erasures.erase(
            session, case, {"applicant"}, under=erasures.REQUEST, reason="Asked by phone",
            actor=actors.find_officer(session, "adam"), instance_path=tmp_path,
        )  # fmt: skip
        assert case.applicant_name == ERASED
        assert _found(session, "quillfeather") == set()
        assert _found(session, "morwenna") == set()


def _plan(session: Session, condition: ColumnElement[bool]) -> str:
    """Return the database's plan for the ids of the cases meeting the condition."""
    connection = session.connection()
    compiled = (
        select(Case.id)
        .where(condition)
        .compile(connection, compile_kwargs={"render_postcompile": True})
    )
    if connection.dialect.name == "sqlite":
        values = tuple(compiled.params[name] for name in compiled.positiontup or [])
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
        return "\n".join(row[-1] for row in rows)
    connection.execute(text("SET LOCAL enable_seqscan = off"))  # a test's table is tiny
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    return "\n".join(row[0] for row in rows)


@pytest.mark.today("2026-12-07")
def test_the_search_is_answered_by_the_indexes(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """Not a timing: each arm of the search reads an index — SQLite the trigram FTS5 table and
    the NOCASE indexes, beside a council's access condition (without statistics it would walk
    the council's cases otherwise); PostgreSQL a BitmapOr with the trigram index (with the
    access condition it chooses by its statistics: at 100,000 cases the same BitmapOr, see
    docs/benchmarks.md) — and the case table is never read whole. Text under three letters
    cannot use trigrams and reads the council's cases, as every search did before."""
    coordinator = Actor("c", "coordinator", "council", "", frozenset({1}))
    visible = access.visible_cases(coordinator)
    with sessions() as session:
        dialect = session.get_bind().dialect.name
        matches = name_search.matches_text("smith", dialect)
        plan = _plan(session, visible & matches if dialect == "sqlite" else matches)
        short = _plan(session, visible & name_search.matches_text("sm", dialect))
    if dialect == "sqlite":
        assert "SCAN case_name_search VIRTUAL TABLE INDEX" in plan
        assert "ix_case_reference_prefix (reference>? AND reference<?)" in plan
        assert "ix_case_postcode_prefix (applicant_postcode>? AND applicant_postcode<?)" in plan
        assert "SCAN case\n" not in plan + "\n"
        assert "SEARCH case USING INDEX ix_case_authority_id (authority_id=?)\n" in short + "\n"
    else:
        assert "BitmapOr" in plan
        assert "Bitmap Index Scan on ix_case_applicant_name_trgm" in plan
        assert "Bitmap Index Scan on ix_case_reference_prefix" in plan
        assert "Bitmap Index Scan on ix_case_postcode_prefix" in plan
        assert "Seq Scan" not in plan


OLD_CASE = text(
    'INSERT INTO "case" (id, reference, authority_id, process_version_id, status, stage, '
    "applicant_name, applicant_postcode, received_on, created_at, updated_at, workflow_state, "
    "serializer_version, lock_version, events_recorded, last_event_hash) VALUES (:id, :ref, 1, "
    "1, 'open', 'Acknowledgement', :name, :postcode, '2026-12-01', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, '{}', '1', 1, 0, '')"
)


@pytest.fixture
def release_0019(tmp_path: Path) -> str:
    """An empty database to bring to the schema before the search's indexes."""
    return empty_database(tmp_path, "release_0019")


def test_existing_names_are_indexed_when_the_database_migrates(release_0019: str) -> None:
    """From 0019 with cases: after the upgrade each is found by part of its name (the index is
    filled from the existing rows), by its reference and postcode; a case added or deleted
    afterwards is found or forgotten."""
    command.upgrade(db.alembic_config(release_0019), "0019")
    engine = create_engine(release_0019)
    with engine.begin() as connection:
        connection.execute(FIRST_VERSION)
        for case_id, name, postcode in ((1, "Ann Smith", "DE1 2AB"), (2, "Zofia Śmiałek", None)):
            values = {"id": case_id, "ref": f"CT-2026-000{case_id}", "name": name}
            connection.execute(OLD_CASE, values | {"postcode": postcode})
    engine.dispose()
    db.upgrade(release_0019)
    engine = db.make_engine(release_0019)
    coordinator = Actor("c", "coordinator", "council", "", frozenset({1}))

    def found(session: Session, words: str) -> set[str]:
        dialect = session.get_bind().dialect.name
        matches = name_search.matches_text(words, dialect)
        visible = access.visible_cases(coordinator)
        return set(session.scalars(select(Case.reference).where(visible, matches)))

    with sessionmaker(engine)() as session:
        assert found(session, "smith") == {"CT-2026-0001"}
        assert found(session, "ŚMIAŁ") == {"CT-2026-0002"}
        assert found(session, "ct-2026-0002") == {"CT-2026-0002"}
        assert found(session, "de1 2") == {"CT-2026-0001"}
        values = {"id": 3, "ref": "CT-2026-0003", "name": "Ann Smithson", "postcode": None}
        session.execute(OLD_CASE, values)
        session.execute(text('DELETE FROM "case" WHERE id = 1'))
        session.commit()
        assert found(session, "smith") == {"CT-2026-0003"}
    engine.dispose()
    old_schema.drop_database("release_0019")
