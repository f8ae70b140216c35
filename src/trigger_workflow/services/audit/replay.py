"""Rebuild a case from its first event on its own process version and compare with what is stored.

Each event that moved the engine is fed to it again: the application and every task's answers
exactly as recorded, and every timer firing at its recorded moment, with the engine's clock pinned
to the moment recorded for that step. After each step the replay is compared with what the event
says happened (stage, status, outcome, tasks waiting); at the end, task by task (path, state,
data), with the stored workflow state.

A case whose personal data was erased (issue 13) is replayed with the sealed digests in place of
the erased values: steps that never read them re-execute as they did; the first step that cannot
(a script or condition that read an erased value) is named, with why, and the replay stops there
without calling it a divergence. Erased values are left out of the final comparison, everything
else is compared as before; the hash chain of every event is checked by `audit verify` anyway.
"""

from __future__ import annotations

import copy
import importlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.engine import serialization
from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import NotFound, TriggerWorkflowError
from trigger_workflow.services.audit import snapshot
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import records
from trigger_workflow.store import chain
from trigger_workflow.store.models import Case, Event, ProcessVersion

CASE_STARTED, TASK_COMPLETED, TIMER_FIRED = "case_started", "task_completed", "timer_fired"
MIGRATED = "migrated"  # the case was moved to another process version (detail.process_version_id)
ENGINE_EVENTS = {CASE_STARTED, TASK_COMPLETED, TIMER_FIRED, MIGRATED}


@dataclass(frozen=True)
class Divergence:
    """The first event at which the replay and the record part, and how."""

    seq: int | None
    message: str


@dataclass
class Step:
    """The case as it stood just after one event, rebuilt by the engine."""

    seq: int
    event: Event
    seen: dict[str, Any] | None  # the task's data as the officer's page showed it
    process_id: str | None  # the diagram (stage) the event's task belongs to
    version_id: int  # the process version the case was on after the event
    marks: snapshot.Marks
    waiting: list[str]


@dataclass
class Replay:
    """The outcome of replaying one case."""

    reference: str
    process_version: int | None
    events: int
    steps: list[Step] = field(default_factory=list)
    divergence: Divergence | None = None
    erased_steps: list[int] = field(default_factory=list)  # steps given erased values
    # The step that could not be re-executed because it read erased personal data, and why.
    stopped: Divergence | None = None

    @property
    def matches(self) -> bool:
        """Return whether the replay matched the record and the stored state (as far as erased
        personal data let it go)."""
        return self.divergence is None

    @property
    def erasure_note(self) -> str | None:
        """Say what erased personal data kept the replay from checking, if anything."""
        if self.stopped is not None:
            return self.stopped.message
        if self.erased_steps:
            seqs = ", ".join(str(s) for s in self.erased_steps)
            return (
                f"event(s) {seqs} were re-executed with their erased personal values sealed; "
                "those values are left out of the comparison"
            )
        return None


class _Diverged(Exception):
    def __init__(self, seq: int | None, message: str) -> None:
        super().__init__(message)
        self.divergence = Divergence(seq, message)


class _Stopped(Exception):
    """A step that read personal data erased since: the replay cannot go on, nothing diverged."""


def replay_case(session: Session, reference: str) -> Replay:
    """Replay a case from its events and compare it with its stored state."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"There is no case {reference}.")
    events = list(
        session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    )
    result = Replay(reference, None, len(events))
    try:
        workflow = _replay_events(session, case, events, result)
        _compare_stored(case, workflow, events)
    except _Diverged as diverged:
        result.divergence = diverged.divergence
    except _Stopped:
        pass  # result.stopped says where and why
    return result


def _replay_events(
    session: Session, case: Case, events: list[Event], result: Replay
) -> engine.Workflow:
    if not events or events[0].kind != CASE_STARTED:
        raise _Diverged(
            events[0].seq if events else None, "the history does not begin with the case starting"
        )
    first = events[0]
    version = _version(session, case, first)
    result.process_version = version.number
    deployed = processes.deployed(version)
    try:
        workflow, _ = engine.start(
            deployed.specs.spec, deployed.specs.subprocess_specs, now=_moment(first)
        )
    except TriggerWorkflowError as error:
        raise _unreplayable(first, error) from error
    ids: dict[str, str] = {}
    _map_new_tasks(workflow, first, ids)
    result.steps.append(_step(first, workflow, None, None, version.id))
    for event in events[1:]:
        if event.kind not in ENGINE_EVENTS - {CASE_STARTED}:
            # Letters, claims, notes…: recorded beside the workflow, not steps of it.
            result.steps.append(_step(event, workflow, None, None, version.id))
            continue
        seen, process_id = None, None
        erased = _holds_erased(event)
        if erased:
            result.erased_steps.append(event.seq)
        try:
            if event.kind == MIGRATED:
                version = _version(session, case, event)
                workflow = _moved(workflow, event, processes.deployed(version))
            else:
                seen, process_id = _feed(workflow, event, ids)
        except TriggerWorkflowError as error:
            if erased:
                result.stopped = Divergence(
                    event.seq,
                    f"event {event.seq} ({event.kind}) cannot be re-executed: it gives the engine "
                    f"personal data since erased, and the engine needed it ({error}); the events "
                    "after it are not re-executed, their chain is still checked",
                )
                raise _Stopped from error
            raise _unreplayable(event, error) from error
        _check_against_event(event, workflow)
        _map_new_tasks(workflow, event, ids)
        result.steps.append(_step(event, workflow, seen, process_id, version.id))
    return workflow


def _holds_erased(event: Event) -> bool:
    """Return whether an event's data or detail holds an erased (sealed) value."""
    return any(
        chain.is_sealed(leaf)
        for part in (event.data, event.detail)
        for _, leaf in personal_data.leaves(part or {})
    )


def _moved(
    workflow: engine.Workflow, event: Event, target: processes.DeployedProcess
) -> engine.Workflow:
    """Move the replayed workflow to the version the case was moved to, as the move did."""
    try:
        # The move between versions lives with the process owners' tools, which may be absent.
        rebind: Any = importlib.import_module("trigger_workflow.engine.rebind")
    except ImportError:
        raise _Diverged(
            event.seq,
            f"event {event.seq} moved the case to another version; this "
            "installation cannot replay such a move",
        ) from None
    moved: engine.Workflow = rebind.move(workflow, target.specs)
    return moved


def _version(session: Session, case: Case, event: Event) -> ProcessVersion:
    """Return the version an event put the case on (its start, or a move)."""
    version_id = event.detail.get("process_version_id", case.process_version_id)
    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise _Diverged(
            event.seq, f"process version id {version_id} of event {event.seq} is not stored"
        )
    return version


def _moment(event: Event) -> datetime:
    """Return the moment the engine read at this step: recorded, or (older events) when it was written."""
    recorded = event.detail.get("engine_now")
    if isinstance(recorded, str) and recorded:
        moment = datetime.fromisoformat(recorded)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return event.occurred_at


def _feed(
    workflow: engine.Workflow, event: Event, ids: dict[str, str]
) -> tuple[dict[str, Any] | None, str | None]:
    """Give the engine one recorded step; for a task, return the data it showed and its diagram."""
    if event.kind == TIMER_FIRED:
        engine.fire_timers(workflow, now=_moment(event))
        return None, None
    task_id = _replay_task_id(workflow, event, ids)
    task = engine.find_task(workflow, task_id)
    seen, process_id = copy.deepcopy(task.data), str(task.workflow.spec.name)
    # What the engine got: the answers, and beside them the context the application added
    # (receipt day, deadlines the escalation timers read, what the law's checks derived),
    # recorded in the event's detail; given the same way, after the answers, as it was.
    context = event.detail.get("context") or {}
    engine.complete(workflow, task_id, event.data, context, now=_moment(event))
    return seen, process_id


def _unreplayable(event: Event, error: Exception) -> _Diverged:
    return _Diverged(event.seq, f"event {event.seq} ({event.kind}) could not be replayed: {error}")


def _replay_task_id(workflow: engine.Workflow, event: Event, ids: dict[str, str]) -> str:
    """Return the replay's id for the recorded task (engine task ids differ on every run)."""
    if event.task_id in ids:
        return ids[event.task_id]
    taken = set(ids.values())
    for task in engine.human_tasks(workflow):
        if task.spec_name == event.task_spec and task.id not in taken:
            ids[str(event.task_id)] = task.id
            return task.id
    raise _Diverged(
        event.seq,
        f"event {event.seq}: '{event.task_name}' was completed, but the replay has no such task waiting",
    )


def _map_new_tasks(workflow: engine.Workflow, event: Event, ids: dict[str, str]) -> None:
    """Pair the tasks the event says opened with the replay's new tasks, in order."""
    recorded = [r for r in event.detail.get("ready", []) if r.get("id") not in ids]
    taken = set(ids.values())
    fresh = [t for t in engine.human_tasks(workflow) if t.id not in taken]
    for row, task in zip(recorded, fresh, strict=False):
        if row.get("name") == task.name:
            ids[row["id"]] = task.id


def _check_against_event(event: Event, workflow: engine.Workflow) -> None:
    detail = event.detail
    now = {
        "stage": engine.stage(workflow),
        "status": "closed" if workflow.is_completed() else "open",
        "outcome": engine.end_reached(workflow),
    }
    for key, value in now.items():
        if key in detail and detail[key] != value:
            raise _Diverged(
                event.seq,
                f"after event {event.seq} the record says {key} {detail[key]!r}, the replay {value!r}",
            )
    if "ready" in detail:
        recorded = Counter(r.get("name") for r in detail["ready"])
        replayed = Counter(t.name for t in engine.human_tasks(workflow))
        if recorded != replayed:
            raise _Diverged(
                event.seq,
                f"after event {event.seq} the record says {_names(recorded)} waiting, the replay {_names(replayed)}",
            )


def _names(counter: Counter[Any]) -> str:
    return ", ".join(sorted(str(n) for n in counter.elements())) or "nothing"


def _step(
    event: Event,
    workflow: engine.Workflow,
    seen: dict[str, Any] | None,
    process_id: str | None,
    version_id: int,
) -> Step:
    return Step(
        event.seq,
        event,
        seen,
        process_id,
        version_id,
        snapshot.marks(workflow),
        [t.name for t in engine.human_tasks(workflow)],
    )


def _compare_stored(case: Case, workflow: engine.Workflow, events: list[Event]) -> None:
    """Compare, task by task, what the replay would save with what is stored.

    Both as a save leaves them: a saved state keeps no finished stage or round (the replay's
    workflow, never saved, still holds them; a state saved before issue 15 too).
    """
    last = events[-1].seq
    try:
        stored = _as_saved(records.load_workflow(case), case)
    except Exception as error:  # a state altered so far that the engine cannot read it
        raise _Diverged(last, f"the stored workflow state cannot be read: {error}") from error
    replayed = snapshot.tasks(_as_saved(workflow, case))
    difference = snapshot.first_difference(
        snapshot.masked(snapshot.tasks(stored), replayed), replayed
    )
    if difference:
        raise _Diverged(
            last, f"after the last event ({last}) the stored state differs: {difference}"
        )


def _as_saved(workflow: engine.Workflow, case: Case) -> engine.Workflow:
    """Return the workflow as saving and restoring it leaves it, on the case's version."""
    specs = processes.for_case(case).specs
    state = serialization.dump_state(workflow)
    return serialization.load_state(state, specs, serialization.SERIALIZER_VERSION)
