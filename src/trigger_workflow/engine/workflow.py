"""Run a case's workflow: start it, list its waiting human tasks, complete one, say where it is."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import EscalationEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from trigger_workflow.engine import clock, sandbox, script_pool
from trigger_workflow.errors import EngineError, NotFound, TaskNotOpen

FINISHED_STAGE = "Closed"
ESCALATION_END_PREFIX = "end_escalation"
TIMER_EVENT_TYPES = {
    "TimeDateEventDefinition",
    "DurationTimerEventDefinition",
    "CycleTimerEventDefinition",
}  # ends of the main diagram's escalation branches
Workflow: TypeAlias = (
    BpmnWorkflow  # the rest of the application names the engine's type through here
)


@dataclass(frozen=True)
class HumanTask:
    """A user task waiting for someone, as the rest of the application sees it."""

    id: str
    spec_name: str
    name: str
    lane: str | None
    stage: str
    form: str | None
    ui_form: str | None
    instructions: str | None
    data: dict[str, Any]

    @property
    def agency(self) -> str | None:
        """Return the agency a per-agency task (multi-instance over agencies) is for."""
        value = self.data.get("agency")
        return value if isinstance(value, str) else None


@dataclass
class StepReport:
    """What the engine did on its own after a start or a completed task."""

    automatic: list[dict[str, str]] = field(default_factory=list)
    # The moment the engine read as "now" for this run (ISO 8601, UTC): replay pins it again.
    now: str = ""

    def record(self, task: Task) -> bool:
        """Note a task the engine completed by itself (scripts, decisions, gateways)."""
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None) and not spec.manual:
            self.automatic.append({"task": spec.bpmn_id, "name": spec.bpmn_name or spec.bpmn_id})
        _forget_escalation_branch_data(task)
        return True


def _forget_escalation_branch_data(task: Task) -> None:
    """Empty the data of a stage's escalation end once it has thrown its escalation.

    The branch was copied from the stage's data when the overdue task became ready. When the
    stage ends, the engine merges every finished branch's data into what it returns, lists and
    dicts merged item by item: a stale copy would mix a fresh review's answers with the last
    round's. The escalation itself carries no answers, so the branch returns nothing.
    """
    spec = task.task_spec
    if isinstance(spec, EndEvent) and isinstance(
        getattr(spec, "event_definition", None), EscalationEventDefinition
    ):
        task.data = {}


def start(
    spec: Any, subprocess_specs: dict[str, Any], *, now: datetime | None = None
) -> tuple[Workflow, StepReport]:
    """Create a workflow and run it to its first wait."""
    with clock.pinned(now or clock.now()) as moment, script_pool.step_budget():
        workflow = Workflow(spec, subprocess_specs, script_engine=sandbox.default_engine())
        return workflow, _stamped(_run_engine(workflow, task_name=None), moment)


def _stamped(report: StepReport, moment: datetime) -> StepReport:
    report.now = moment.isoformat()
    return report


def human_tasks(workflow: BpmnWorkflow) -> list[HumanTask]:
    """Return every READY user task, in the workflow's order."""
    return [
        _human_task(workflow, t) for t in workflow.get_tasks(state=TaskState.READY, manual=True)
    ]


def find_human_task(workflow: BpmnWorkflow, task_id: str) -> HumanTask:
    """Return the READY user task with this id, or raise NotFound / TaskNotOpen.

    As `human_tasks` gives it, without walking the whole task tree to find one task.
    """
    return _human_task(workflow, find_task(workflow, task_id))


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task:
    """Return the task with this id, or raise NotFound / TaskNotOpen."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TaskNotFoundException):
        raise NotFound(f"There is no task {task_id} on this case.") from None
    if task is None:
        raise NotFound(f"There is no task {task_id} on this case.")
    if not task.task_spec.manual:
        raise NotFound(f"Task {task_id} is not a task for a person.")
    if task.state != TaskState.READY:
        raise TaskNotOpen(
            f"'{task.task_spec.bpmn_name}' is no longer waiting ({TaskState.get_name(task.state)}).",
            task_id=task_id,
        )
    return task


def complete(
    workflow: BpmnWorkflow,
    task_id: str,
    data: dict[str, Any],
    context: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> StepReport:
    """Complete a READY human task with the submitted data and run on to the next wait.

    `context` is data the application adds beside the answers (the day the application arrived,
    the deadlines the diagrams' timers read); it is not part of what the person submitted.
    """
    task = find_task(workflow, task_id)
    # A copy: scripts may change task data, and the caller keeps a record of what was submitted.
    task.data.update(copy.deepcopy(data))
    task.data.update(copy.deepcopy(context or {}))
    name = task.task_spec.bpmn_name or task.task_spec.bpmn_id
    with clock.pinned(now or clock.now()) as moment, script_pool.step_budget():
        try:
            task.run()
        except Exception as error:  # noqa: BLE001 (any failure in the engine holds the case)
            raise _engine_error(error, name, workflow) from error
        return _stamped(_run_engine(workflow, task_name=name), moment)


def _run_engine(workflow: BpmnWorkflow, task_name: str | None) -> StepReport:
    report = StepReport()
    try:
        workflow.do_engine_steps(did_complete_task=report.record)
    except Exception as error:  # noqa: BLE001 (any failure in the engine holds the case)
        raise _engine_error(error, task_name, workflow) from error
    return report


def _engine_error(
    error: Exception, after: str | None, workflow: BpmnWorkflow | None = None
) -> EngineError:
    """Say which element failed, on which line, and why, in words a process owner reads.

    The library's own errors name the element; anything else (a failure inside the library's
    error handling, or the engine's) is traced to the task the engine marked as failed.
    """
    if not isinstance(error, SpiffWorkflowException):
        return _unwrapped_error(error, after, workflow)
    task_spec = getattr(error, "task_spec", None)
    element = getattr(task_spec, "bpmn_id", None)
    failed = getattr(task_spec, "bpmn_name", None) or element
    line = getattr(error, "line_number", None) or None
    cause = _cause(error)
    reason = str(error)
    if cause is not None and not isinstance(cause, SpiffWorkflowException):
        detail = (
            str(cause)
            if isinstance(cause, (sandbox.ScriptRefused, sandbox.ScriptFailed))
            else f"{type(cause).__name__}: {cause}"
        )
        reason = detail if reason.startswith(type(cause).__name__) else f"{reason}: {detail}"
    where = f"'{failed}'" if failed else (after or "the process")
    at_line = f" (line {line})" if line else ""
    message = f"{where} could not run{at_line}: {reason}"
    return EngineError(message, task=failed or after, element_id=element, line=line, reason=reason)


def _unwrapped_error(
    error: Exception, after: str | None, workflow: BpmnWorkflow | None
) -> EngineError:
    """Describe a failure the library did not wrap, by its first cause and the failed task."""
    cause: BaseException = error
    while cause.__context__ is not None and not isinstance(cause, SpiffWorkflowException):
        cause = cause.__context__
    if isinstance(cause, SpiffWorkflowException):
        return _engine_error(cause, after, workflow)
    failed = _failed_task(workflow)
    spec = failed.task_spec if failed is not None else None
    element = getattr(spec, "bpmn_id", None)
    name = getattr(spec, "bpmn_name", None) or element
    line = getattr(cause, "script_line", None) or getattr(cause, "lineno", None) or None
    reason = (
        str(cause)
        if isinstance(cause, (sandbox.ScriptRefused, sandbox.ScriptFailed))
        else f"{type(cause).__name__}: {cause}"
    )
    where = f"'{name}'" if name else (after or "the process")
    at_line = f" (line {line})" if line else ""
    message = f"{where} could not run{at_line}: {reason}"
    return EngineError(message, task=name or after, element_id=element, line=line, reason=reason)


def _failed_task(workflow: BpmnWorkflow | None) -> Task | None:
    """Return the task the engine marked as failed (ERROR), if any."""
    if workflow is None:
        return None
    failed = workflow.get_tasks(state=TaskState.ERROR)
    return failed[-1] if failed else None


def _cause(error: BaseException) -> BaseException | None:
    """Return the first error underneath the engine's own wrapping, if any."""
    seen = error.__cause__ or error.__context__
    while isinstance(seen, SpiffWorkflowException) and (seen.__cause__ or seen.__context__):
        seen = seen.__cause__ or seen.__context__
    return seen


def correct_data(
    workflow: BpmnWorkflow, task_id: str | None, values: dict[str, Any]
) -> dict[str, Any]:
    """Set values in the data a stopped task (or the waiting timers) will run with; return the old ones."""
    tasks: list[Task] = []
    if task_id:
        try:
            tasks = [workflow.get_task_from_id(UUID(task_id))]
        except (ValueError, TaskNotFoundException):
            tasks = []
    if not tasks:
        tasks = list(workflow.get_tasks(state=TaskState.READY | TaskState.WAITING))
    if not tasks:
        raise NotFound("The case has no waiting task whose data could be corrected.")
    before = {k: tasks[0].data.get(k) for k in values}
    for task in tasks:
        task.data.update(copy.deepcopy(values))
    return before


def own_answers(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    """Return the values a waiting task set itself (its pre-script), not what flowed into it.

    A task's data starts as a copy of what came before it: in a fresh round that holds the
    earlier round's answers under the same names. Only what differs from its parent's data was
    given to this task instance.
    """
    task = find_task(workflow, task_id)
    inherited = task.parent.data if task.parent is not None else {}
    missing = object()
    return {k: v for k, v in task.data.items() if inherited.get(k, missing) != v}


def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Return the case's data as its next step sees it (or as it ended)."""
    if workflow.is_completed():
        return dict(workflow.data) or dict(workflow.last_task.data if workflow.last_task else {})
    ready = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    leaves = [t for t in ready if not t.children]
    return dict((leaves or ready or [workflow.task_tree])[0].data)


def ready_task_like(
    workflow: BpmnWorkflow, task_id: str | None, spec_name: str | None
) -> HumanTask:
    """Return the READY human task with this id, or else the one of the same diagram task."""
    ready = human_tasks(workflow)
    for task in ready:
        if task.id == task_id:
            return task
    for task in ready:
        if task.spec_name == spec_name:
            return task
    raise NotFound(f"The case has no open task '{spec_name}' to retry.")


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    """Return when the earliest waiting timer of the workflow falls due, if any is waiting."""
    due = []
    for event in workflow.waiting_events():
        value = event.value
        if isinstance(value, dict):
            value = value.get("next")
        if event.event_type in TIMER_EVENT_TYPES and isinstance(value, str):
            moment = datetime.fromisoformat(value)
            due.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return min(due, default=None)


def fire_timers(workflow: BpmnWorkflow, *, now: datetime | None = None) -> StepReport:
    """Fire every timer due at `now` and run on; the engine needs a second pass to follow it."""
    report = StepReport()
    with clock.pinned(now or clock.now()) as moment, script_pool.step_budget():
        try:
            for _ in range(2):
                workflow.refresh_timers()
                workflow.do_engine_steps(did_complete_task=report.record)
        except Exception as error:  # noqa: BLE001 (any failure in the engine holds the case)
            raise _engine_error(error, "a timer", workflow) from error
    return _stamped(report, moment)


def stage(workflow: BpmnWorkflow) -> str:
    """Return the name of the stage (call activity of the main diagram) the case is in."""
    if workflow.is_completed():
        return FINISHED_STAGE
    # The main diagram's own tasks only: its call activities' subprocesses are not walked.
    active = [
        t
        for t in workflow.get_tasks(
            state=TaskState.STARTED | TaskState.WAITING, skip_subprocesses=True
        )
        if isinstance(t.task_spec, CallActivity)
    ]
    if active:
        return str(active[-1].task_spec.bpmn_name or active[-1].task_spec.bpmn_id)
    ready = human_tasks(workflow)
    return ready[0].stage if ready else "Running"


def end_reached(workflow: BpmnWorkflow) -> str | None:
    """Return the name of the main diagram's end event the case finished at, if it has."""
    if not workflow.is_completed():
        return None
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        spec = task.task_spec
        # An escalation's branch ends too, but it is not where the case finished.
        if (
            task.workflow is workflow
            and isinstance(spec, EndEvent)
            and not spec.bpmn_id.startswith(ESCALATION_END_PREFIX)
        ):
            return str(spec.bpmn_name or spec.bpmn_id)
    return None


def _human_task(workflow: BpmnWorkflow, task: Task) -> HumanTask:
    spec = task.task_spec
    properties = spec.extensions.get("properties", {}) if hasattr(spec, "extensions") else {}
    return HumanTask(
        id=str(task.id),
        spec_name=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        stage=_stage_of(workflow, task),
        form=properties.get("formJsonSchemaFilename"),
        ui_form=properties.get("formUiSchemaFilename"),
        instructions=spec.extensions.get("instructionsForEndUser")
        if hasattr(spec, "extensions")
        else None,
        data=task.data,
    )


def _stage_of(workflow: BpmnWorkflow, task: Task) -> str:
    """Climb from a task to the call activity of the main diagram that contains it."""
    sub = task.workflow
    caller: Task | None = None
    while sub is not workflow:
        caller = workflow.get_task_from_id(sub.parent_task_id)
        sub = caller.workflow
    if caller is None:
        return str(task.workflow.spec.description or task.workflow.spec.name)
    return str(caller.task_spec.bpmn_name or caller.task_spec.bpmn_id)
