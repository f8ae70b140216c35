"""Diagram tests: paths through a process, written in YAML, run against a candidate folder.

A file describes one case: optional `received_on`, then `steps`, each naming a task by its id in
the diagram, who does it (`as`: a role, or `partner/<agency>`; by default whoever the task is
for), the day it is done (`day`), the answers (`data`) and what is expected after it (`expect`:
`stage`, `status`, `open`, `end`, `data`, or `error` for answers that must be refused). The
candidate is deployed on a throw-away in-memory database, never on the real one.

Time is the file's, not the machine's: the case is received on `received_on` (today if not
given) at 09:00 in England, and each step happens on its `day` at 09:00 (the previous step's
moment if not given). Before a step, the timers due by its moment fire as the worker would fire
them, so a step done late finds its escalation (`handle_escalation`) open. The steps go through
the same services as officers' answers, so the engine gets the same context (receipt day,
deadlines, what the law's checks derive).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.engine import calendar, clock
from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import DiagramError, FormInvalid, TriggerWorkflowError
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.accounts.actors import COORDINATOR, PARTNER, PUBLIC, Actor
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases, records, timers
from trigger_workflow.store import db
from trigger_workflow.store.models import Case

EXPECTATIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "stage": {"type": "string"},
        "status": {"enum": ["open", "closed", "error"]},
        "open": {"type": "array", "items": {"type": "string"}},
        "end": {"type": ["string", "null"]},
        "data": {"type": "object"},
        "error": {"type": "string"},
    },
}
FILE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["steps"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "received_on": {"type": "string", "format": "date"},
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["task"],
                "properties": {
                    "task": {"type": "string"},
                    "as": {"type": "string"},
                    "agency": {"type": "string"},
                    "day": {"type": "string", "format": "date"},
                    "data": {"type": "object"},
                    "expect": EXPECTATIONS,
                },
            },
        },
    },
}


@dataclass
class StepResult:
    """What happened at one step: passed, or the differences from what was expected."""

    number: int
    label: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return whether the step did what was expected."""
        return not self.problems


@dataclass
class FileResult:
    """The result of one diagram test file."""

    path: str
    name: str
    steps: list[StepResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the file itself, or the deployment

    @property
    def passed(self) -> bool:
        """Return whether the file is well formed and every step did what was expected."""
        return not self.problems and all(s.passed for s in self.steps)

    def lines(self) -> list[str]:
        """Return a report a process owner reads: one line per step, the differences under it."""
        out = [f"{'PASS' if self.passed else 'FAIL'} {self.path}: {self.name}"]
        out += [f"  {problem}" for problem in self.problems]
        for step in self.steps:
            out.append(f"  {'ok  ' if step.passed else 'FAIL'} step {step.number}: {step.label}")
            out += [f"         {problem}" for problem in step.problems]
        return out


def run_files(paths: list[Path], processes_dir: Path, forms_dir: Path) -> list[FileResult]:
    """Run each test file on its own throw-away database, with the candidate deployed."""
    files = processes.read_process_files(processes_dir, forms_dir)
    return [run_file(path, files) for path in paths]


def run_file(path: Path, files: processes.loader.ProcessFiles) -> FileResult:
    """Run one test file against a set of process files."""
    result = FileResult(str(path), path.stem)
    spec = _read(path, result)
    if spec is None:
        return result
    result.name = spec.get("name", path.stem)
    engine_ = db.make_memory_engine()
    try:
        sessions = db.make_session_factory(engine_)
        with sessions() as session:
            try:
                processes.deploy(session, files, "diagram-test")
            except DiagramError as error:
                result.problems += [f"The process cannot be deployed: {p}" for p in error.problems]
                return result
        with sessions() as session:
            _add_partner_officers(session)
            _run_steps(sessions, session, spec, result)
    finally:
        engine_.dispose()
    return result


def _add_partner_officers(session: Session) -> None:
    """Give the throw-away database one active partner officer per agency, as a live one has.

    The law's check on choosing agencies (R14) refuses an agency nobody could answer for.
    """
    for agency in actors.AGENCIES:
        actors.add_officer(session, f"test-partner-{agency}", f"Test {agency}", PARTNER, agency)


def _read(path: Path, result: FileResult) -> dict[str, Any] | None:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        result.problems.append(f"Not valid YAML{where}: {getattr(error, 'problem', error)}")
        return None
    except OSError as error:
        result.problems.append(f"Cannot read the file: {error.strerror}")
        return None
    spec = _plain(spec)
    validator = jsonschema.Draft202012Validator(
        FILE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    invalid = sorted(validator.iter_errors(spec), key=lambda e: list(map(str, e.path)))
    for problem in invalid:
        where = "/".join(str(p) for p in problem.path) or "the top level"
        result.problems.append(f"At {where}: {problem.message}")
    return None if invalid else spec


def _plain(value: Any) -> Any:
    """Turn YAML's dates back into the ISO strings forms take."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _morning(day: dt.date) -> dt.datetime:
    """Return 09:00 in England on this day: when the file's steps happen."""
    return dt.datetime.combine(day, dt.time(9), tzinfo=calendar.UK_TIME)


def _run_steps(
    sessions: sessionmaker[Session], session: Session, spec: dict[str, Any], result: FileResult
) -> None:
    received_on = dt.date.fromisoformat(spec["received_on"]) if "received_on" in spec else None
    moment = _morning(received_on) if received_on is not None else clock.now()
    deployed = processes.deployed(processes.latest_version(session))
    application = deployed.application_task().bpmn_id if _has_application(deployed) else None
    reference: str | None = None
    for number, step in enumerate(spec["steps"], start=1):
        label = step["task"] + (f" ({step['agency']})" if "agency" in step else "")
        outcome = StepResult(number, label)
        result.steps.append(outcome)
        if "day" in step:
            day = _morning(dt.date.fromisoformat(step["day"]))
            if day < moment:
                outcome.problems.append(f"Its day {step['day']} is before the previous step's.")
                return
            moment = day
            if reference is not None:
                # The worker fires what fell due in the meantime; then the step happens.
                with clock.simulated(moment):
                    timers.fire_due_timers(sessions, now=moment)
                session.expire_all()
        with clock.simulated(moment):
            reference = _run_step(session, step, outcome, reference, application, received_on)
        if not outcome.passed:
            return


def _run_step(
    session: Session,
    step: dict[str, Any],
    outcome: StepResult,
    reference: str | None,
    application: str | None,
    received_on: dt.date | None,
) -> str | None:
    """Do one step, noting in `outcome` how it differs from what was expected; return the case."""
    expect = step.get("expect", {})
    try:
        if reference is None and step["task"] == application:
            actor = _actor(step.get("as"), None) if "as" in step else PUBLIC
            command = cases.SubmitApplication(step.get("data", {}), actor, received_on=received_on)
            reference = cases.submit_application(session, command).reference
        else:
            if reference is None:
                start = cases.StartCase(
                    deployed_process_id(session), _actor(None, None), received_on
                )
                reference = cases.start_case(session, start).reference
            _complete(session, reference, step)
    except TriggerWorkflowError as error:
        session.rollback()
        refusal = _refusal(error)
        if not ("error" in expect and expect["error"] in refusal):
            outcome.problems.append(f"Refused: {refusal}")
        return reference
    if "error" in expect:
        outcome.problems.append(
            f"Expected a refusal mentioning {expect['error']!r}, but the step went through."
        )
        return reference
    outcome.problems += _differences(session, reference, expect)
    return reference


def _refusal(error: TriggerWorkflowError) -> str:
    """Say why a step was refused, naming the fields of answers that do not fit the form."""
    if isinstance(error, FormInvalid):
        return "; ".join(
            f"{'.'.join(map(str, p.path)) or 'the answers'}: {p.message}" for p in error.problems
        )
    return error.message


def deployed_process_id(session: Session) -> str:
    """Return the process id of the deployed candidate."""
    return processes.latest_version(session).process_id


def _has_application(deployed: processes.DeployedProcess) -> bool:
    try:
        deployed.application_task()
    except TriggerWorkflowError:
        return False
    return True


def _complete(session: Session, reference: str, step: dict[str, Any]) -> None:
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    candidates = [
        t
        for t in case.open_tasks
        if t.task_spec == step["task"] and ("agency" not in step or t.agency == step["agency"])
    ]
    if not candidates:
        open_now = ", ".join(sorted(t.task_spec for t in case.open_tasks)) or "none"
        raise TriggerWorkflowError(f"Task '{step['task']}' is not open (open: {open_now}).")
    task = candidates[0]
    actor = _actor(step.get("as"), task.agency) if "as" in step else _actor(task.role, task.agency)
    cases.complete_task(
        session, cases.CompleteTask(reference, task.id, step.get("data", {}), actor)
    )


def _actor(who: str | None, agency: str | None) -> Actor:
    """Return an officer of a role ('coordinator', 'partner/police'); the coordinator by default."""
    role, _, named_agency = (who or COORDINATOR).partition("/")
    # A partner acts for the agency named, or for the agency of the task.
    agency = (named_agency or agency) if role == PARTNER else (named_agency or None)
    return Actor(f"test-{role}{'-' + agency if agency else ''}", role, agency)


def _differences(session: Session, reference: str, expect: dict[str, Any]) -> list[str]:
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    found: dict[str, Any] = {
        "stage": case.stage,
        "status": case.status,
        "open": sorted(t.task_spec for t in case.open_tasks),
        "end": case.outcome,
    }
    problems = []
    for key in ("stage", "status", "end"):
        if key in expect and expect[key] != found[key]:
            problems.append(f"expected {key} {expect[key]!r}, got {found[key]!r}")
    if "open" in expect and sorted(expect["open"]) != found["open"]:
        problems.append(f"expected open tasks {sorted(expect['open'])}, got {found['open']}")
    if "data" in expect:
        data = engine.case_data(records.load_workflow(case))
        for name, value in expect["data"].items():
            if name not in data:
                problems.append(f"expected data {name} = {value!r}, but the case has no {name}")
            elif data[name] != value:
                problems.append(f"expected data {name} = {value!r}, got {data[name]!r}")
    return problems
