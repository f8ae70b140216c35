"""Move a running workflow onto the specs of another version of its process.

SpiffWorkflow 3.2 has no migration of its own. A workflow's state names each task's spec by
name, within the spec of its (sub)workflow; the tasks still to come (FUTURE, LIKELY, MAYBE) were
predicted from the old specs. So a move is: on the old specs, drop the predicted tasks after each
waiting one; check that every task left (completed, ready, waiting) names a spec the new version
has, in a subprocess the new version has; restore the state on the new specs; and predict the
tasks to come from the new specs, as the engine does when it resets a branch.

Boundary events need care. The engine puts a task with boundary events (the officers' overdue
timers, the stages' escalations) under a BoundaryEventSplit, beside its events: the split
predicts each event as MAYBE, with MAYBE outputs, and only then sets it WAITING. So a waiting
event's branch is predicted as one that may happen, never as FUTURE like the branch after a
waiting task; and the event keeps its own internal data (a timer's due moment, event_value), so
a moved case escalates when it would have. A waiting task whose events differ in the new
version (added, or not all there) cannot move: it would never wait on the events it lacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from trigger_workflow.engine import serialization
from trigger_workflow.errors import EngineError

ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING
TO_COME = TaskState.FUTURE | TaskState.PREDICTED_MASK


@dataclass(frozen=True)
class Obstacle:
    """Why a workflow cannot move: which task (by id and name) and what is wrong."""

    task: str
    name: str
    reason: str

    def __str__(self) -> str:
        label = (
            f"'{self.name}' ({self.task})"
            if self.name and self.name != self.task
            else (f"'{self.task}'")
        )
        return f"{label}: {self.reason}"


def obstacles(workflow: BpmnWorkflow, target: serialization.Specs) -> list[Obstacle]:
    """Return what stops this workflow (restored on its own specs) moving to the target specs."""
    found: list[Obstacle] = []
    for sub in _workflows(workflow):
        target_spec = _target_spec(sub, workflow, target)
        if target_spec is None:
            found.append(
                Obstacle(sub.spec.name, sub.spec.description or sub.spec.name, _no_process(sub))
            )
            continue
        for task in sub.get_tasks(state=TaskState.ANY_MASK ^ TO_COME):
            if task.workflow is not sub:
                continue
            found += _task_obstacles(task, target_spec, target)
    return found


def move(workflow: BpmnWorkflow, target: serialization.Specs) -> BpmnWorkflow:
    """Return the workflow re-bound to the target specs; call only when obstacles() is empty."""
    try:
        moved = _rebind(workflow, target)
        # A round trip proves the new state is one the engine restores as it is.
        state = serialization.dump_state(moved)
        again = serialization.load_state(state, target, serialization.SERIALIZER_VERSION)
    except (SpiffWorkflowException, KeyError, ValueError) as error:
        raise EngineError(f"The case could not be moved: {error}") from error
    if json.loads(serialization.dump_state(again)) != json.loads(state):
        raise EngineError("The case could not be moved: its new state does not restore unchanged.")
    return moved


def _rebind(workflow: BpmnWorkflow, target: serialization.Specs) -> BpmnWorkflow:
    for sub in _workflows(workflow):
        for task in sub.get_tasks(state=ACTIVE):
            if task.workflow is sub:
                for child in list(task.children):
                    if child.has_state(TO_COME) and child.task_spec in task.task_spec.outputs:
                        sub._remove_task(child.id)
    state = serialization.dump_state(workflow)
    moved = serialization.load_state(state, target, serialization.SERIALIZER_VERSION)
    for sub in _workflows(moved):
        for task in sub.get_tasks(state=ACTIVE):
            if task.workflow is not sub:
                continue
            if _attached_event(task):
                _predict_attached_event(task)
                continue
            have = {child.task_spec for child in task.children}
            for spec in task.task_spec.outputs:
                if spec not in have:
                    child = task._add_child(spec, TaskState.FUTURE)
                    spec._predict(child, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    return moved


def _attached_event(task: Any) -> bool:
    """Return whether the task is a boundary event the engine set waiting beside its task."""
    return isinstance(task.task_spec, BoundaryEvent) and isinstance(
        task.parent.task_spec, BoundaryEventSplit
    )


def _predict_attached_event(task: Any) -> None:
    """Predict a waiting boundary event's branch as its split did: as a MAYBE event.

    The state is swapped for the prediction only (not through _set_state, so the event's
    last state change stays as it was) and restored at once.
    """
    waiting = task._state
    task._state = TaskState.MAYBE
    try:
        task.task_spec._predict(task, None, 1, TaskState.PREDICTED_MASK)
    finally:
        task._state = waiting


def _workflows(workflow: BpmnWorkflow) -> list[Any]:
    return [workflow, *workflow.subprocesses.values()]


def _target_spec(sub: Any, top: BpmnWorkflow, target: serialization.Specs) -> Any:
    if sub is top:
        return target.spec if target.spec.name == top.spec.name else None
    return target.subprocess_specs.get(sub.spec.name)


def _no_process(sub: Any) -> str:
    return f"the new version has no process '{sub.spec.name}' for this running stage"


def _task_obstacles(task: Any, target_spec: Any, target: serialization.Specs) -> list[Obstacle]:
    spec = task.task_spec
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name
    new = target_spec.task_specs.get(spec.name)
    waiting = task.has_state(ACTIVE)
    if new is None:
        what = "is waiting" if waiting else "was done"
        return [Obstacle(spec.name, name, f"{what} here but the new version has no such task")]
    if type(new) is not type(spec):
        return [
            Obstacle(
                spec.name,
                name,
                f"is a {type(spec).__name__} here but a {type(new).__name__} in the new version",
            )
        ]
    if waiting and not _attached_event(task):
        here, there = _events_here(task), _events_there(new, target_spec)
        if here != there:
            return [
                Obstacle(
                    spec.name,
                    name,
                    f"waits with boundary events {_listed(here)} here"
                    f" but has {_listed(there)} in the new version",
                )
            ]
    if waiting and isinstance(spec, SubWorkflowTask) and spec.spec != new.spec:
        return [Obstacle(spec.name, name, f"calls '{spec.spec}' here but '{new.spec}' there")]
    if waiting and getattr(spec, "manual", False) and _form(spec) and not _form(new):
        return [Obstacle(spec.name, name, "has a form here but none in the new version")]
    return []


def _events_here(task: Any) -> set[str]:
    """Return the boundary events the running task has beside it (waiting or fired)."""
    parent = task.parent
    if parent is None or parent.task_spec.name != f"{task.task_spec.name}.BoundaryEventSplit":
        return set()
    return {child.task_spec.name for child in parent.children if child is not task}


def _events_there(new: Any, target_spec: Any) -> set[str]:
    """Return the boundary events the new version attaches to the task."""
    split = target_spec.task_specs.get(f"{new.name}.BoundaryEventSplit")
    if split is None:
        return set()
    return {output.name for output in split.outputs if output is not new}


def _listed(names: set[str]) -> str:
    return ", ".join(f"'{n}'" for n in sorted(names)) if names else "none"


def _form(spec: Any) -> str | None:
    properties = getattr(spec, "extensions", {}).get("properties", {})
    form = properties.get("formJsonSchemaFilename")
    return form if isinstance(form, str) else None
