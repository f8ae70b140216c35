"""Read what a deployed decision table decides, by running it as the engine would."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from trigger_workflow.engine import sandbox

COUNT_OUTPUT = "count_met"
COUNT_FUNCTION = "count_qualifying_complaints"
HIGHEST_COUNT_TRIED = 50
# What the engine is given beside the answers (services/casework/local_rules.py): a council's own
# number, 1 to the Act's 3, and window, up to the Act's 6 months. A table may read them.
LOCAL_NUMBER, LOCAL_WINDOW = "local_threshold_number", "local_window_months"
LOCAL_NUMBERS_ALLOWED = (1, 2, 3)
LOCAL_WINDOW_LONGEST = 6


@dataclass(frozen=True)
class CountRule:
    """A decision table with a `count_met` output: how many complaints it needs to say met."""

    table_id: str
    task_id: str
    needs: int | None  # the most it needs for any local number; None: no count meets it
    reads_local_number: bool = False  # True: a council's own number changes what it needs


def count_rules(spec: Any, subprocess_specs: dict[str, Any]) -> list[CountRule]:
    """Return the count rule of every business rule task whose table outputs `count_met`."""
    found = []
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            table = getattr(engine, "decision_table", None)
            if table is None or COUNT_OUTPUT not in {o.name for o in table.outputs}:
                continue
            by_number = [_needs(engine, table, n) for n in LOCAL_NUMBERS_ALLOWED]
            needs = None if None in by_number else max(n for n in by_number if n is not None)
            found.append(CountRule(table.id, task_spec.bpmn_id, needs, len(set(by_number)) > 1))
    return found


def reads_local_window(spec: Any, subprocess_specs: dict[str, Any], rule: CountRule) -> bool:
    """Return whether a count rule's table counts complaints within a council's own window."""
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            table = getattr(getattr(task_spec, "dmnEngine", None), "decision_table", None)
            if table is not None and table.id == rule.table_id:
                return any(LOCAL_WINDOW in (column.expression or "") for column in table.inputs)
    return False


def _needs(engine: DMNEngine, table: Any, local_number: int) -> int | None:
    """Return the smallest count of complaints for which the table says the count is met, for
    a council whose own number is `local_number`."""
    column = _count_column(table)
    for count in range(HIGHEST_COUNT_TRIED + 1):
        if _count_met(engine, table, column, count, local_number):
            return count
    return None


def _count_column(table: Any) -> Any:
    for column in table.inputs:
        if COUNT_FUNCTION in (column.expression or ""):
            return column
    return table.inputs[0] if table.inputs else None


def _count_met(engine: DMNEngine, table: Any, column: Any, count: int, local_number: int) -> bool:
    """Run the table's rules in order (FIRST) with the count column given `count`."""
    task = SimpleNamespace(
        data={LOCAL_NUMBER: local_number, LOCAL_WINDOW: LOCAL_WINDOW_LONGEST},
        workflow=SimpleNamespace(script_engine=sandbox.default_engine()),
    )
    for rule in table.rules:
        entries = [e for e in rule.inputEntries if e.input is column]
        if all(engine.evaluate(str(count), lhs, task) for e in entries for lhs in e.lhs if lhs):
            return bool(rule.output_as_dict(task).get(COUNT_OUTPUT))
    return False
