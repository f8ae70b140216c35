"""Continue a case held by an incident: retry the step that failed, or correct its data first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from trigger_workflow.engine import serialization
from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import EngineError, FieldProblem, FormInvalid, TaskNotOpen
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.process_owners import incidents, processes
from trigger_workflow.services.tasks import records, rules
from trigger_workflow.services.tasks.cases import (
    CaseResult,
    _all_or_nothing,
    _checked,
    _locked_case,
    _record_completion,
    _result,
)
from trigger_workflow.store.models import Incident, utcnow

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RetryIncident:
    """A process owner's request to run a held case's failed step again."""

    incident_id: int
    actor: Actor


@dataclass(frozen=True)
class CorrectData:
    """A process owner's correction of the data a held case's failed step runs with."""

    incident_id: int
    values: dict[str, Any]
    actor: Actor


def retry(session: Session, command: RetryIncident) -> CaseResult:
    """Run the failed step again on the case's current version; resolve the incident if it goes."""
    incident = incidents.get(session, command.incident_id, command.actor)
    with _all_or_nothing(session, incident.case.reference):
        case = _locked_case(session, incident.case.reference)
        incident = _still_open(session, incident)
        deployed = processes.for_case(case)
        workflow = records.restore_workflow(case, deployed)
        submitted_by = Actor(incident.opened_by, role="")
        try:
            if incident.kind == "task":
                task = engine.ready_task_like(workflow, incident.task_id, incident.task_spec)
                data = _checked(deployed, task, incident.data)
                done = records.done_before(session, case, task.spec_name)
                context = records.engine_context(
                    deployed, case.received_on, done=done
                ) | rules.check(deployed, task, data)
                report = engine.complete(workflow, task.id, data, context)
            else:
                report = engine.fire_timers(workflow)
            retried = {"incident": incident.id, "retried_by": command.actor.username}
            # Saving the state comes first: if the data cannot be kept (EngineError), nothing of
            # the retry has been written yet, and the failure is recorded like any other.
            if incident.kind == "task":
                # Recorded as the officer's completion, with all that follows from one (letters,
                # recommendations, sharing): they gave the answers, the retry ran them.
                _record_completion(
                    session,
                    case,
                    workflow,
                    deployed,
                    submitted_by,
                    task,
                    data,
                    report,
                    context,
                    extra_detail=retried,
                )
            else:
                records.save_case(session, case, workflow, deployed)
                detail = records.step_detail(case, report) | retried
                records.append_event(session, case, command.actor, "timer_fired", detail=detail)
        except EngineError as error:
            incidents.record_failed_retry(session, case, incident, command.actor, error)
            failure: EngineError | None = error
        else:
            failure = None
            incidents.resolve(session, case, incident, command.actor)
    return _result(case, failure)


def correct_data(session: Session, command: CorrectData) -> CaseResult:
    """Change values in the data the failed step runs with, recorded as an event; stay held."""
    problems = [
        FieldProblem((name,), f"'{name}' is not a data name: use letters, digits and _.")
        for name in command.values
        if not NAME.match(name)
    ]
    if not command.values:
        problems.append(FieldProblem((), "Give at least one value to change."))
    if problems:
        raise FormInvalid(problems, raw=command.values)
    incident = incidents.get(session, command.incident_id, command.actor)
    with _all_or_nothing(session, incident.case.reference):
        case = _locked_case(session, incident.case.reference)
        incident = _still_open(session, incident)
        deployed = processes.for_case(case)
        workflow = records.restore_workflow(case, deployed)
        before = engine.correct_data(workflow, incident.task_id, command.values)
        try:
            case.workflow_state = serialization.dump_state(workflow)
        except EngineError as error:
            raise FormInvalid([FieldProblem((), error.message)], raw=command.values) from None
        case.serializer_version = serialization.SERIALIZER_VERSION
        case.updated_at = utcnow()
        records.append_event(
            session,
            case,
            command.actor,
            "data_corrected",
            data=command.values,
            detail={"incident": incident.id, "before": before},
        )
    return _result(case)


def _still_open(session: Session, incident: Incident) -> Incident:
    session.refresh(incident)
    if incident.status != incidents.OPEN:
        raise TaskNotOpen(
            f"Incident {incident.id} was already resolved by {incident.resolved_by}.",
            incident=incident.id,
        )
    return incident
