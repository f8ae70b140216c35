"""Deploy process versions (content-hashed) and give running code the parsed version it needs."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import decisions, lint, loader, serialization
from trigger_workflow.errors import DiagramError, NotFound, Problems
from trigger_workflow.services.accounts.actors import APPLICANT
from trigger_workflow.services.casework import local_rules
from trigger_workflow.services.casework.local_rules import LocalRules
from trigger_workflow.services.process_owners import process_checks
from trigger_workflow.services.process_owners.process_checks import (
    FORMS_PREFIX,
    LANES_FILE,
    TIMESCALES_FILE,
    Timescale,
)
from trigger_workflow.store.models import Authority, Case, ProcessDeployment, ProcessVersion

MAIN_PROCESS = "community_trigger"
EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}


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
        found = process_checks.timescale_of(self.timescales, task)
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
    lanes = process_checks.read_lanes(files, problems)
    timescales = process_checks.read_timescales(files, problems)
    user_tasks = process_checks.user_task_specs(spec, subprocess_specs)
    for name, task_spec in user_tasks:
        process_checks.check_user_task(files, name, task_spec, lanes, timescales, problems)
    process_checks.check_count_rules(files, spec, subprocess_specs, problems)
    task_ids = {task_spec.bpmn_id for _, task_spec in user_tasks}
    for task in sorted(set(timescales) - task_ids - {process_checks.DEFAULT_TIMESCALE}):
        problems.add(TIMESCALES_FILE, f"[tasks.{task}] names a task that no diagram has.")
    if problems.items:
        raise DiagramError(problems.items)
    return serialization.dump_spec(spec, subprocess_specs), lanes, timescales


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
        lanes=process_checks.read_lanes(files, problems),
        timescales=process_checks.read_timescales(files, problems),
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
    for _, task_spec in process_checks.user_task_specs(specs.spec, specs.subprocess_specs):
        properties = task_spec.extensions.get("properties", {})
        forms[task_spec.bpmn_id] = UserTaskForm(
            bpmn_id=task_spec.bpmn_id,
            name=task_spec.bpmn_name or task_spec.bpmn_id,
            lane=task_spec.lane,
            form=properties.get("formJsonSchemaFilename"),
            ui_form=properties.get("formUiSchemaFilename"),
        )
    return forms
