"""What of a case's past its saved workflow state keeps: the open work, not every round.

SpiffWorkflow keeps every called stage's workflow in `BpmnWorkflow.subprocesses` after the stage
has ended, and every task of the main diagram: each appeal loop (a fresh review, outcome notice
and appeal) added about 40 KB, and the cost of restoring, walking and saving the state on every
completion grew with the whole history of the case. Two things are left out when it is saved:

- **Finished stages.** A called workflow that has ended, whose tasks have all ended and whose
  call activity has ended, is never read by the engine again: it updates only tasks still to
  come, none of its tasks waits for an event or a timer, and what it returned is already in its
  call activity's data.
- **Finished rounds of the main diagram.** When the case passes a task of the main diagram
  again (a fresh review after an upheld appeal), the earlier pass and everything after it up to
  the new pass is cut out, provided all of it has ended, holds no join (a join merges the data
  of its earlier instances), no stage left in the state, nothing the workflow points at, and
  only tasks an earlier kept pass also completed. The new pass then hangs from the task the
  earlier one did: the same spec, so the tree stays one the engine could have made, and which
  elements were ever completed (the case page's stages) stays the same.

The case's history is its events (services/audit): replay re-runs them and still shows every
stage of every round. The cut is made on the saved dict only (the workflow in memory keeps
everything until the request ends); a state restored from it saves to the same text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

ENDED = TaskState.COMPLETED | TaskState.CANCELLED


def finished_stages(workflow: BpmnWorkflow) -> set[UUID]:
    """Return the ids (their call activities' task ids) of the called workflows a saved state
    leaves out: ended, with every task ended, called by an ended task; and any they called."""
    dropped = {
        task_id for task_id, sub in workflow.subprocesses.items() if _ended(workflow, task_id, sub)
    }
    # A workflow called from inside a dropped one could not be restored without its caller.
    grew = True
    while grew:
        grew = False
        for task_id, sub in workflow.subprocesses.items():
            if task_id not in dropped and _caller_workflow_id(sub) in dropped:
                dropped.add(task_id)
                grew = True
    return dropped


def _ended(workflow: BpmnWorkflow, task_id: UUID, sub: Any) -> bool:
    if not sub.completed:
        return False
    caller = workflow.get_task_from_id(task_id)
    if caller is None or not caller.has_state(ENDED):
        return False
    return all(task.has_state(ENDED) for task in sub.tasks.values())


def _caller_workflow_id(sub: Any) -> UUID | None:
    """Return the task id the workflow calling this one is known by (None: the top workflow)."""
    parent = sub.parent_workflow
    return getattr(parent, "parent_task_id", None)


def cut_finished_rounds(
    workflow: BpmnWorkflow, tasks: dict[str, dict[str, Any]], dropped: set[UUID]
) -> None:
    """Cut the main diagram's finished earlier rounds out of its saved tasks (in place).

    `tasks` is the library's dict of the workflow's tasks, by id; `dropped` the finished stages
    left out of the same state (a round whose stage is kept is not cut).
    """
    ended = _ended_subtrees(workflow.task_tree, workflow, dropped)
    chain = _chain(workflow, ended)
    completed_before: set[str] = set()
    i = 0
    while i < len(chain):
        if i > 0:
            for j in range(len(chain) - 1, i, -1):
                if (
                    chain[j].task_spec is chain[i].task_spec
                    and _cuttable(workflow, chain, (i, j), (dropped, ended), completed_before)
                    and not _named_elsewhere(tasks, chain, (i, j), ended)
                ):
                    _cut(tasks, chain, i, j, ended)
                    chain = chain[:i] + chain[j:]
                    break
        completed_before |= _completed_ids(_side(chain, i, ended))
        i += 1


def _ended_subtrees(root: Task, workflow: BpmnWorkflow, dropped: set[UUID]) -> set[UUID]:
    """Return the ids of the tasks whose whole subtree has ended (stages called in it too)."""
    ended: set[UUID] = set()
    order: list[Task] = []
    stack = [root]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(task.children)
    for task in reversed(order):  # children before their parents
        if (
            task.has_state(ENDED)
            and (task.id not in workflow.subprocesses or task.id in dropped)
            and all(child.id in ended for child in task.children)
        ):
            ended.add(task.id)
    return ended


def _chain(workflow: BpmnWorkflow, ended: set[UUID]) -> list[Task]:
    """Return the completed tasks from the root down to the open work, while it is one path.

    Where everything below has ended (a closed case), the path goes on to the last task the
    workflow completed, so that a state cut at every save and one cut once at the end (the
    replay's) come out the same.
    """
    last = workflow.last_task
    line: set[UUID] = set()
    while last is not None and last.workflow is workflow:
        line.add(last.id)
        last = last.parent
    chain: list[Task] = []
    task: Task | None = workflow.task_tree
    while task is not None and task.has_state(TaskState.COMPLETED):
        following = [child for child in task.children if child.id not in ended]
        if not following:
            following = [child for child in task.children if child.id in line]
        if len(following) != 1:
            break
        chain.append(task)
        task = following[0]
    return chain


def _side(chain: list[Task], index: int, ended: set[UUID]) -> Iterator[Task]:
    """Yield a chain task and its ended branches (everything under it but the next on the chain)."""
    task = chain[index]
    following = chain[index + 1] if index + 1 < len(chain) else None
    yield task
    stack = [c for c in task.children if c is not following and c.id in ended]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def _completed_ids(tasks: Iterable[Task]) -> set[str]:
    """Return the diagram ids of the completed tasks among these (what the case page marks)."""
    return {
        t.task_spec.bpmn_id
        for t in tasks
        if t.has_state(TaskState.COMPLETED) and getattr(t.task_spec, "bpmn_id", None)
    }


def _cuttable(
    workflow: BpmnWorkflow,
    chain: list[Task],
    span: tuple[int, int],
    left_out: tuple[set[UUID], set[UUID]],
    completed_before: set[str],
) -> bool:
    """Return whether chain[i:j] and their branches may go, chain[j] taking chain[i]'s place."""
    i, j = span
    dropped, ended = left_out
    segment = [task for k in range(i, j) for task in _side(chain, k, ended)]
    for task in segment:
        if not task.has_state(ENDED) or task is workflow.last_task:
            return False
        if task.id in workflow.subprocesses and task.id not in dropped:
            return False
        # A join other than a boundary event's (which looks only under its own split) reads
        # its earlier instances: merges their data, counts them.
        if isinstance(task.task_spec, Join) and not isinstance(task.task_spec, BoundaryEventJoin):
            return False
    return _completed_ids(segment) <= completed_before


def _named_elsewhere(
    tasks: dict[str, dict[str, Any]], chain: list[Task], span: tuple[int, int], ended: set[UUID]
) -> bool:
    """Return whether the engine data of a task that stays names a task that would go."""
    going = {str(task.id) for k in range(*span) for task in _side(chain, k, ended)}
    staying = json.dumps(
        [t["internal_data"] for key, t in tasks.items() if key not in going], default=str
    )
    return any(task_id in staying for task_id in going)


def _cut(
    tasks: dict[str, dict[str, Any]], chain: list[Task], i: int, j: int, ended: set[UUID]
) -> None:
    """Remove chain[i:j] and their branches from the saved tasks; hang chain[j] from chain[i-1]."""
    parent, first, kept = chain[i - 1], chain[i], chain[j]
    for k in range(i, j):
        for task in _side(chain, k, ended):
            tasks.pop(str(task.id), None)
    parent_dict = tasks[str(parent.id)]
    parent_dict["children"] = [
        str(kept.id) if child == str(first.id) else child for child in parent_dict["children"]
    ]
    kept_dict = tasks[str(kept.id)]
    kept_dict["parent"] = str(parent.id)
    # As the library writes a task's data: what differs from its parent's (now chain[i-1]).
    kept_dict["delta"] = {
        "updates": DeepMerge.get_updated_keys(parent.data, kept.data),
        "deletions": DeepMerge.get_deleted_keys(parent.data, kept.data),
    }
