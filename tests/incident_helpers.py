"""Helpers for tests of held cases: deploy a changed process, move a case to a newer version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, Event, Incident


def deploy_changed(
    sessions: sessionmaker[Session], files: ProcessFiles, name: str, old: str, new: str
) -> int:
    """Deploy the process with one text replaced in one file; return the new version's id."""
    changed = dict(files.files)
    assert old in changed[name], f"{old!r} is not in {name}"
    changed[name] = changed[name].replace(old, new)
    with sessions() as session:
        result = processes.deploy(session, ProcessFiles(changed), "owen")
        assert result.created
        return result.version.id


def move_case(sessions: sessionmaker[Session], reference: str, version_id: int) -> None:
    """Point a case at another version of the same shape (the versions branch migrates for real)."""
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        case.process_version_id = version_id
        session.commit()


def case_row(sessions: sessionmaker[Session], reference: str) -> dict[str, Any]:
    """Return a case's status, incidents and event kinds."""
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        incidents = session.scalars(select(Incident).where(Incident.case_id == case.id)).all()
        events = session.scalars(
            select(Event).where(Event.case_id == case.id).order_by(Event.seq)
        ).all()
        return {
            "status": case.status,
            "stage": case.stage,
            "incidents": [
                {
                    "id": i.id,
                    "status": i.status,
                    "element": i.element_id,
                    "line": i.line,
                    "message": i.message,
                    "data": i.data,
                    "attempts": i.attempts,
                    "opened_by": i.opened_by,
                }
                for i in incidents
            ],
            "events": [(e.kind, e.actor, e.data) for e in events],
        }
