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


@dataclass(frozen=True)
class CountRule:
    """A decision table with a `count_met` output: how many complaints it needs to say met."""

    table_id: str
    task_id: str
    needs: int | None  # None: no count up to HIGHEST_COUNT_TRIED meets it


def count_rules(spec: Any, subprocess_specs: dict[str, Any]) -> list[CountRule]:
    """Return the count rule of every business rule task whose table outputs `count_met`."""
    found = []
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            table = getattr(engine, "decision_table", None)
            if table is None or COUNT_OUTPUT not in {o.name for o in table.outputs}:
                continue
            found.append(CountRule(table.id, task_spec.bpmn_id, _needs(engine, table)))
    return found


def _needs(engine: DMNEngine, table: Any) -> int | None:
    """Return the smallest count of complaints for which the table says the count is met."""
    column = _count_column(table)
    for count in range(HIGHEST_COUNT_TRIED + 1):
        if _count_met(engine, table, column, count):
            return count
    return None


def _count_column(table: Any) -> Any:
    for column in table.inputs:
        if COUNT_FUNCTION in (column.expression or ""):
            return column
    return table.inputs[0] if table.inputs else None


def _count_met(engine: DMNEngine, table: Any, column: Any, count: int) -> bool:
    """Run the table's rules in order (FIRST) with the count column given `count`."""
    task = SimpleNamespace(
        data={}, workflow=SimpleNamespace(script_engine=sandbox.default_engine())
    )
    for rule in table.rules:
        entries = [e for e in rule.inputEntries if e.input is column]
        if all(engine.evaluate(str(count), lhs, task) for e in entries for lhs in e.lhs if lhs):
            return bool(rule.output_as_dict(task).get(COUNT_OUTPUT))
    return False
