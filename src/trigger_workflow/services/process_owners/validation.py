"""Check process files without deploying them: the deploy checks, plus warnings about names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from trigger_workflow.engine import lint, loader, names, sandbox
from trigger_workflow.errors import DiagramError, DiagramProblem, NotFound, Problems
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases

ERROR, WARNING = "error", "warning"
CHECKED_SUFFIXES = (*loader.BPMN_SUFFIXES, *loader.DMN_SUFFIXES)


@dataclass(frozen=True)
class Finding:
    """One problem found, and whether it stops a deployment (error) or only asks a look (warning)."""

    severity: str
    problem: DiagramProblem

    def __str__(self) -> str:
        return f"{self.severity}: {self.problem}"


@dataclass(frozen=True)
class Report:
    """What a validation found, by file and line."""

    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        """Return the findings that would stop a deployment."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """Return the findings that are only warnings."""
        return [f for f in self.findings if f.severity == WARNING]


def validate_set(files: loader.ProcessFiles, process_id: str = processes.MAIN_PROCESS) -> Report:
    """Run exactly the deploy checks over a whole process set, then the names lint."""
    try:
        processes.check(files, process_id)
        errors: list[DiagramProblem] = []
    except DiagramError as error:
        errors = error.problems
    warnings = Problems()
    names.lint_names(files, _functions(), warnings, supplied=cases.ENGINE_CONTEXT_NAMES)
    return _report(files, errors, warnings.items)


def validate_files(files: loader.ProcessFiles) -> Report:
    """Check diagrams and tables on their own: XSD, the engine's parse of each process, code."""
    problems = Problems()
    try:
        parser = loader.build_parser(files)
    except DiagramError as error:
        return _report(files, error.problems, [])
    for process_id in parser.get_process_ids():
        try:
            loader.load_specs(files, process_id)
        except DiagramError as error:
            problems.items.extend(error.problems)
    lint.lint_expressions(files, problems)
    return _report(files, problems.items, [])


def validate_paths(paths: list[Path], forms_dir: Path | None = None) -> Report:
    """Validate a folder as a process set (its forms beside it), or the given files together."""
    if len(paths) == 1 and paths[0].is_dir():
        folder = paths[0]
        forms = forms_dir or (
            folder / "forms" if (folder / "forms").is_dir() else folder.parent / "forms"
        )
        return validate_set(processes.read_process_files(folder, forms))
    files = {}
    for path in paths:
        if path.is_dir():
            raise DiagramError([DiagramProblem(str(path), "Give one folder, or files: not both.")])
        files[path.name] = loader.decode_xml(path.read_bytes())
    return validate_files(loader.ProcessFiles(files))


def validate_upload(uploaded: dict[str, bytes], base: loader.ProcessFiles | None) -> Report:
    """Check uploaded files in place of the same files of a deployed version (or alone)."""
    files: dict[str, str] = {}
    for name, raw in uploaded.items():
        if name.endswith(CHECKED_SUFFIXES):
            files[name] = loader.decode_xml(raw)
        elif name.endswith(".json"):
            files[processes.FORMS_PREFIX + name] = raw.decode("utf-8", errors="replace")
        elif name.endswith(".toml"):
            files[name] = raw.decode("utf-8", errors="replace")
        else:
            problem = DiagramProblem(
                name, "Only .bpmn, .dmn, form .json and .toml files are checked."
            )
            return Report([Finding(ERROR, problem)])
    if base is None:
        return validate_files(loader.ProcessFiles(files))
    return validate_set(loader.ProcessFiles(dict(base.files) | files))


def validate_against_latest(session: Session, uploaded: dict[str, bytes], actor: Actor) -> Report:
    """Check uploaded files as they would deploy: over the newest version's other files."""
    require_process_owner(actor)
    if not uploaded:
        problem = DiagramProblem("(no file)", "Choose at least one file to check.")
        return Report([Finding(ERROR, problem)])
    try:
        version = processes.latest_version(session)
    except NotFound:
        return validate_upload(uploaded, None)
    return validate_upload(uploaded, processes.deployed(version).files)


def require_process_owner(actor: Actor) -> None:
    """Only process owners check process files."""
    access.require_process_owner(actor, "check process files")


def _functions() -> set[str]:
    return set(sandbox.restricted_builtins(sandbox.script_functions()))


def _report(
    files: loader.ProcessFiles, errors: list[DiagramProblem], warnings: list[DiagramProblem]
) -> Report:
    findings = [Finding(ERROR, locate(files, p)) for p in errors]
    findings += [Finding(WARNING, locate(files, p)) for p in warnings]
    return Report(sorted(findings, key=lambda f: (f.problem.file, f.problem.line or 0)))


PROCESS_NAMED = re.compile(r"^process '(.+)'$")
DATA_STORE = re.compile(r"^Data Store with name (.+) has no implementation")


def locate(files: loader.ProcessFiles, problem: DiagramProblem) -> DiagramProblem:
    """Fill in the file, line and element id from one another, where one is missing."""
    process = PROCESS_NAMED.match(problem.file)
    if process:
        wanted = problem.element_id or process.group(1)
        for name, diagram in files.named(loader.BPMN_SUFFIXES).items():
            root = loader.parse_xml(name, diagram, Problems())
            if root is not None and root.xpath("//*[@id=$id]", id=wanted):
                problem = DiagramProblem(name, problem.message, None, wanted)
                break
    store = DATA_STORE.match(problem.message)
    if store and not problem.element_id and problem.file in files.files:
        root = loader.parse_xml(problem.file, files.files[problem.file], Problems())
        found = (
            []
            if root is None
            else root.xpath("//*[normalize-space(@name)=$n][@id]", n=store.group(1))
        )
        if found:
            problem = DiagramProblem(
                problem.file, problem.message, found[0].sourceline, found[0].get("id")
            )
    text = files.files.get(problem.file)
    if text is None or not problem.file.endswith(CHECKED_SUFFIXES):
        return problem
    if problem.line and problem.element_id:
        return problem
    root = loader.parse_xml(problem.file, text, Problems())
    if root is None:
        return problem
    if problem.element_id and not problem.line:
        found = root.xpath("//*[@id=$id]", id=problem.element_id)
        if found:
            return DiagramProblem(
                problem.file, problem.message, found[0].sourceline, problem.element_id
            )
    if problem.line and not problem.element_id:
        element_id = _element_at(root, problem.line)
        if element_id:
            return DiagramProblem(problem.file, problem.message, problem.line, element_id)
    return problem


def _element_at(root: object, line: int) -> str | None:
    """Return the id of the element starting on (or else enclosing) a line."""
    best = None
    for element in root.iter():  # type: ignore[attr-defined]
        if not isinstance(element.tag, str) or element.sourceline is None:
            continue
        if element.sourceline > line:
            break
        owner = element
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        if owner is not None:
            best = owner.get("id")
    return best
