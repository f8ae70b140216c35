"""Move a running workflow onto the specs of another version of its process.

SpiffWorkflow 3.2 has no migration of its own. A workflow's state names each task's spec by
name, within the spec of its (sub)workflow; the tasks still to come (FUTURE, LIKELY, MAYBE) were
predicted from the old specs. So a move is: on the old specs, drop the predicted tasks after each
waiting one; check that every task left (completed, ready, waiting) names a spec the new version
has, in a subprocess the new version has; restore the state on the new specs; and predict the
tasks to come from the new specs, as the engine does when it resets a branch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
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
            have = {child.task_spec for child in task.children}
            for spec in task.task_spec.outputs:
                if spec not in have:
                    child = task._add_child(spec, TaskState.FUTURE)
                    spec._predict(child, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    return moved


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
    if waiting and isinstance(spec, SubWorkflowTask) and spec.spec != new.spec:
        return [Obstacle(spec.name, name, f"calls '{spec.spec}' here but '{new.spec}' there")]
    if waiting and getattr(spec, "manual", False) and _form(spec) and not _form(new):
        return [Obstacle(spec.name, name, "has a form here but none in the new version")]
    return []


def _form(spec: Any) -> str | None:
    properties = getattr(spec, "extensions", {}).get("properties", {})
    form = properties.get("formJsonSchemaFilename")
    return form if isinstance(form, str) else None
