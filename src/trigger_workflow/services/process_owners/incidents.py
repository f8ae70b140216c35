"""Incidents: a case stopped by a failing script, condition, decision or timer, kept for retry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import CaseHeld, EngineError, NotFound
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.audit import access_log
from trigger_workflow.services.tasks import records
from trigger_workflow.store.models import Case, Incident, utcnow

ERROR = "error"  # the status of a case held by an open incident
OPEN, RESOLVED = "open", "resolved"
HELD_MESSAGE = (
    "The process could not continue after these answers. Your answers were saved, and the case "
    "is held for a process owner, who will fix the process and continue it: you need do nothing."
)


def open_incident(
    session: Session,
    case: Case,
    actor: Actor,
    error: EngineError,
    *,
    task: engine.HumanTask | None = None,
    data: dict[str, Any] | None = None,
) -> Incident:
    """Hold a case: record what failed, where, and the answers being submitted, as an event too."""
    incident = Incident(
        case_id=case.id,
        status=OPEN,
        kind="task" if task is not None else "timer",
        opened_at=utcnow(),
        opened_by=actor.username,
        task_id=task.id if task else None,
        task_spec=task.spec_name if task else None,
        task_name=task.name if task else None,
        data=data or {},
        attempts=1,
    )
    _describe(incident, error)
    session.add(incident)
    case.status = ERROR
    case.updated_at = utcnow()
    session.flush()
    records.append_event(
        session,
        case,
        actor,
        "incident_opened",
        task=task,
        data=data,
        detail=_detail(incident),
    )
    return incident


def record_failed_retry(
    session: Session, case: Case, incident: Incident, actor: Actor, error: EngineError
) -> None:
    """Note that a retry failed again, and why: the case stays held."""
    incident.attempts += 1
    _describe(incident, error)
    case.status = ERROR
    records.append_event(session, case, actor, "incident_retry_failed", detail=_detail(incident))


def resolve(session: Session, case: Case, incident: Incident, actor: Actor) -> None:
    """Close an incident after a retry that went through."""
    incident.status = RESOLVED
    incident.resolved_at = utcnow()
    incident.resolved_by = actor.username
    records.append_event(session, case, actor, "incident_resolved", detail=_detail(incident))


def refuse_if_held(case: Case) -> None:
    """Refuse any change to a case held by an incident, saying who can release it."""
    if case.status == ERROR:
        raise CaseHeld(
            f"Case {case.reference} is held because the process could not continue; a process "
            "owner has been told. Nothing you entered now was saved.",
            reference=case.reference,
        )


def require_process_owner(actor: Actor) -> None:
    """Only process owners see and handle incidents."""
    access.require_process_owner(actor, "see and retry incidents")


def _describe(incident: Incident, error: EngineError) -> None:
    incident.element_id = error.context.get("element_id")
    incident.element_name = error.context.get("task")
    incident.line = error.context.get("line")
    incident.message = error.message


def _detail(incident: Incident) -> dict[str, Any]:
    return {
        "incident": incident.id,
        "element": incident.element_id,
        "element_name": incident.element_name,
        "line": incident.line,
        "message": incident.message,
        "attempts": incident.attempts,
    }


@dataclass(frozen=True)
class IncidentRow:
    """An incident with its case reference, for lists."""

    incident: Incident
    reference: str


def open_incidents(session: Session, actor: Actor, limit: int = 200) -> list[IncidentRow]:
    """Return the open incidents, oldest first."""
    require_process_owner(actor)
    rows = session.execute(
        select(Incident, Case.reference)
        .join(Case, Case.id == Incident.case_id)
        .where(Incident.status == OPEN, access.in_authorities(actor))
        .order_by(Incident.opened_at, Incident.id)
        .limit(limit)
    )
    return [IncidentRow(incident, reference) for incident, reference in rows]


def of_case(session: Session, case_id: int) -> list[Incident]:
    """Return every incident of a case, newest first."""
    return list(
        session.scalars(
            select(Incident).where(Incident.case_id == case_id).order_by(Incident.id.desc())
        )
    )


def get(session: Session, incident_id: int, actor: Actor) -> Incident:
    """Return one incident with its case, for a process owner."""
    require_process_owner(actor)
    incident = session.scalar(
        select(Incident).where(Incident.id == incident_id).options(selectinload(Incident.case))
    )
    if incident is None or not access.serves(actor, incident.case):
        raise NotFound(f"There is no incident {incident_id}.")
    return incident


def view(session: Session, incident_id: int, actor: Actor) -> Incident:
    """Return an incident for its page, logging the view: it shows the answers kept (R22)."""
    incident = get(session, incident_id, actor)
    access_log.record_view(session, incident.case_id, actor, f"incident {incident.id}")
    session.commit()
    return incident
