"""Issue 13: a database from before sealing migrates (closed cases get the day they closed), and
events recorded before sealing are still erased, the verdict saying what can no longer be checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import MET, REVIEW, run_case
from tests.old_schema import FIRST_VERSION, empty_database
from trigger_workflow.samples import ANSWERS
from trigger_workflow.services.audit import verify
from trigger_workflow.services.privacy import event_erasure
from trigger_workflow.services.privacy import salts as case_salts
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store import chain, db
from trigger_workflow.store.models import Case, Erasure, Event

CLOSED_STEPS = [*MET, *REVIEW, ("record_appeal", ANSWERS["record_appeal"], None)]


@pytest.fixture
def release_0015(tmp_path: Path) -> str:
    """An empty database to bring to the schema before issue 13 (0015)."""
    return empty_database(tmp_path, "release_0015")


def test_closed_cases_get_the_moment_they_closed_from_their_last_event(release_0015: str) -> None:
    """0016 gives each closed case its last event's moment as `closed_at` (the retention
    schedule counts from it); an open case gets none."""
    command.upgrade(db.alembic_config(release_0015), "0015")
    engine = create_engine(release_0015)
    with engine.begin() as connection:
        connection.execute(FIRST_VERSION)
        for case_id, status in ((1, "closed"), (2, "open")):
            connection.execute(
                text(
                    'INSERT INTO "case" (id, reference, process_version_id, status, stage, '
                    "received_on, created_at, updated_at, workflow_state, serializer_version, "
                    "lock_version, events_recorded, last_event_hash) VALUES (:id, :ref, 1, "
                    ":status, 'Closed', '2020-01-02', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                    "'{}', '1', 1, 2, '')"
                ),
                {"id": case_id, "ref": f"CT-2020-000{case_id}", "status": status},
            )
            for seq, day in ((1, 2), (2, 9)):
                connection.execute(
                    text(
                        "INSERT INTO event (case_id, seq, occurred_at, actor, kind, data, detail,"
                        " prev_hash, hash) VALUES (:case, :seq, :when, 'carol', 'note', '{}', "
                        "'{}', '', '')"
                    ),
                    {"case": case_id, "seq": seq, "when": datetime(2020, 3, day, 12, tzinfo=UTC)},
                )
    engine.dispose()
    db.upgrade(release_0015)
    engine = db.make_engine(release_0015)
    with sessionmaker(engine)() as session:
        closed = {c.reference: c.closed_at for c in session.scalars(select(Case))}
    engine.dispose()
    assert closed == {"CT-2020-0001": datetime(2020, 3, 9, 12, tzinfo=UTC), "CT-2020-0002": None}


def _as_recorded_before_sealing(session: Session, reference: str) -> None:
    """Rewrite a case's events as an install before issue 13 recorded them: no `personal`, each
    hashed over its values, chained as before."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    previous = chain.GENESIS
    events = session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    for event in list(events):
        content = {name: getattr(event, name) for name in chain.CONTENT_FIELDS}
        new_hash = chain.event_hash(content, previous)
        session.execute(
            text("UPDATE event SET personal = NULL, prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": previous, "h": new_hash, "i": event.id},
        )
        previous = new_hash
    session.execute(
        text('UPDATE "case" SET last_event_hash = :h WHERE id = :i'), {"h": previous, "i": case.id}
    )
    session.commit()
    session.expire_all()


def test_r21_events_recorded_before_sealing_are_erased_and_said_to_be_uncheckable(
    session: Session, deployed: processes.DeployResult
) -> None:
    """A case recorded before sealing verifies as before; erasing its applicant removes the
    values from those events too, and the verdict stays intact, naming the events whose content
    can no longer be checked — while a change to their links is still found."""
    reference = run_case(session, CLOSED_STEPS)
    _as_recorded_before_sealing(session, reference)
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    assert verify.verify_cases(session, [reference]).broken == []
    erased = event_erasure.erase_from_events(session, case, {"applicant"})
    case_salts.destroy(session, case, {"applicant"})
    assert erased.legacy_events == [2] and "Alex Applicant" in erased.values
    session.add(
        Erasure(
            case_id=case.id,
            subjects=["applicant"],
            under="schedule",
            reason="Retention schedule",
            erased_by="worker",
            counts={"legacy_events": erased.legacy_events},
        )
    )
    session.commit()
    rows = session.execute(select(Event.data).where(Event.case_id == case.id))
    assert "Alex Applicant" not in json.dumps([row[0] for row in rows])
    report = verify.verify_cases(session, [reference])
    assert report.broken == []
    assert "event(s) 2 were recorded before values were sealed" in report.erased[0][1].message
    session.execute(
        text("UPDATE event SET prev_hash = :p WHERE case_id = :c AND seq = 2"),
        {"p": "0" * 64, "c": case.id},
    )
    session.commit()
    assert verify.verify_cases(session, [reference]).broken != []
