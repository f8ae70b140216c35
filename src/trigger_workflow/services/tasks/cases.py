"""Start cases and complete their tasks: lock, load, run the engine, write state, tasks, events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from trigger_workflow import schema_forms
from trigger_workflow.engine import calendar, serialization
from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import (
    ConcurrentChange,
    EngineError,
    FieldProblem,
    FormInvalid,
    NotFound,
    NotPermitted,
    TaskNotOpen,
)
from trigger_workflow.services.accounts import access, authorities
from trigger_workflow.services.accounts.actors import COORDINATOR, PUBLIC, Actor
from trigger_workflow.services.applications import eligibility
from trigger_workflow.services.casework import local_rules, recommendations
from trigger_workflow.services.mail import letters, notifications
from trigger_workflow.services.process_owners import incidents, processes
from trigger_workflow.services.tasks import records, rules
from trigger_workflow.store.models import (
    Authority,
    Case,
    Document,
    Event,
    OpenTask,
    ProcessVersion,
)

# The names the engine gets beside an officer's answers (`records.engine_context` and what
# `rules.check` derives): a diagram may read them though no form asks them.
ENGINE_CONTEXT_NAMES = frozenset(records.CONTEXT_NAMES) | rules.DERIVED_NAMES


@dataclass(frozen=True)
class SubmitApplication:
    """An application from the public form, or entered by an officer (R2)."""

    data: dict[str, Any]
    actor: Actor
    submission_key: str | None = None
    received_on: date | None = None
    # The council where the behaviour happens; None: the officer's own, or the only one.
    authority_id: int | None = None


@dataclass(frozen=True)
class StartCase:
    """A case of any deployed process, started without an application form."""

    process_id: str
    actor: Actor
    received_on: date | None = None
    authority_id: int | None = None


@dataclass(frozen=True)
class CompleteTask:
    """An officer's answers to one open task of a case."""

    reference: str
    task_id: str
    data: dict[str, Any]
    actor: Actor


@dataclass(frozen=True)
class CaseResult:
    """Where a case stands after a change."""

    reference: str
    status: str
    stage: str
    outcome: str | None
    open_tasks: list[str] = field(default_factory=list)
    incident: str | None = None  # why the case is held, when the step stopped it


def submit_application(session: Session, command: SubmitApplication) -> CaseResult:
    """Start a case from an application; a repeated submission returns the first case."""
    if not may_enter_applications(command.actor):
        raise NotPermitted("Only the case review coordinator enters applications for others.")
    received_on = command.received_on or calendar.today()
    if received_on > calendar.today():
        raise FormInvalid(
            [FieldProblem(("received_on",), "The date received must be today or in the past")]
        )
    if command.submission_key and len(command.submission_key) > SUBMISSION_KEY_LENGTH:
        raise FormInvalid(
            [FieldProblem(("submission_key",), "The submission key must be 64 characters or fewer")]
        )
    existing = _submitted_before(session, command.submission_key)
    if existing is not None:
        return existing
    authority = authorities.for_new_case(session, command.actor, command.authority_id)
    version = _version_for(session, authority)
    local = local_rules.of_authority(authority)
    deployed = processes.deployed(version).with_local(local)
    workflow, start_report = engine.start(deployed.specs.spec, deployed.specs.subprocess_specs)
    application = _application_task(workflow, deployed)
    data = _checked(deployed, application, command.data)
    _check_eligible(session, data, command.actor, received_on)
    context = records.engine_context(deployed, received_on)
    failure: EngineError | None = None
    try:
        report = engine.complete(workflow, application.id, data, context)
    except EngineError as error:
        # Keep the application: the case starts held at its first task, answers kept for retry.
        failure = error
        workflow, start_report = engine.start(deployed.specs.spec, deployed.specs.subprocess_specs)
        application = _application_task(workflow, deployed)
    applicant = data.get("applicant") or {}
    case = Case(
        authority_id=authority.id,
        process_version_id=version.id,
        applicant_name=applicant.get("name"),
        applicant_postcode=applicant.get("postcode"),
        channel=data.get("channel"),
        submission_key=command.submission_key,
        received_on=received_on,
        local_rules=local.as_json(),
    )
    try:
        with _all_or_nothing(session):
            _insert_case(session, case, authority, command.actor, version, start_report)
            if failure is None:
                try:
                    _record_completion(
                        session,
                        case,
                        workflow,
                        deployed,
                        command.actor,
                        application,
                        data,
                        report,
                        context,
                    )
                except EngineError as error:  # the state could not be saved: nothing was written
                    failure = error
                    workflow, _ = engine.start(deployed.specs.spec, deployed.specs.subprocess_specs)
                    application = _application_task(workflow, deployed)
            if failure is not None:
                records.save_case(session, case, workflow, deployed)
                incidents.open_incident(
                    session, case, command.actor, failure, task=application, data=data
                )
            _claim_documents(session, case, data)
    except ConcurrentChange:
        # The same form sent twice at the same moment: the first one made the case.
        existing = _submitted_before(session, command.submission_key)
        if existing is not None:
            return existing
        raise
    return _result(case, failure)


# The longest submission key the cases table keeps (Case.submission_key).
SUBMISSION_KEY_LENGTH = 64


def _check_eligible(session: Session, data: dict[str, Any], actor: Actor, received: date) -> None:
    """Refuse an application R1 does not allow, saying why beside each field."""
    problems = eligibility.problems(
        data, actor, received, lambda token: _pending_document(session, token) is not None
    )
    if problems:
        raise FormInvalid(problems, raw=data)


def _claim_documents(session: Session, case: Case, data: dict[str, Any]) -> None:
    """Link the documents uploaded with the application to its case, in the same transaction."""
    token = (data.get("victim") or {}).get("consent_document")
    document = _pending_document(session, token) if isinstance(token, str) else None
    if document is not None:
        document.case_id = case.id


def _pending_document(session: Session, token: str) -> Document | None:
    return session.scalar(
        select(Document)
        .where(Document.token == token, Document.case_id.is_(None))
        .with_for_update()
    )


def _submitted_before(session: Session, submission_key: str | None) -> CaseResult | None:
    if not submission_key:
        return None
    case = session.scalar(select(Case).where(Case.submission_key == submission_key))
    return None if case is None else _result(case)


def may_enter_applications(actor: Actor) -> bool:
    """Return whether this actor may submit an application: the public, or the coordinator."""
    return actor == PUBLIC or actor.role == COORDINATOR


def start_case(session: Session, command: StartCase) -> CaseResult:
    """Start a case of a process that has no application form (benchmarks, diagram tests)."""
    authority = authorities.for_new_case(session, command.actor, command.authority_id)
    version = processes.latest_version(session, command.process_id)
    local = local_rules.of_authority(authority)
    deployed = processes.deployed(version).with_local(local)
    workflow, start_report = engine.start(deployed.specs.spec, deployed.specs.subprocess_specs)
    case = Case(
        authority_id=authority.id,
        process_version_id=version.id,
        received_on=command.received_on or calendar.today(),
        local_rules=local.as_json(),
    )
    with _all_or_nothing(session):
        _insert_case(session, case, authority, command.actor, version, start_report)
        records.save_case(session, case, workflow, deployed)
    return _result(case)


def _version_for(session: Session, authority: Authority) -> ProcessVersion:
    """Return the process version an authority's new cases take: its own, or the default."""
    if authority.process_version_id is not None:
        own = session.get(ProcessVersion, authority.process_version_id)
        if own is not None:
            return own
    return processes.latest_version(session)


def _insert_case(
    session: Session,
    case: Case,
    authority: Authority,
    actor: Actor,
    version: ProcessVersion,
    report: engine.StepReport,
) -> None:
    case.reference = records.next_reference(session, authority, case.received_on.year)
    case.status, case.stage, case.workflow_state = "open", "", ""
    case.events_recorded = 0
    case.open_tasks = []  # known to be empty: no lazy load (and autoflush) when tasks are added
    case.serializer_version = serialization.SERIALIZER_VERSION
    session.add(case)
    session.flush()
    # The rules it runs under, for the auditor: its version, and its council's local rules.
    detail = {
        "process_version": version.number,
        "process_version_id": version.id,
        "local_rules": case.local_rules,
    }
    records.append_event(
        session,
        case,
        actor,
        "case_started",
        detail=detail | {"automatic": report.automatic, "engine_now": report.now},
    )


def complete_task(session: Session, command: CompleteTask) -> CaseResult:
    """Complete one open task of a case, or change nothing and say why."""
    with _all_or_nothing(session, command.reference):
        case = _locked_case(session, command.reference)
        incidents.refuse_if_held(case)
        open_task = next((t for t in case.open_tasks if t.id == command.task_id), None)
        if open_task is None:
            raise _not_open(session, case, command.task_id)
        if not command.actor.may_do(open_task.role, open_task.agency):
            raise NotPermitted(
                f"'{open_task.name}' is for {_for_whom(open_task)}; "
                f"{command.actor.username} acts as {command.actor.role}.",
            )
        if open_task.assignee not in (None, command.actor.username):
            raise NotPermitted(
                f"'{open_task.name}' is claimed by {open_task.assignee}. Nothing you entered was "
                "saved: ask them to release it, or a coordinator to reassign it to you.",
            )
        deployed = processes.for_case(case)
        workflow = records.restore_workflow(case, deployed)
        human = engine.find_human_task(workflow, command.task_id)
        data = _checked(deployed, human, command.data)
        derived = rules.check(
            deployed, human, data, lambda: authorities.agencies_for(session, case)
        )
        done = records.done_before(session, case, human.spec_name)
        context = records.engine_context(deployed, case.received_on, done=done) | derived
        try:
            report = engine.complete(workflow, human.id, data, context)
            # Saving the state comes first in _record_completion: if the data cannot be kept
            # (EngineError), nothing of this completion has been written yet.
            # A per-agency task's event says which agency answered (access.answer_agency).
            answered = {"agency": open_task.agency} if open_task.agency else None
            _record_completion(
                session, case, workflow, deployed, command.actor, human, data, report, context,
                answered, done,
            )  # fmt: skip
        except EngineError as error:
            # The workflow state is not saved: the case stays where it was, held, answers kept.
            incidents.open_incident(session, case, command.actor, error, task=human, data=data)
            failure: EngineError | None = error
        else:
            failure = None
    return _result(case, failure)


@contextmanager
def _all_or_nothing(session: Session, reference: str | None = None) -> Iterator[None]:
    """Commit all the block wrote, or roll all of it back and say why in plain words."""
    try:
        yield
        session.commit()
    except (StaleDataError, IntegrityError) as error:
        session.rollback()
        raise ConcurrentChange(
            "Someone else changed this case at the same moment. Nothing you entered was saved: "
            "reload the case and try again.",
            reference=reference,
        ) from error
    except OperationalError as error:
        session.rollback()
        if "locked" not in str(error).lower():
            raise
        raise ConcurrentChange(
            "The case is busy with another change. Nothing you entered was saved: try again.",
            reference=reference,
        ) from error
    except BaseException:
        session.rollback()
        raise


def _record_completion(
    session: Session,
    case: Case,
    workflow: engine.Workflow,
    deployed: processes.DeployedProcess,
    actor: Actor,
    task: engine.HumanTask,
    data: dict[str, Any],
    report: engine.StepReport,
    context: dict[str, Any],
    extra_detail: dict[str, Any] | None = None,
    done: dict[str, date] | None = None,
) -> None:
    """Save the case after a completed task, and the event saying who submitted what.

    The event keeps the context the engine got beside the answers (receipt day, deadlines, what
    the law's checks derived), so that a replay gives the engine exactly what it had.
    """
    records.save_case(session, case, workflow, deployed, task.spec_name, done)
    detail = records.step_detail(case, report) | {"context": context} | (extra_detail or {})
    records.append_event(
        session, case, actor, "task_completed", task=task, data=data, detail=detail
    )
    # After the event: its query would otherwise flush the case row once before the event's
    # head is set on it, and once more after.
    access.share_case(session, case, access.agencies_named(data))
    recommendations.after_task(session, case, task.spec_name, data, task.id)
    letters.write_after_task(session, case, task.spec_name, task.id, {**task.data, **data}, actor)
    notifications.after_task(session, case, task.spec_name, {**task.data, **data})


def _application_task(
    workflow: engine.Workflow, deployed: processes.DeployedProcess
) -> engine.HumanTask:
    wanted = deployed.application_task().bpmn_id
    for task in engine.human_tasks(workflow):
        if task.spec_name == wanted:
            return task
    raise NotFound("The process does not start with its application task.")


def _checked(
    deployed: processes.DeployedProcess, task: engine.HumanTask, data: dict[str, Any]
) -> dict[str, Any]:
    """Validate submitted data against the task's form; refuse fields the form does not ask.

    Answers to conditional questions whose condition does not hold are dropped, not kept.
    """
    if not isinstance(data, dict):
        raise FormInvalid([FieldProblem((), "The answers must be a JSON object.")])
    schema = deployed.form(task.form) or processes.EMPTY_FORM
    known = schema.get("properties", {})
    problems = [
        FieldProblem((name,), f"'{name}' is not a question on this form.")
        for name in data
        if name not in known
    ]
    unknown = {p.path for p in problems}
    problems += [
        FieldProblem(e.path, e.message)
        for e in schema_forms.validate(schema, data)
        if e.path not in unknown
    ]
    if problems:
        raise FormInvalid(problems, raw=data)
    return dict(schema_forms.drop_inactive(schema, data))  # answers to questions not asked


def _locked_case(session: Session, reference: str) -> Case:
    # The version comes in the same round trip (its files and spec are deferred, and only the
    # case row is locked: every case of a version shares its row).
    case = session.scalar(
        select(Case)
        .where(Case.reference == reference)
        .with_for_update(of=Case)
        .options(selectinload(Case.open_tasks), joinedload(Case.process_version, innerjoin=True))
        .execution_options(populate_existing=True)
    )
    if case is None:
        raise NotFound(f"There is no case {reference}.")
    return case


def _not_open(session: Session, case: Case, task_id: str) -> Exception:
    done = session.scalar(
        select(Event).where(
            Event.case_id == case.id, Event.task_id == task_id, Event.kind == "task_completed"
        )
    )
    if done is None:
        return NotFound(f"Case {case.reference} has no task {task_id}.")
    when = _format_time(done.occurred_at)
    return TaskNotOpen(
        f"'{done.task_name}' on case {case.reference} was already completed by {done.actor} at {when}. "
        "Nothing you entered was saved.",
        reference=case.reference,
    )


def _format_time(moment: datetime) -> str:
    return moment.strftime("%H:%M on %d %B %Y")


def _for_whom(task: OpenTask) -> str:
    return f"the {task.agency} {task.role}" if task.agency else f"the {task.role}"


def _result(case: Case, failure: EngineError | None = None) -> CaseResult:
    return CaseResult(
        reference=case.reference,
        status=case.status,
        stage=case.stage,
        outcome=case.outcome,
        open_tasks=[t.name for t in case.open_tasks],
        incident=failure.message if failure else None,
    )
