"""Open tasks carry their case's council (issue 12): written with it, and given it when an
existing database migrates, so each council's inbox is scoped by the task's own column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests import old_schema
from tests.authorities_helpers import chesterfield_case_in_review, two_authorities
from tests.old_schema import FIRST_VERSION, empty_database
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.casework import queries
from trigger_workflow.services.tasks import cases, inbox
from trigger_workflow.store import db
from trigger_workflow.store.models import Case, OpenTask

TODAY = date(2026, 12, 7)


def test_every_open_task_is_written_with_its_cases_council(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A case's open tasks, its first and those its steps open later (the coordinator's and an
    agency's information request), each carry the council of their case."""
    county = two_authorities(sessions)
    with sessions() as session:
        derby = cases.submit_application(
            session, cases.SubmitApplication(APPLICATION, actors.PUBLIC, None, None, county.derby)
        ).reference
        chesterfield = chesterfield_case_in_review(session, county)
        rows = session.execute(
            select(Case.reference, Case.authority_id, OpenTask.authority_id, OpenTask.agency).join(
                OpenTask, OpenTask.case_id == Case.id
            )
        ).all()
    councils = {reference: case_council for reference, case_council, _, _ in rows}
    assert councils == {derby: county.derby, chesterfield: county.chesterfield}
    assert [(ref, task) for ref, case_council, task, _ in rows if task != case_council] == []
    assert any(agency == "police" for ref, _, _, agency in rows if ref == chesterfield)


@pytest.fixture
def release_0016(tmp_path: Path) -> str:
    """An empty database to bring to the schema before open tasks carried their council."""
    return empty_database(tmp_path, "release_0016")


def test_existing_open_tasks_take_their_cases_council_when_the_database_migrates(
    release_0016: str,
) -> None:
    """From 0016 with two councils' cases and their open tasks: each task gets its case's
    council, and each council's coordinator then finds only her council's tasks (list and
    counts), while a county-wide one finds both."""
    command.upgrade(db.alembic_config(release_0016), "0016")
    engine = create_engine(release_0016)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO authority (id, code, name, reference_prefix, address, email, phone, "
                "timescales, created_at) VALUES (2, 'chesterfield', 'Chesterfield', 'CHF', 'a', "
                "'e', 'p', '{}', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(FIRST_VERSION)
        for case_id, authority_id, reference in ((1, 1, "CT-2026-0001"), (2, 2, "CHF-2026-0001")):
            connection.execute(
                text(
                    'INSERT INTO "case" (id, reference, authority_id, process_version_id, status, '
                    "stage, received_on, created_at, updated_at, workflow_state, "
                    "serializer_version, lock_version, events_recorded, last_event_hash) VALUES "
                    "(:id, :ref, :authority, 1, 'open', 'Acknowledgement', '2026-12-01', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '{}', '1', 1, 0, '')"
                ),
                {"id": case_id, "ref": reference, "authority": authority_id},
            )
            connection.execute(
                text(
                    "INSERT INTO open_task (id, case_id, task_spec, name, stage, lane, role, "
                    "due_on, created_at) VALUES (:id, :case, 'acknowledge_application', "
                    "'Acknowledge application', 'Acknowledgement', 'Coordinator', 'coordinator', "
                    "'2026-12-04', CURRENT_TIMESTAMP)"
                ),
                {"id": f"task-{case_id}", "case": case_id},
            )
    engine.dispose()
    db.upgrade(release_0016)
    engine = db.make_engine(release_0016)
    with sessionmaker(engine)() as session:
        tasks = session.execute(select(OpenTask.id, OpenTask.authority_id))
        carried = {task_id: council for task_id, council in tasks}
        assert carried == {"task-1": 1, "task-2": 2}
        for authorities, expected in (({1}, ["CT-2026-0001"]), ({2}, ["CHF-2026-0001"])):
            coordinator = Actor("c", "coordinator", "council", "", frozenset(authorities))
            listed = [row.reference for row in queries.open_tasks_for(session, coordinator)]
            assert listed == expected
            counts = inbox.view_counts(session, coordinator, TODAY)
            assert counts == {"team": 1, "unclaimed": 1, "mine": 0, "overdue": 1}
        county_wide = Actor("c", "coordinator", "council", "", None)
        listed = {row.reference for row in queries.open_tasks_for(session, county_wide)}
        assert listed == {"CT-2026-0001", "CHF-2026-0001"}
    engine.dispose()
    old_schema.drop_database("release_0016")
