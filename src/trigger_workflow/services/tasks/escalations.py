"""Say what an escalation is about: the overdue step, for which agency, on which case and stage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.services.accounts.actors import AGENCIES
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, Event, OpenTask, ProcessVersion

ESCALATION_TASK = "handle_escalation"  # the main diagram's "Act on an overdue step"
OVERDUE_SUFFIX, STAGE_OVERDUE_SUFFIX = "_overdue", "_step_overdue"  # boundary events' ids


@dataclass(frozen=True)
class OverdueStep:
    """The step an escalation is about, as it stood when it became overdue."""

    name: str
    agencies: list[str]
    stage: str


def titles(session: Session, tasks: Sequence[tuple[OpenTask, str]]) -> dict[str, str]:
    """Return each task's title (tasks given with their case references): its name, and for an
    escalation the overdue step, its agencies, the case and the stage (e.g. "Act on an overdue
    step: Answer information request (Police), CT-2026-0003, Multi-agency case review")."""
    found = overdue_steps(session, [t for t, _ in tasks if t.task_spec == ESCALATION_TASK])
    named = {t.id: t.name for t, _ in tasks}
    for task, reference in tasks:
        step = found.get(task.id)
        if step is not None:
            agencies = ", ".join(AGENCIES.get(a, a) for a in step.agencies)
            where = ", ".join(part for part in (reference, step.stage) if part)
            named[task.id] = (
                f"{task.name}: {step.name}{f' ({agencies})' if agencies else ''}, {where}"
            )
    return named


def overdue_steps(session: Session, escalations: Sequence[OpenTask]) -> dict[str, OverdueStep]:
    """Return the overdue step of each escalation task, read from the case's events.

    The event that made an escalation ready lists the timers the engine ran (the overdue step's
    boundary event, `<step>_overdue`) and the tasks then waiting (the late step's instances, one
    per agency for an information request).
    """
    if not escalations:
        return {}
    wanted = {t.id for t in escalations}
    # The event that made an escalation ready was written in the same transaction as its row.
    since = min(t.created_at for t in escalations) - timedelta(minutes=1)
    rows = session.execute(
        select(Event.case_id, Event.detail, Case.process_version_id)
        .join(Case, Case.id == Event.case_id)
        .where(Event.case_id.in_({t.case_id for t in escalations}), Event.occurred_at >= since)
        .order_by(Event.case_id, Event.seq)
    ).all()
    found: dict[str, OverdueStep] = {}
    late_ids: dict[str, list[str]] = {}
    names: dict[int, dict[str, str]] = {}  # user task names by id, per process version
    seen: set[str] = set()  # escalations whose first event has been read
    for _, detail, version_id in rows:
        ready = [r for r in detail.get("ready") or [] if isinstance(r, dict)]
        new = [str(r["id"]) for r in ready if r.get("id") in wanted and r["id"] not in seen]
        if not new:
            continue
        seen.update(new)
        if version_id not in names:
            names[version_id] = _task_names(session, version_id)
        for task_id, name in zip(new, _overdue_steps(detail, names[version_id]), strict=False):
            late_ids[task_id] = [str(r.get("id")) for r in ready if r.get("name") == name]
            found[task_id] = OverdueStep(name, [], str(detail.get("stage") or ""))
    _add_agencies_and_stages(session, found, late_ids)
    return found


def _overdue_steps(detail: dict[str, Any], names: dict[str, str]) -> list[str]:
    """Return the name of each step whose overdue timer ran in this event."""
    steps = []
    for ran in detail.get("automatic") or []:
        spec = str(ran.get("task", "")) if isinstance(ran, dict) else ""
        if spec.endswith(OVERDUE_SUFFIX) and not spec.endswith(STAGE_OVERDUE_SUFFIX):
            step = spec.removesuffix(OVERDUE_SUFFIX)
            steps.append(names.get(step) or step.replace("_", " ").capitalize())
    return steps


def _task_names(session: Session, version_id: int) -> dict[str, str]:
    """Return the names of a process version's user tasks by id."""
    version = session.get(ProcessVersion, version_id)
    if version is None:
        return {}
    return {spec: task.name for spec, task in processes.deployed(version).user_tasks.items()}


def _add_agencies_and_stages(
    session: Session, found: dict[str, OverdueStep], late_ids: dict[str, list[str]]
) -> None:
    """Name the agencies of the late step's instances still open, and the stage they are in."""
    ids = {i for group in late_ids.values() for i in group}
    if not ids:
        return
    still_open = {
        t.id: (t.agency, t.stage)
        for t in session.scalars(select(OpenTask).where(OpenTask.id.in_(ids)))
    }
    for task_id, step in list(found.items()):
        late = [still_open[i] for i in late_ids.get(task_id, []) if i in still_open]
        agencies = sorted({agency for agency, _ in late if agency})
        stage = late[0][1] if late else step.stage
        found[task_id] = OverdueStep(step.name, agencies, stage)
