"""Deploy process versions (content-hashed) and give running code the parsed version it needs."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

import jsonschema
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import decisions, lint, loader, serialization
from trigger_workflow.errors import DiagramError, NotFound, Problems
from trigger_workflow.services.accounts.actors import APPLICANT, ROLES
from trigger_workflow.services.casework import local_rules
from trigger_workflow.services.casework.local_rules import STATUTORY_MAX_COMPLAINTS, LocalRules
from trigger_workflow.store.models import Authority, Case, ProcessDeployment, ProcessVersion

MAIN_PROCESS = "community_trigger"
LANES_FILE = "lanes.toml"
TIMESCALES_FILE = "timescales.toml"
FORMS_PREFIX = "forms/"
EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class Timescale:
    """How many working days a task is given, counted from receipt or from when it is ready."""

    days: int
    counted_from: str


@dataclass(frozen=True)
class UserTaskForm:
    """A user task of a version, with its lane and the forms it names."""

    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    ui_form: str | None


@dataclass(frozen=True)
class DeployedProcess:
    """Everything a case needs from its process version, parsed once and cached.

    `local` is the council's rules a case runs under (`for_case`): its own working days for a
    task replace the version's, and the engine is given its threshold number and window.
    """

    version_id: int
    number: int
    content_hash: str
    files: loader.ProcessFiles
    specs: serialization.Specs
    lanes: dict[str, str]
    timescales: dict[str, Timescale]
    user_tasks: dict[str, UserTaskForm]
    local: LocalRules = local_rules.COUNTY

    def with_local(self, local: LocalRules) -> DeployedProcess:
        """Return this version as a case under these local rules runs it."""
        return self if local == self.local else dataclasses.replace(self, local=local)

    def application_task(self) -> UserTaskForm:
        """Return the user task in the applicant's lane: the application form."""
        for task in self.user_tasks.values():
            if self.lanes.get(task.lane or "") == APPLICANT:
                return task
        raise NotFound("The process has no task in a lane mapped to the applicant.")

    def timescale(self, task: str) -> Timescale | None:
        """Return the working days a task is given: the council's own days for it, else its own
        entry, else the [default] (counted as the version counts that task)."""
        found = _timescale(self.timescales, task)
        days = self.local.days(task)
        return found if found is None or days is None else Timescale(days, found.counted_from)

    def form(self, name: str | None) -> dict[str, Any] | None:
        """Return a form (JSON Schema or UI schema) of this version by file name."""
        return None if name is None else self.files.json_file(FORMS_PREFIX + name)

    def role_for_lane(self, lane: str | None) -> str:
        """Return the role whose officers do the tasks of this lane."""
        if lane is None or lane not in self.lanes:
            raise DiagramError(
                loader_problem(LANES_FILE, f"Lane '{lane}' is not mapped to a role.")
            )
        return self.lanes[lane]


def loader_problem(file: str, message: str) -> list[Any]:
    """Return a single-problem list for DiagramError."""
    problems = Problems()
    problems.add(file, message)
    return problems.items


def read_process_files(processes_dir: Path, forms_dir: Path) -> loader.ProcessFiles:
    """Read the diagrams, tables, lane and timescale settings and forms from disk."""
    files: dict[str, str] = {}
    for path in sorted(processes_dir.iterdir()):
        if path.is_file() and path.name.endswith((*loader.BPMN_SUFFIXES, *loader.DMN_SUFFIXES)):
            files[path.name] = loader.decode_xml(path.read_bytes())
        elif path.is_file() and path.name.endswith(".toml"):
            files[path.name] = path.read_text(encoding="utf-8")
    for path in sorted(forms_dir.glob("*.json")):
        files[FORMS_PREFIX + path.name] = path.read_text(encoding="utf-8")
    return loader.ProcessFiles(files)


def check(
    files: loader.ProcessFiles, process_id: str = MAIN_PROCESS
) -> tuple[str, dict[str, str], dict[str, Timescale]]:
    """Parse and check a set of process files; return the spec JSON, lanes and timescales."""
    problems = Problems()
    # Code first: its problems are reported even when the diagrams do not parse.
    lint.lint_expressions(files, problems)
    try:
        spec, subprocess_specs = loader.load_specs(files, process_id)
    except DiagramError as error:
        raise DiagramError(error.problems + problems.items) from error
    lanes = _lanes(files, problems)
    timescales = _timescales(files, problems)
    user_tasks = _user_task_specs(spec, subprocess_specs)
    for name, task_spec in user_tasks:
        _check_user_task(files, name, task_spec, lanes, timescales, problems)
    _check_count_rules(files, spec, subprocess_specs, problems)
    task_ids = {task_spec.bpmn_id for _, task_spec in user_tasks}
    for task in sorted(set(timescales) - task_ids - {DEFAULT_TIMESCALE}):
        problems.add(TIMESCALES_FILE, f"[tasks.{task}] names a task that no diagram has.")
    if problems.items:
        raise DiagramError(problems.items)
    return serialization.dump_spec(spec, subprocess_specs), lanes, timescales


def _check_user_task(
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
    if lanes.get(task_spec.lane) != APPLICANT and _timescale(timescales, task_spec.bpmn_id) is None:
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


def _check_count_rules(
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


def _user_task_specs(spec: Any, subprocess_specs: dict[str, Any]) -> list[tuple[str, Any]]:
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


def _lanes(files: loader.ProcessFiles, problems: Problems) -> dict[str, str]:
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


def _timescales(files: loader.ProcessFiles, problems: Problems) -> dict[str, Timescale]:
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


def _timescale(timescales: dict[str, Timescale], task: str) -> Timescale | None:
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


@dataclass(frozen=True)
class DeployResult:
    """The version a deployment produced, whether it is new, and whether it became current."""

    version: ProcessVersion
    created: bool
    made_current: bool = True


def deploy(
    session: Session,
    files: loader.ProcessFiles,
    actor: str,
    process_id: str = MAIN_PROCESS,
    councils: Collection[int] | None = None,
) -> DeployResult:
    """Store the files as a new version unless the same content is already deployed.

    Content deployed before is not stored again: if it is not the current version, its version
    becomes current again (a rollback), recorded in the deployment log. `councils` (authority
    ids): deploy for those councils only — their new cases take the version, which does not
    become the county's (what councils following the county take); None: the county's.
    """
    content_hash = files.content_hash()
    existing = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.content_hash == content_hash
        )
    )
    if existing is not None:
        if not _deployed_anew(session, existing, councils, process_id):
            return DeployResult(existing, created=False, made_current=False)
        check(files, process_id)  # today's checks, which may be stricter than when it was new
        _record_deployment(session, existing, actor, "rollback", councils)
        session.commit()
        return DeployResult(existing, created=False)
    spec_json, _, _ = check(files, process_id)
    number = (
        session.scalar(
            select(func.max(ProcessVersion.number)).where(ProcessVersion.process_id == process_id)
        )
        or 0
    ) + 1
    version = ProcessVersion(
        process_id=process_id,
        number=number,
        content_hash=content_hash,
        files=files.files,
        spec=spec_json,
        serializer_version=serialization.SERIALIZER_VERSION,
        deployed_by=actor,
    )
    session.add(version)
    session.flush()
    _record_deployment(session, version, actor, "deploy", councils)
    session.commit()
    return DeployResult(version, created=True)


def _deployed_anew(
    session: Session, version: ProcessVersion, councils: Collection[int] | None, process_id: str
) -> bool:
    """Return whether deploying this version changes what anyone's new cases take."""
    if councils is None:
        return latest_version(session, process_id).id != version.id
    return any(session.get(Authority, a).process_version_id != version.id for a in councils)  # type: ignore[union-attr]


def _record_deployment(
    session: Session,
    version: ProcessVersion,
    actor: str,
    kind: str,
    councils: Collection[int] | None = None,
) -> None:
    for council in [None] if councils is None else sorted(councils):
        session.add(
            ProcessDeployment(
                process_id=version.process_id,
                process_version_id=version.id,
                authority_id=council,
                deployed_by=actor,
                kind=kind,
            )
        )
        if council is not None and version.process_id == MAIN_PROCESS:
            authority = session.get(Authority, council)
            if authority is not None:
                authority.process_version_id = version.id


def latest_version(session: Session, process_id: str = MAIN_PROCESS) -> ProcessVersion:
    """Return the county's current version, the one it deployed last (or rolled back to); new
    cases of councils that follow the county take it (a council's own deployments do not count)."""
    version = session.scalar(
        select(ProcessVersion)
        .join(ProcessDeployment, ProcessDeployment.process_version_id == ProcessVersion.id)
        .where(ProcessDeployment.process_id == process_id, ProcessDeployment.authority_id.is_(None))
        .order_by(ProcessDeployment.id.desc())
        .limit(1)
    )
    if version is None:
        # Versions stored without a deployment row (written directly, not by deploy): newest.
        version = session.scalar(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.number.desc())
            .limit(1)
        )
    if version is None:
        raise NotFound("No process has been deployed yet: run 'trigger-workflow deploy'.")
    return version


_cache: dict[int, DeployedProcess] = {}
_cache_lock = Lock()


def deployed(version: ProcessVersion) -> DeployedProcess:
    """Return the parsed form of a version; versions never change, so it is cached."""
    with _cache_lock:
        cached = _cache.get(version.id)
    if cached is not None and cached.content_hash == version.content_hash:
        return cached
    files = loader.ProcessFiles(dict(version.files))
    specs = serialization.load_specs(version.spec)
    problems = Problems()
    result = DeployedProcess(
        version_id=version.id,
        number=version.number,
        content_hash=version.content_hash,
        files=files,
        specs=specs,
        lanes=_lanes(files, problems),
        timescales=_timescales(files, problems),
        user_tasks=_user_task_forms(specs),
    )
    with _cache_lock:
        _cache[version.id] = result
    return result


def reads_local_rules(version: ProcessVersion) -> tuple[bool, bool]:
    """Return whether a version's threshold table reads a council's own number and window.

    A table with a literal number or window in their place applies it to every council whose
    cases run that version; the authority page says so beside the council's settings.
    """
    specs = deployed(version).specs
    rules = decisions.count_rules(specs.spec, specs.subprocess_specs)
    window = any(decisions.reads_local_window(specs.spec, specs.subprocess_specs, r) for r in rules)
    return any(r.reads_local_number for r in rules), window


def for_case(case: Case) -> DeployedProcess:
    """Return the version a case runs, under the local rules it was received with."""
    return deployed(case.process_version).with_local(local_rules.of_case(case))


def _user_task_forms(specs: serialization.Specs) -> dict[str, UserTaskForm]:
    forms = {}
    for _, task_spec in _user_task_specs(specs.spec, specs.subprocess_specs):
        properties = task_spec.extensions.get("properties", {})
        forms[task_spec.bpmn_id] = UserTaskForm(
            bpmn_id=task_spec.bpmn_id,
            name=task_spec.bpmn_name or task_spec.bpmn_id,
            lane=task_spec.lane,
            form=properties.get("formJsonSchemaFilename"),
            ui_form=properties.get("formUiSchemaFilename"),
        )
    return forms
