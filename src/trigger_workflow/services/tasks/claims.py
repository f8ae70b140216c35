"""Claim, release and reassign open tasks: one owner at a time, never a silent overwrite.

A claim is a conditional UPDATE (`... WHERE assignee IS NULL`): of two officers claiming at the
same moment exactly one changes the row, and the other is told who has it and since when. Each
claim, release and reassignment is an event on the case, written in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from trigger_workflow.engine import workflow as engine
from trigger_workflow.engine.calendar import UK_TIME
from trigger_workflow.errors import NotFound, NotPermitted, TriggerWorkflowError
from trigger_workflow.services.accounts import access, actors
from trigger_workflow.services.accounts.actors import COORDINATOR, Actor
from trigger_workflow.services.mail import notifications
from trigger_workflow.services.tasks import records
from trigger_workflow.services.tasks.cases import _all_or_nothing, _locked_case, _not_open
from trigger_workflow.store.models import Case, OpenTask, utcnow


class TaskClaimed(TriggerWorkflowError):
    """Someone else holds the task: it was claimed (or reassigned) before this change."""

    status = 409
    title = "Someone else has this task"


@dataclass(frozen=True)
class ClaimTask:
    """An officer takes an unclaimed task offered to their role (and agency)."""

    task_id: str
    actor: Actor


@dataclass(frozen=True)
class ReleaseTask:
    """An officer gives back a task they hold, for anyone on their team to claim."""

    task_id: str
    actor: Actor


@dataclass(frozen=True)
class ReassignTask:
    """A coordinator gives a task to a named officer, from the holder the coordinator saw."""

    task_id: str
    actor: Actor
    to_username: str
    expected_assignee: str | None


@dataclass(frozen=True)
class ClaimResult:
    """Who holds a task after a change."""

    reference: str
    task_name: str
    assignee: str | None


def claim(session: Session, command: ClaimTask) -> ClaimResult:
    """Give an unclaimed task to the acting officer, or say who claimed it first."""
    task = _task(session, command.task_id, command.actor)
    if not command.actor.may_do(task.role, task.agency):
        raise NotPermitted(f"'{task.name}' is not offered to you, so you cannot claim it.")
    if task.assignee == command.actor.username:
        return ClaimResult(task.case.reference, task.name, task.assignee)
    return _change(session, task, command.actor, None, command.actor.username, "task_claimed")


def release(session: Session, command: ReleaseTask) -> ClaimResult:
    """Give back a task the acting officer holds."""
    task = _task(session, command.task_id, command.actor)
    if task.assignee != command.actor.username:
        raise NotPermitted(f"You do not hold '{task.name}', so you cannot release it.")
    return _change(session, task, command.actor, command.actor.username, None, "task_released")


def reassign(session: Session, command: ReassignTask) -> ClaimResult:
    """Give a task to a named officer of its role and agency (coordinators only)."""
    if command.actor.role != COORDINATOR:
        raise NotPermitted("Only a case review coordinator reassigns tasks.")
    task = _task(session, command.task_id, command.actor)
    officer = actors.find_officer(session, command.to_username)
    if officer not in actors.active_officers(session):
        raise NotPermitted(
            f"{officer.display_name or officer.username}'s account is disabled: they cannot sign "
            "in to do this task."
        )
    if not officer.may_do(task.role, task.agency):
        raise NotPermitted(
            f"{officer.display_name or officer.username} cannot do '{task.name}': it is for "
            + (f"the {task.agency} {task.role}." if task.agency else f"the {task.role}.")
        )
    return _change(
        session,
        task,
        command.actor,
        command.expected_assignee,
        officer.username,
        "task_reassigned",
    )


def reassignment(session: Session, task_id: str, actor: Actor) -> tuple[OpenTask, list[Actor]]:
    """Return a task a coordinator may reassign and the officers who may be given it."""
    if actor.role != COORDINATOR:
        raise NotPermitted("Only a case review coordinator reassigns tasks.")
    task = _task(session, task_id, actor)
    # A disabled officer cannot sign in to do it: only active officers are offered.
    return task, [o for o in actors.active_officers(session) if o.may_do(task.role, task.agency)]


def _task(session: Session, task_id: str, actor: Actor) -> OpenTask:
    task = session.get(OpenTask, task_id, populate_existing=True)
    if task is None:
        raise NotFound("This task does not exist or has already been completed.")
    # A task of a case not shared with the officer's agency, or of another authority's case,
    # does not exist for them (R22): not even its case's reference is told.
    try:
        access.require_case(session, actor, task.case)
    except NotFound:
        raise NotFound("This task does not exist or has already been completed.") from None
    return task


def _change(
    session: Session,
    task: OpenTask,
    actor: Actor,
    expected: str | None,
    new_assignee: str | None,
    kind: str,
) -> ClaimResult:
    """Move the task from `expected` to `new_assignee` only if nobody moved it first."""
    reference, task_id, name = task.case.reference, task.id, task.name
    with _all_or_nothing(session, reference):
        _locked_case(session, reference)  # PostgreSQL: one change to the case at a time
        holder = OpenTask.assignee.is_(None) if expected is None else OpenTask.assignee == expected
        changed: CursorResult[None] = session.execute(  # type: ignore[assignment]
            update(OpenTask)
            .where(OpenTask.id == task_id, holder)
            .values(assignee=new_assignee, claimed_at=utcnow() if new_assignee else None)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:
            raise _moved(session, reference, task_id, name)
        # Read the case again now that this transaction writes: SQLite gives the newest row only now.
        case = session.scalar(
            select(Case)
            .where(Case.reference == reference)
            .execution_options(populate_existing=True)
        )
        assert case is not None
        # The task goes in through append_event, so that everything the event says is set
        # when it is written (events are append-only, and may be hashed as they are made).
        records.append_event(
            session,
            case,
            actor,
            kind,
            task=_as_human_task(task),
            detail={"from": expected, "to": new_assignee, "stage": task.stage},
        )
        if kind == "task_reassigned" and new_assignee:
            notifications.task_given(session, task, reference, new_assignee, actor.username)
    return ClaimResult(reference, name, new_assignee)


def _as_human_task(task: OpenTask) -> engine.HumanTask:
    """Describe an open-task row as the engine's task, for the event that names it."""
    return engine.HumanTask(
        id=task.id,
        spec_name=task.task_spec,
        name=task.name,
        lane=task.lane,
        stage=task.stage,
        form=None,
        ui_form=None,
        instructions=None,
        data={},
    )


def _moved(session: Session, reference: str, task_id: str, name: str) -> Exception:
    """Say what happened to a task that was not where the change expected it."""
    now = session.scalar(
        select(OpenTask).where(OpenTask.id == task_id).execution_options(populate_existing=True)
    )
    if now is None:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return _not_open(session, case, task_id)
    if now.assignee is None:
        return TaskClaimed(
            f"'{name}' on case {reference} was released at the same moment. Nothing was changed: "
            "look at the task again.",
            reference=reference,
        )
    return TaskClaimed(
        f"'{name}' on case {reference} is already claimed by {now.assignee} at "
        f"{_when(now.claimed_at)}. Nothing was changed.",
        reference=reference,
    )


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    return moment.astimezone(UK_TIME).strftime("%H:%M on %-d %B %Y")
