"""Process versions for process owners: the list, one version, differences, rollback, edits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session, undefer

from trigger_workflow.engine import outline
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import DiagramError, NotFound, Problems
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.process_owners.process_diff import VersionDiff, diff
from trigger_workflow.store.models import Authority, Case, ProcessDeployment, ProcessVersion


@dataclass(frozen=True)
class Deployment:
    """One line of the deployment log: which version became current, by whom, when, and how."""

    number: int
    kind: str
    deployed_by: str
    deployed_at: datetime
    council: str | None = None  # the council it was deployed for; None: the county


@dataclass(frozen=True)
class VersionSummary:
    """A version as the list shows it."""

    number: int
    content_hash: str
    deployed_by: str
    deployed_at: datetime
    current: bool
    open_cases: int
    diff: VersionDiff


@dataclass(frozen=True)
class VersionDetail:
    """One version: its files and its difference from the version before."""

    summary: VersionSummary
    files: ProcessFiles


def list_versions(
    session: Session, process_id: str = processes.MAIN_PROCESS, actor: Actor | None = None
) -> list[VersionSummary]:
    """Return every version, newest first, each with its difference from the one before, and
    its open cases among the councils `actor` serves (every council's when None)."""
    versions = _versions(session, process_id)
    current = current_for(session, actor, process_id) if versions else None
    counts = _open_cases(session, process_id, actor)
    summaries = []
    previous: ProcessVersion | None = None
    for version in versions:
        summaries.append(_summary(version, previous, current, counts))
        previous = version
    return summaries[::-1]


def version_detail(
    session: Session,
    number: int,
    process_id: str = processes.MAIN_PROCESS,
    actor: Actor | None = None,
) -> VersionDetail:
    """Return one version with its files and its difference from the version before (its open
    cases among the councils `actor` serves)."""
    version = get_version(session, number, process_id)
    previous = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id, ProcessVersion.number < number)
        .order_by(ProcessVersion.number.desc())
        .limit(1)
    )
    current = current_for(session, actor, process_id)
    summary = _summary(version, previous, current, _open_cases(session, process_id, actor))
    return VersionDetail(summary, ProcessFiles(dict(version.files)))


def current_for(session: Session, actor: Actor | None, process_id: str) -> int:
    """Return the id of the version new cases take where this process owner works: their
    council's own when they serve one council that has one, else the county's."""
    county = processes.latest_version(session, process_id).id
    councils = deploying_for(session, actor) if actor is not None else None
    if councils is None or len(councils) != 1 or process_id != processes.MAIN_PROCESS:
        return county
    [council] = councils
    authority = session.get(Authority, council)
    return (authority.process_version_id if authority else None) or county


def compare(
    session: Session, before: int, after: int, process_id: str = processes.MAIN_PROCESS
) -> VersionDiff:
    """Return what changed from one version to another (either may be the older)."""
    old = get_version(session, before, process_id)
    new = get_version(session, after, process_id)
    changes = diff(ProcessFiles(dict(old.files)), ProcessFiles(dict(new.files)))
    return VersionDiff(before, after, changes)


def deployments(session: Session, process_id: str = processes.MAIN_PROCESS) -> list[Deployment]:
    """Return the deployment log, newest first: every deploy and rollback."""
    rows = session.execute(
        select(ProcessDeployment, ProcessVersion.number, Authority.name)
        .join(ProcessVersion, ProcessDeployment.process_version_id == ProcessVersion.id)
        .outerjoin(Authority, ProcessDeployment.authority_id == Authority.id)
        .where(ProcessDeployment.process_id == process_id)
        .order_by(ProcessDeployment.id.desc())
    )
    return [
        Deployment(number, d.kind, d.deployed_by, d.deployed_at, council)
        for d, number, council in rows
    ]


def rollback(
    session: Session, number: int, actor: Actor, process_id: str = processes.MAIN_PROCESS
) -> processes.DeployResult:
    """Make an earlier version the one new cases take, by deploying its content again: the
    county's, or (a process owner of some councils) those councils'."""
    require_process_owner(actor)
    version = get_version(session, number, process_id)
    files = ProcessFiles(dict(version.files))
    return processes.deploy(
        session, files, actor.username, process_id, deploying_for(session, actor)
    )


def require_process_owner(actor: Actor | None) -> Actor:
    """Refuse anyone but a process owner: only they see, change or deploy process versions."""
    return access.require_process_owner(actor, "see, change or deploy process versions")


def get_version(
    session: Session, number: int, process_id: str = processes.MAIN_PROCESS
) -> ProcessVersion:
    """Return a version by its number, files and spec loaded, or raise NotFound."""
    version = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id, ProcessVersion.number == number)
        .options(undefer(ProcessVersion.files))
    )
    if version is None:
        raise NotFound(f"There is no version {number} of the process '{process_id}'.")
    return version


def edited_files(session: Session, number: int, name: str, text: str) -> ProcessFiles:
    """Return a version's files with one file's text replaced (or added), its syntax checked.

    A form must be JSON: a syntax error is reported with its line, before the full check.
    """
    version = get_version(session, number)
    if not _editable(name):
        raise NotFound(f"'{name}' is not a file a process owner can edit.")
    if name.endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            problems = Problems()
            problems.add(name, f"Not valid JSON: {error.msg}", line=error.lineno)
            raise DiagramError(problems.items) from error
    return ProcessFiles({**version.files, name: text.replace("\r\n", "\n")})


def _editable(name: str) -> bool:
    if name.startswith(processes.FORMS_PREFIX):
        rest = name[len(processes.FORMS_PREFIX) :]
        return rest.endswith(".json") and "/" not in rest and rest not in ("", ".json")
    return "/" not in name and name.endswith((".bpmn", ".dmn", ".toml"))


def validate(files: ProcessFiles) -> None:
    """Check files as deploy would, raising DiagramError with every problem."""
    processes.check(files)


def _versions(session: Session, process_id: str) -> list[ProcessVersion]:
    return list(
        session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.number)
            .options(undefer(ProcessVersion.files))
        )
    )


def _open_cases(session: Session, process_id: str, actor: Actor | None) -> dict[int, int]:
    rows = session.execute(
        select(Case.process_version_id, func.count())
        .join(ProcessVersion, Case.process_version_id == ProcessVersion.id)
        .where(ProcessVersion.process_id == process_id, Case.status == "open")
        .where(access.in_authorities(actor) if actor is not None else true())
        .group_by(Case.process_version_id)
    )
    return {version_id: count for version_id, count in rows.tuples()}


def _summary(
    version: ProcessVersion,
    previous: ProcessVersion | None,
    current: int | None,
    open_cases: dict[int, int],
) -> VersionSummary:
    before = ProcessFiles(dict(previous.files)) if previous is not None else None
    changes = diff(before, ProcessFiles(dict(version.files)))
    return VersionSummary(
        number=version.number,
        content_hash=version.content_hash,
        deployed_by=version.deployed_by,
        deployed_at=version.deployed_at,
        current=version.id == current,
        open_cases=open_cases.get(version.id, 0),
        diff=VersionDiff(previous.number if previous else None, version.number, changes),
    )


NEW_FORM = '{\n  "type": "object",\n  "title": "",\n  "required": [],\n  "properties": {}\n}\n'


def file_text(session: Session, number: int, name: str) -> str:
    """Return the text of one file of a version; a form not there yet starts as an empty form."""
    version = get_version(session, number)
    text = version.files.get(name)
    if text is not None:
        return str(text)
    if name.startswith(processes.FORMS_PREFIX) and _editable(name):
        return NEW_FORM
    raise NotFound(f"Version {number} has no file '{name}'.")


def deploy_edit(session: Session, files: ProcessFiles, actor: Actor) -> processes.DeployResult:
    """Deploy edited files as a process owner; the deployment is recorded under their name. A
    process owner of some councils deploys for those councils: the county's version stays."""
    require_process_owner(actor)
    return processes.deploy(session, files, actor.username, councils=deploying_for(session, actor))


def deploying_for(session: Session, actor: Actor) -> frozenset[int] | None:
    """Return the councils a process owner's deployments are for: those they serve, or None (the
    county's) when they serve every council (county-wide, or the only council of an install)."""
    if actor.authorities is None:
        return None
    every = set(session.scalars(select(Authority.id)))
    return None if every <= actor.authorities else actor.authorities


def decision_rules(files: ProcessFiles, name: str) -> list[outline.Element]:
    """Return the rules of a decision table file, in order, for showing as a table."""
    return [
        e
        for e in outline.outline(ProcessFiles({name: files.files[name]}))
        if e.kind == outline.DMN_RULE
    ]
