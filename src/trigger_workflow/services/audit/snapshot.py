"""Describe a workflow as auditors compare and see it: every task by path, state and data."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from trigger_workflow.engine import workflow as engine
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.store import chain


@dataclass(frozen=True)
class TaskRecord:
    """One task of a workflow, named by its path from the root (stable across replays)."""

    path: str
    process_id: str
    bpmn_id: str | None
    state: str
    data: str  # canonical JSON of the task's data
    internal: str  # canonical JSON of the engine's own data (timer due times, …)


@dataclass
class Marks:
    """What is completed and what is waiting, per process (diagram) id."""

    completed: dict[str, set[str]] = field(default_factory=dict)
    waiting: dict[str, set[str]] = field(default_factory=dict)


UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WAITING_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def tasks(workflow: engine.Workflow) -> list[TaskRecord]:
    """List every task of the workflow and its called stages, depth first, by path."""
    found: list[TaskRecord] = []
    paths: dict[str, str] = {}
    _walk(workflow, workflow, workflow.task_tree, "", found, paths)
    # Engine data names other tasks by id, new on every run: name them by path instead.
    return [
        replace(t, internal=UUID_TEXT.sub(lambda m: paths.get(m.group(0), m.group(0)), t.internal))
        for t in found
    ]


def _walk(
    top: engine.Workflow,
    owner: Any,
    task: Task,
    parent: str,
    found: list[TaskRecord],
    paths: dict[str, str],
) -> None:
    seen: Counter[str] = Counter()
    stack = [(task, parent)]
    while stack:
        current, prefix = stack.pop()
        name = current.task_spec.name
        key = f"{prefix}/{name}"
        seen[key] += 1
        path = f"{key}#{seen[key]}"
        paths[str(current.id)] = path
        found.append(
            TaskRecord(
                path=path,
                process_id=str(current.workflow.spec.name),
                bpmn_id=getattr(current.task_spec, "bpmn_id", None),
                state=TaskState.get_name(current.state),
                data=_canonical(current.data),
                internal=_canonical(current.internal_data),
            )
        )
        sub = top.subprocesses.get(current.id)
        if sub is not None:
            _walk(top, sub, sub.task_tree, path + ">", found, paths)
        stack.extend((child, path) for child in reversed(current.children))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def marks(workflow: engine.Workflow) -> Marks:
    """Return the BPMN ids completed and waiting in each process of the workflow."""
    result = Marks()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        process_id = str(task.workflow.spec.name)
        if task.state == TaskState.COMPLETED:
            result.completed.setdefault(process_id, set()).add(bpmn_id)
        elif task.state & WAITING_STATES:
            result.waiting.setdefault(process_id, set()).add(bpmn_id)
    for process_id, waiting in result.waiting.items():
        # A step done once and waiting again (a fresh review) is shown as waiting.
        result.completed.get(process_id, set()).difference_update(waiting)
    return result


def masked(stored: list[TaskRecord], replayed: list[TaskRecord]) -> list[TaskRecord]:
    """Return the stored tasks with each value the replay holds erased (sealed) set to the same
    sealed value: erased personal data cannot be compared, everything beside it still is."""
    by_path = {t.path: t for t in replayed}
    result = []
    for task in stored:
        other = by_path.get(task.path)
        if other is None or chain.SEALED not in other.data:
            result.append(task)
            continue
        data = json.loads(task.data)
        for parts, leaf in personal_data.leaves(json.loads(other.data)):
            if chain.is_sealed(leaf):
                parent, key, _ = chain.locate(data, personal_data.pointer(parts))
                if parent is not None:
                    parent[key] = leaf
        result.append(replace(task, data=_canonical(data)))
    return result


def first_difference(stored: list[TaskRecord], replayed: list[TaskRecord]) -> str | None:
    """Say how the stored workflow differs from the replayed one, first difference first."""
    by_path = {t.path: t for t in replayed}
    for task in stored:
        other = by_path.pop(task.path, None)
        if other is None:
            return f"task {task.path} ({task.state}) is stored but the replay never made it"
        if task.state != other.state:
            return f"task {task.path}: stored {task.state}, replayed {other.state}"
        if task.data != other.data:
            return f"task {task.path}: data {_data_difference(task.data, other.data)}"
        if task.internal != other.internal:
            return (
                f"task {task.path}: engine data stored {task.internal}, replayed {other.internal}"
            )
    if by_path:
        path, task = next(iter(by_path.items()))
        return f"task {path} ({task.state}) is in the replay but not in the stored state"
    return None


def _data_difference(stored: str, replayed: str) -> str:
    a, b = json.loads(stored), json.loads(replayed)
    for key in sorted(set(a) | set(b)):
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            return (
                f"'{key}' stored {json.dumps(a.get(key, '<absent>'))[:200]}, "
                f"replayed {json.dumps(b.get(key, '<absent>'))[:200]}"
            )
    return "differs"
