"""Where a case stands on its diagrams: which elements are completed and which are waiting."""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

WAITING_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class Position:
    """The completed and waiting BPMN elements of one process the case has entered."""

    process_id: str
    completed: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)


def positions(workflow: BpmnWorkflow) -> list[Position]:
    """Return the position on the main process first, then on each process the case entered."""
    found: dict[str, Position] = {}
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        process_id = task.workflow.spec.name
        position = found.setdefault(process_id, Position(process_id))
        if task.state == TaskState.COMPLETED:
            position.completed.add(bpmn_id)
        elif task.state & WAITING_STATES:
            position.waiting.add(bpmn_id)
    for position in found.values():
        # A step done once and waiting again (a fresh review after an appeal) shows as waiting.
        position.completed -= position.waiting
    main = workflow.spec.name
    return sorted(found.values(), key=lambda p: (p.process_id != main, not p.waiting))
