"""Read cases and tasks for pages and commands, without changing anything."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import NotFound, NotPermitted
from trigger_workflow.services.accounts import access, authorities
from trigger_workflow.services.accounts.actors import PARTNER, Actor
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import rules
from trigger_workflow.services.tasks.records import load_workflow
from trigger_workflow.store.models import Case, Event, Officer, OpenTask

EVENT_TITLES = {
    "case_started": "Case started",
    "timer_fired": "Timer fired",
    "migrated": "Moved to another process version",
    "incident_opened": "The process could not continue: held for a process owner",
    "incident_retry_failed": "A retry failed",
    "incident_resolved": "Incident resolved: the case continued",
    "data_corrected": "Data corrected by a process owner",
    "personal_data_erased": "Personal data erased",
}


@dataclass(frozen=True)
class TaskRow:
    """One line of a task list."""

    task: OpenTask
    reference: str
    applicant_name: str | None


@dataclass(frozen=True)
class TaskForm:
    """An open task and the form it asks, read without restoring the workflow."""

    case: Case
    task: OpenTask
    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None


@dataclass(frozen=True)
class AgencyAnswers:
    """The agencies' answers a task's officer may read (R22), the form they were given on, and
    the agencies whose answers are kept from this officer."""

    answers: list[dict[str, Any]]
    withheld: list[str]
    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None


@dataclass(frozen=True)
class TaskPage(TaskForm):
    """An open task with its form, its instructions and the case data it shows.

    `data` is only what this officer may read (another agency's answers are taken out, R22).
    `answers` is what this task instance was given itself (its pre-script): the form starts
    from it and nothing else. `earlier` is the last completion of the same step on this case (an
    earlier round, before an upheld appeal): shown read-only, never copied into the form.
    `agency_answers` are the information requests' answers this officer may read.
    """

    instructions: str | None
    data: dict[str, Any]
    answers: dict[str, Any]
    agency_answers: AgencyAnswers
    earlier: Event | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a case as one officer may read it, with the form it was entered on."""

    event: Event
    title: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None
    data: dict[str, Any]  # the event's data less the answers this officer may not read (R22)
    withheld: list[str]  # the agencies whose answers were taken out


@dataclass(frozen=True)
class CasePage:
    """A case with its open tasks and its history."""

    case: Case
    open_tasks: list[OpenTask]
    events: list[Event]
    answered_by: dict[int, str | None] = field(default_factory=dict)  # answer event seq: agency

    def readable(self, actor: Actor, event: Event) -> access.Redacted:
        """Return an event's data as this officer may read it (R22: agencies' answers), erased
        personal values reading "[erased]" (issue 13)."""
        data = personal_data.readable(event.data or {})
        return access.readable_answers(actor, data, self.answered_by.get(event.seq))

    def history(self, actor: Actor) -> list[HistoryEntry]:
        """Return the events as this officer may read them, with the forms of the case's version."""
        deployed = processes.deployed(self.case.process_version)
        entries = []
        for event in self.events:
            task = deployed.user_tasks.get(event.task_spec or "")
            schema = deployed.form(task.form) if task else None
            readable = self.readable(actor, event)
            entries.append(
                HistoryEntry(
                    event,
                    EVENT_TITLES.get(event.kind) or event.task_name or event.kind,
                    schema or processes.EMPTY_FORM,
                    deployed.form(task.ui_form) if task else None,
                    readable.data,
                    readable.withheld,
                )
            )
        return entries


def open_tasks_for(session: Session, actor: Actor, limit: int = 200) -> list[TaskRow]:
    """Return the open tasks offered to this officer's role (and agency), soonest due first."""
    query = (
        select(OpenTask, Case.reference, Case.applicant_name)
        .join(Case, Case.id == OpenTask.case_id)
        .where(OpenTask.role == actor.role)
        # Every officer's task has a due date (deployment checks the timescales), so ordering by
        # (role, agency, due_on, created_at) is a walk along one index — with the authority after
        # the agency for an officer of one council.
        .where(
            OpenTask.agency == actor.agency if actor.role == PARTNER else OpenTask.agency.is_(None)
        )
        .where(*access.tasks_in_authorities(actor))
        .order_by(OpenTask.due_on, OpenTask.created_at)
        .limit(limit)
    )
    return [TaskRow(task, ref, name) for task, ref, name in session.execute(query)]


def task_form(session: Session, task_id: str, actor: Actor) -> TaskForm:
    """Return an open task and its form, if the actor may work on it."""
    # One round trip for the task, its case and the case's version. The case's workflow state
    # is left for whoever needs it: a completion reads it again with the case locked anyway.
    task = session.scalar(
        select(OpenTask)
        .where(OpenTask.id == task_id)
        .options(
            joinedload(OpenTask.case, innerjoin=True).options(
                defer(Case.workflow_state),
                joinedload(Case.process_version, innerjoin=True),
            )
        )
    )
    if task is None:
        raise NotFound("This task does not exist or has already been completed.")
    try:
        access.require_case(session, actor, task.case)
    except NotFound:
        raise NotFound("This task does not exist or has already been completed.") from None
    if not actor.may_do(task.role, task.agency):
        raise NotPermitted(
            f"'{task.name}' is not offered to {actor.role}s"
            + (f" of {actor.agency}." if actor.agency else ".")
        )
    deployed = processes.for_case(task.case)
    user_task = deployed.user_tasks.get(task.task_spec)
    schema = deployed.form(user_task.form) if user_task else None
    ui_schema = deployed.form(user_task.ui_form) if user_task else None
    if schema is not None and task.task_spec == rules.AGENCIES_TASK:
        staffed = authorities.agencies_for(session, task.case)
        schema, ui_schema = offer_staffed_agencies(schema, ui_schema, staffed)
    return TaskForm(task.case, task, schema or processes.EMPTY_FORM, ui_schema)


def offer_staffed_agencies(
    schema: dict[str, Any], ui_schema: dict[str, Any] | None, staffed: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Offer only the agencies an active officer can answer for, and say which are left out (R14).

    The law's check (`rules`) refuses the others whatever the page sent; this keeps a
    coordinator from choosing an agency whose information request nobody would see.
    """
    field = schema.get("properties", {}).get("agencies")
    choices = (field or {}).get("items", {}).get("oneOf")
    if not isinstance(choices, list):
        return schema, ui_schema
    offered = [c for c in choices if c.get("const") in staffed]
    left_out = [str(c.get("title") or c.get("const")) for c in choices if c not in offered]
    if not offered or not left_out:
        return schema, ui_schema
    narrowed = copy.deepcopy(schema)
    narrowed["properties"]["agencies"]["items"]["oneOf"] = offered
    ui = copy.deepcopy(ui_schema or {})
    help_text = ui.setdefault("agencies", {}).get("ui:help", "")
    ui["agencies"]["ui:help"] = (
        f"{help_text} Not offered, because no active officer could answer for them: "
        f"{', '.join(left_out)}. An administrator can add or enable an officer of the agency "
        "first."
    ).strip()
    return narrowed, ui


def task_page(session: Session, task_id: str, actor: Actor) -> TaskPage:
    """Return an open task with its form, instructions and case data, if the actor may see it."""
    form = task_form(session, task_id, actor)
    workflow = load_workflow(form.case)
    human = next((t for t in engine.human_tasks(workflow) if t.id == task_id), None)
    if human is None:
        raise NotFound("This task is no longer waiting.")
    names = form.schema.get("properties", {})
    answers = {k: v for k, v in engine.own_answers(workflow, task_id).items() if k in names}
    readable = access.readable_answers(actor, dict(human.data), form.task.agency)
    agency = readable.data.get(access.ANSWERS)
    schema, ui_schema = answer_form(processes.deployed(form.case.process_version))
    return TaskPage(
        form.case,
        form.task,
        form.schema,
        form.ui_schema,
        human.instructions,
        readable.data,
        answers,
        AgencyAnswers(
            [a for a in agency if isinstance(a, dict)] if isinstance(agency, list) else [],
            readable.withheld,
            schema,
            ui_schema,
        ),
        None if form.task.agency else earlier_completion(session, form.case, form.task.task_spec),
    )


def earlier_completion(session: Session, case: Case, task_spec: str) -> Event | None:
    """Return the last time this step of the case was completed (an earlier round), if ever."""
    return session.scalar(
        select(Event)
        .where(
            Event.case_id == case.id, Event.kind == "task_completed", Event.task_spec == task_spec
        )
        .order_by(Event.seq.desc())
        .limit(1)
    )


def answer_form(deployed: processes.DeployedProcess) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the part of a version's forms an agency answers an information request on."""
    for task in deployed.user_tasks.values():
        schema = deployed.form(task.form) or {}
        question = schema.get("properties", {}).get(access.ANSWER)
        if isinstance(question, dict):
            ui = (deployed.form(task.ui_form) or {}).get(access.ANSWER)
            return question, ui if isinstance(ui, dict) else {}
    return processes.EMPTY_FORM, {}


def case_page(session: Session, reference: str) -> CasePage:
    """Return a case with its open tasks and events, oldest event first."""
    case = session.scalar(
        select(Case).where(Case.reference == reference).options(selectinload(Case.open_tasks))
    )
    if case is None:
        raise NotFound(f"There is no case {reference}.")
    events = list(
        session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    )
    return CasePage(case, list(case.open_tasks), events, answering_agencies(session, events))


def answering_agencies(session: Session, events: list[Event]) -> dict[int, str | None]:
    """Return the agency each answer in these events came from (by event seq).

    An answer event names its agency in its detail when recorded so; else it is the agency of the
    partner officer who answered (only that agency's officers may complete its request).
    """
    answers = [e for e in events if access.ANSWER in (e.data or {})]
    usernames = {e.actor for e in answers if not e.detail.get("agency")}
    query = select(Officer.username, Officer.agency).where(Officer.username.in_(usernames))
    officers = {name: agency for name, agency in session.execute(query)} if usernames else {}
    return {e.seq: e.detail.get("agency") or officers.get(e.actor) for e in answers}


def recent_cases(session: Session, limit: int = 50, actor: Actor | None = None) -> list[Case]:
    """Return the most recently changed cases (those this officer may see, if one is given)."""
    query = select(Case).order_by(Case.updated_at.desc()).limit(limit)
    if actor is not None:
        query = query.where(access.visible_cases(actor))
    return list(session.scalars(query))


def application_form(session: Session) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Return the application form (schema and UI schema) of the newest process version."""
    deployed = processes.deployed(processes.latest_version(session))
    task = deployed.application_task()
    return deployed.form(task.form) or processes.EMPTY_FORM, deployed.form(task.ui_form)
