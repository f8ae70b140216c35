"""Check a set of process files as deployment does, and read their settings files.

Each officer's user task needs a lane mapped to a role (`lanes.toml`), a timescale
(`timescales.toml`) and a valid form; a threshold table may not need more complaints than the
Act allows, for any number a council may set. processes.py runs these checks (`check`) and keeps
what they read with each deployed version.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from typing import Any

import jsonschema

from trigger_workflow.engine import decisions, loader
from trigger_workflow.errors import Problems
from trigger_workflow.services.accounts.actors import APPLICANT, ROLES
from trigger_workflow.services.casework.local_rules import STATUTORY_MAX_COMPLAINTS

LANES_FILE = "lanes.toml"
TIMESCALES_FILE = "timescales.toml"
FORMS_PREFIX = "forms/"


@dataclass(frozen=True)
class Timescale:
    """How many working days a task is given, counted from receipt or from when it is ready."""

    days: int
    counted_from: str


def check_user_task(
    files: loader.ProcessFiles,
    name: str,
    task_spec: Any,
    lanes: dict[str, str],
    timescales: dict[str, Timescale],
    problems: Problems,
) -> None:
    """Check that a user task's lane is mapped, it has a timescale, and its forms are valid."""
    if task_spec.lane is None or task_spec.lane not in lanes:
        problems.add(
            name,
            f"User task '{task_spec.bpmn_name}' is in lane '{task_spec.lane}', "
            f"which {LANES_FILE} does not map to a role.",
            element_id=task_spec.bpmn_id,
        )
    if (
        lanes.get(task_spec.lane) != APPLICANT
        and timescale_of(timescales, task_spec.bpmn_id) is None
    ):
        problems.add(
            TIMESCALES_FILE,
            f"User task '{task_spec.bpmn_name}' has no timescale: add [tasks.{task_spec.bpmn_id}] "
            "or a [default] with days and from.",
            element_id=task_spec.bpmn_id,
        )
    properties = task_spec.extensions.get("properties", {})
    for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
        form_name = properties.get(key)
        if form_name:
            _check_form(files, name, task_spec.bpmn_id, form_name, key, problems)
    if "formJsonSchemaFilename" not in properties:
        problems.add(
            name,
            f"User task '{task_spec.bpmn_name}' names no form (formJsonSchemaFilename).",
            element_id=task_spec.bpmn_id,
        )


def check_count_rules(
    files: loader.ProcessFiles, spec: Any, subprocess_specs: dict[str, Any], problems: Problems
) -> None:
    """Refuse a threshold table that would need more qualifying complaints than the Act's 3."""
    for rule in decisions.count_rules(spec, subprocess_specs):
        if rule.needs is not None and rule.needs <= STATUTORY_MAX_COMPLAINTS:
            continue
        needs = "no number of" if rule.needs is None else f"{rule.needs}"
        file = next(
            (n for n, t in files.named(loader.DMN_SUFFIXES).items() if f'"{rule.table_id}"' in t),
            "the decision table",
        )
        problems.add(
            file,
            f"The threshold count rule needs {needs} qualifying complaints to be met; the Act "
            f"allows an area at most {STATUTORY_MAX_COMPLAINTS} (s.104, rules R6 and R8). "
            f"Set the rule to '>= {STATUTORY_MAX_COMPLAINTS}' or a lower number.",
            element_id=rule.table_id,
        )


def user_task_specs(spec: Any, subprocess_specs: dict[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "manual", False):
                found.append((getattr(process, "file", None) or process.name, task_spec))
    return found


def _check_form(
    files: loader.ProcessFiles,
    file: str,
    element: str,
    form_name: str,
    key: str,
    problems: Problems,
) -> None:
    text = files.files.get(FORMS_PREFIX + form_name)
    if text is None:
        problems.add(file, f"The form '{form_name}' ({key}) is not in forms/.", element_id=element)
        return
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        problems.add(f"forms/{form_name}", f"Not valid JSON: {error.msg}", line=error.lineno)
        return
    if key == "formJsonSchemaFilename":
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            where = "/".join(str(p) for p in error.path) or "the top level"
            problems.add(
                f"forms/{form_name}", f"Not a valid JSON Schema at {where}: {error.message}"
            )


def read_lanes(files: loader.ProcessFiles, problems: Problems) -> dict[str, str]:
    table = _toml(files, LANES_FILE, problems)
    lanes = table.get("lanes", {})
    if not isinstance(lanes, dict):
        problems.add(LANES_FILE, "[lanes] must map lane names to role names.")
        return {}
    known = [APPLICANT, *ROLES]
    for lane, role in lanes.items():
        if role not in known:
            problems.add(
                LANES_FILE,
                f"Lane '{lane}' is mapped to '{role}', which is not a role: "
                f"use one of {', '.join(known)}.",
            )
    return {str(k): str(v) for k, v in lanes.items()}


DEFAULT_TIMESCALE = "[default]"


def read_timescales(files: loader.ProcessFiles, problems: Problems) -> dict[str, Timescale]:
    """Read timescales.toml: [tasks.<task id>] entries, and an optional [default]."""
    table = _toml(files, TIMESCALES_FILE, problems)
    entries = {f"[tasks.{task}]": entry for task, entry in table.get("tasks", {}).items()}
    if "default" in table:
        entries[DEFAULT_TIMESCALE] = table["default"]
    result = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            problems.add(
                TIMESCALES_FILE, f"{name} must be a table with days and from, not a value."
            )
            continue
        days, counted_from = entry.get("days"), entry.get("from", "ready")
        if not isinstance(days, int) or days < 0 or counted_from not in ("ready", "received"):
            problems.add(
                TIMESCALES_FILE,
                f'{name} needs days = a whole number and from = "ready" or "received".',
            )
            continue
        key = name if name == DEFAULT_TIMESCALE else name[len("[tasks.") : -1]
        result[key] = Timescale(days, counted_from)
    return result


def timescale_of(timescales: dict[str, Timescale], task: str) -> Timescale | None:
    return timescales.get(task) or timescales.get(DEFAULT_TIMESCALE)


def _toml(files: loader.ProcessFiles, name: str, problems: Problems) -> dict[str, Any]:
    text = files.files.get(name)
    if text is None:
        problems.add(name, "This settings file is missing.")
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problems.add(name, f"Not valid TOML: {error}")
        return {}
