"""Write what happens to a case: its workflow state, its open-task rows and its events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar, serialization
from trigger_workflow.engine import workflow as engine
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import PARTNER, Actor
from trigger_workflow.services.casework import local_rules
from trigger_workflow.services.mail import notifications
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.services.privacy import salts as case_salts
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store import chain
from trigger_workflow.store.models import Authority, AuthorityCounter, Case, Event, OpenTask, utcnow


def load_workflow(case: Case) -> engine.Workflow:
    """Restore the workflow of a case (read-only use: views, tests, replay)."""
    return restore_workflow(case, processes.for_case(case))


def restore_workflow(case: Case, deployed: processes.DeployedProcess) -> engine.Workflow:
    """Restore a case's workflow on the specs of its process version."""
    return serialization.load_state(case.workflow_state, deployed.specs, case.serializer_version)


def save_case(
    session: Session,
    case: Case,
    workflow: engine.Workflow,
    deployed: processes.DeployedProcess,
    completing: str | None = None,
    done: Mapping[str, date] | None = None,
) -> None:
    """Write the workflow state, stage, status and open-task rows of a case (after completing
    the step `completing`, when one was). `done` is `done_before(session, case, completing)`
    when the caller has it already (no event was added since)."""
    case.workflow_state = serialization.dump_state(workflow)
    case.serializer_version = serialization.SERIALIZER_VERSION
    case.stage = engine.stage(workflow)
    case.outcome = engine.end_reached(workflow)
    case.status = "closed" if workflow.is_completed() else "open"
    if case.status != "closed":
        case.closed_at = None
    elif case.closed_at is None:
        case.closed_at = utcnow()  # the retention schedule counts from here (issue 13)
    case.timer_due_at = engine.next_timer_due(workflow)
    case.updated_at = utcnow()
    if done is None:
        done = done_before(session, case, completing)
    ready = {t.id: t for t in engine.human_tasks(workflow)}
    for row in list(case.open_tasks):
        if row.id not in ready:
            case.open_tasks.remove(row)
    have = {row.id for row in case.open_tasks}
    today = calendar.today()
    new_agencies = set()
    opened = []
    for task in ready.values():
        if task.id in have:
            continue
        role = deployed.role_for_lane(task.lane)
        opened.append(
            OpenTask(
                id=task.id,
                authority_id=case.authority_id,  # the inbox is scoped by it (issue 12)
                task_spec=task.spec_name,
                name=task.name,
                stage=task.stage,
                lane=task.lane,
                role=role,
                agency=task.agency if role == PARTNER else None,
                due_on=_due_on(deployed, task.spec_name, case.received_on, today, done),
            )
        )
        case.open_tasks.append(opened[-1])
        if role == PARTNER and task.agency:
            new_agencies.add(task.agency)
    notifications.after_save(session, case, opened)  # escalations alert their officers
    # R22: an agency offered a task on the case takes part in it and may see it from now on.
    access.share_case(session, case, new_agencies)


def done_before(session: Session, case: Case, completing: str | None = None) -> dict[str, date]:
    """Return the day each step (task id) of the case was last completed, counting the step
    being completed now (`completing`) as done today."""
    done: dict[str, date] = {}
    if case.id is not None:
        with session.no_autoflush:
            rows = session.execute(
                select(Event.task_spec, func.max(Event.occurred_at))
                .where(Event.case_id == case.id, Event.kind == "task_completed")
                .group_by(Event.task_spec)
            ).all()
        for spec, moment in rows:
            if spec and moment is not None:
                aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                done[spec] = aware.astimezone(calendar.UK_TIME).date()
    if completing:
        done[completing] = calendar.today()
    return done


def _due_on(
    deployed: processes.DeployedProcess,
    spec_name: str,
    received: date,
    today: date,
    done: Mapping[str, date] | None = None,
) -> date | None:
    """Return when a step becoming ready today is due.

    A step counted from receipt that was done before is in a fresh round (a threshold decided
    again after an upheld appeal): it counts from the day the round started, the last step done
    that is not counted from receipt (the appeal decision), so it is not born overdue.
    """
    timescale = deployed.timescale(spec_name)
    if timescale is None:
        return None
    if timescale.counted_from != "received":
        start = today
    elif done and spec_name in done:
        start = max((d for s, d in done.items() if not _from_receipt(deployed, s)), default=today)
    else:
        start = received
    return calendar.add_working_days(start, timescale.days)


def _from_receipt(deployed: processes.DeployedProcess, spec_name: str) -> bool:
    timescale = deployed.timescale(spec_name)
    return timescale is not None and timescale.counted_from == "received"


RECEIVED_ON, DEADLINES = "received_on", "deadlines"
# The names engine_context gives the engine beside an officer's answers (the names lint knows them).
CONTEXT_NAMES = (RECEIVED_ON, DEADLINES, *local_rules.ENGINE_NAMES)


def engine_context(
    deployed: processes.DeployedProcess,
    received: date,
    today: date | None = None,
    done: Mapping[str, date] | None = None,
) -> dict[str, Any]:
    """Return the data the engine gets beside an officer's answers: receipt day and deadlines.

    `deadlines` maps each user task to the moment (UTC, ISO) it becomes overdue if it becomes
    ready in this step; timer boundary events read it (`deadlines["acknowledge_application"]`),
    so escalations follow timescales.toml in working days, never a constant in a diagram.
    `done` (from `done_before`) says which steps are in a fresh round, and since when.
    The council's threshold number and window (`local_threshold_number`, `local_window_months`)
    come with them: the threshold table reads them (services/casework/local_rules.py).
    """
    today = today or calendar.today()
    deadlines = {}
    for task in deployed.user_tasks:
        due = _due_on(deployed, task, received, today, done)
        if due is not None:
            deadlines[task] = calendar.end_of_day(due).isoformat()
    return {RECEIVED_ON: received.isoformat(), DEADLINES: deadlines} | deployed.local.engine_names()


def append_event(
    session: Session,
    case: Case,
    actor: Actor,
    kind: str,
    *,
    task: engine.HumanTask | None = None,
    data: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    task_ref: tuple[str, str, str] | None = None,
) -> Event:
    """Append one event to the case's history, numbered after the last, chained by its hash.

    An event is hashed here: set everything it says through these arguments (`task_ref` is
    (task id, task spec, task name) for events about a task with no engine task at hand).
    """
    if task is not None:
        task_ref = (task.id, task.spec_name, task.name)
    case.events_recorded += 1
    content: dict[str, Any] = {
        "case_id": case.id,
        "seq": case.events_recorded,
        "occurred_at": utcnow(),
        "actor": actor.username,
        "kind": kind,
        "task_id": task_ref[0] if task_ref else None,
        "task_spec": task_ref[1] if task_ref else None,
        "task_name": task_ref[2] if task_ref else None,
        # As the JSON column will give them back, so that the hash is over what is read.
        "data": chain.as_stored(data),
        "detail": chain.as_stored(detail),
    }
    # Personal values are committed to by salted digests, so they can be erased (issue 13).
    content["personal"] = {
        "data": personal_data.classify_data(content["data"], _closed_keys(case)),
        "detail": personal_data.classify_detail(content["detail"]),
    }
    subjects = {*content["personal"]["data"].values(), *content["personal"]["detail"].values()}
    # Not flushed first: the case row would be written twice in one step (its state, then its
    # event head), and the salts made earlier in this transaction are known without a flush.
    with session.no_autoflush:
        salts = case_salts.salts_for(session, case, subjects) if subjects else {}
    # The case row is locked (or new) while its events are appended, so its head is current.
    prev_hash = case.last_event_hash or chain.GENESIS
    event = Event(**content, prev_hash=prev_hash, hash=chain.event_hash(content, prev_hash, salts))
    event.salts = salts
    case.last_event_hash = event.hash
    session.add(event)
    return event


def _closed_keys(case: Case) -> frozenset[str]:
    """The closed-choice field names of the case's forms (not personal data)."""
    version = case.process_version
    if version is None:
        return frozenset()
    deployed = processes.deployed(version)
    return personal_data.closed_keys_of_files(deployed.content_hash, deployed.files.files)


def step_detail(case: Case, report: engine.StepReport) -> dict[str, Any]:
    """Describe what the engine did after a step, and where the case stands, for its event."""
    return {
        "automatic": report.automatic,
        "engine_now": report.now,
        "stage": case.stage,
        "status": case.status,
        "outcome": case.outcome,
        "ready": [{"id": t.id, "name": t.name} for t in case.open_tasks],
    }


def next_reference(session: Session, authority: Authority, year: int) -> str:
    """Give out an authority's next case number of the year, safe under concurrent submissions.

    Each authority counts on its own, under its own prefix (DER-2026-0001, CHF-2026-0001).
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(AuthorityCounter)
        .values(authority_id=authority.id, year=year, last_number=0)
        .on_conflict_do_nothing()
    )
    counter = session.get(
        AuthorityCounter, (authority.id, year), with_for_update=True, populate_existing=True
    )
    assert counter is not None
    counter.last_number += 1
    session.flush()
    return f"{authority.reference_prefix}-{year}-{counter.last_number:04d}"
