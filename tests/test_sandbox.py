"""Scripts cannot escape: diagrams' code runs restricted and time-limited, and an attempt holds only its own case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.incident_helpers import case_row, deploy_changed, move_case
from tests.scenario import ANSWERS, CaseDriver
from tests.test_timers import TIMER_DIAGRAM
from tests.test_worker import COORDINATOR, TIMER_FILES, engine_clock
from trigger_workflow.engine import lint, sandbox
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import DiagramError, EngineError
from trigger_workflow.samples import ANSWERS as SAMPLE_ANSWERS
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.process_owners import processes, retry
from trigger_workflow.services.tasks import cases, timers

OWNER = Actor("owen", "process_owner")
SCRIPT = "<bpmn:script>information_responses = []</bpmn:script>"

# Each attempt, and a piece of the message the process owner is shown.
ESCAPES = {
    "import os\nsecret = os.environ": "Scripts may not import modules (import os)",
    "from flask import current_app\nkey = current_app.config": "Scripts may not import modules (from flask",
    "x = ().__class__.__base__.__subclasses__()": '"__class__" is an invalid attribute name',
    "x = getattr(agencies, '__class__')": "Scripts may not use the attribute '__class__'",
    "x = Exception.mro()[-1]": "Scripts may not use the attribute 'mro'",
    "x = (a for a in agencies).gi_frame.f_back.f_globals": '"gi_frame" is a restricted name',
    "x = open('/etc/passwd').read()": "Scripts may not use open()",
    "x = __builtins__": "invalid variable name because it starts with",
    "x = globals()": "Scripts may not use globals()",
    "x = '{0.__class__}'.format(agencies)": "Scripts may not use the attribute 'format'",
    "while True:\n    pass": "ran for more than 2 seconds and was stopped",
    "try:\n    while True: pass\nexcept Exception:\n    pass": "ran for more than 2 seconds",
    "x = [0] * 10**9": "a value of 1,000,000,000 items",
    "x = 10**10**10": "a number of about",
    "x = list(range(10**9))": "a value of 1,000,000,000 items",
    "s = 'a' * 1000\nfor i in range(40):\n    s = s + s": "the limit is 1,000,000",
    "x = f'{1:>1000000000}'": "An f-string's width may not exceed 1,000,000",
    "x = '%*d' % (10**9, 1)": "a value of 1,000,000,000 items",
    "s = 'a' * 100000\nx = s.replace('a', s)": "a value of 10,000,000,000 items",
    "x = [1] * 10\nfor i in range(40):\n    x.extend(x)": "the limit is 1,000,000",
    "x = pow(3, 10**9)": "a number of about",
    "x = sum([[0] * 1000] * 2000, [])": "the limit is 1,000,000",
}


@pytest.mark.parametrize("attempt", list(ESCAPES), ids=list(range(len(ESCAPES))))
def test_escape_attempt_is_refused_on_the_case_and_the_service_keeps_serving(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    process_files: ProcessFiles,
    attempt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A script trying to escape holds its case with a clear message naming the task; the next requests succeed."""
    script = f"<bpmn:script>information_responses = []\n{escape(attempt)}</bpmn:script>"
    with monkeypatch.context() as patch:
        # As a version deployed before the deploy-time lint could see the attempt.
        patch.setattr(lint, "lint_expressions", lambda files, problems: None)
        deploy_changed(sessions, process_files, "case_review.bpmn", SCRIPT, script)
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.act_as("carol")
    task = case.task_id("Choose agencies")
    response = client.post(
        f"/api/cases/{case.reference}/tasks/{task}", json={"data": {"agencies": ["police"]}}
    )
    assert response.status_code == 202, response.text
    message = response.json["incident"]
    assert "'Open information requests' could not run" in message
    assert ESCAPES[attempt] in message
    assert case_row(sessions, case.reference)["status"] == "error"
    # The same process keeps serving: other pages and a new application work.
    assert client.get(f"/cases/{case.reference}").status_code == 200
    other = CaseDriver(client, sessions)
    other.apply()
    other.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    assert other.open_tasks() == ["Record qualifying complaints"]


# The attempts the deploy-time lint sees in the text; the others are refused only when they run.
REFUSED_WHEN_DEPLOYED = [
    "import os\nsecret = os.environ",
    "from flask import current_app\nkey = current_app.config",
    "x = ().__class__.__base__.__subclasses__()",
    "x = (a for a in agencies).gi_frame.f_back.f_globals",
    "x = __builtins__",
]


@pytest.mark.parametrize(
    "attempt", REFUSED_WHEN_DEPLOYED, ids=list(range(len(REFUSED_WHEN_DEPLOYED)))
)
def test_deploy_refuses_the_escape_attempts_it_can_see(
    process_files: ProcessFiles, attempt: str
) -> None:
    """Imports and private names are refused before deployment, naming the file, line and script task."""
    files = dict(process_files.files)
    files["case_review.bpmn"] = files["case_review.bpmn"].replace(
        SCRIPT, f"<bpmn:script>information_responses = []\n{escape(attempt)}</bpmn:script>"
    )
    with pytest.raises(DiagramError) as refused:
        processes.check(ProcessFiles(files))
    [problem] = refused.value.problems
    assert problem.file == "case_review.bpmn" and problem.element_id == "open_information_requests"
    assert problem.line is not None and problem.line > 1
    assert "is refused by the script sandbox" in problem.message


def test_a_refused_case_is_retried_once_the_diagram_is_fixed(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    process_files: ProcessFiles,
    deployed: processes.DeployResult,
) -> None:
    """After the escape attempt is removed (the earlier version) and the case moved, a retry opens the requests."""
    deploy_changed(
        sessions,
        process_files,
        "case_review.bpmn",
        SCRIPT,
        "<bpmn:script>information_responses = []\nx = open('/etc/passwd')</bpmn:script>",
    )
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": ["police", "housing"]})
    incident = case_row(sessions, case.reference)["incidents"][0]
    assert incident["line"] is not None and incident["element"] == "open_information_requests"
    move_case(sessions, case.reference, deployed.version.id)
    with sessions() as session:
        result = retry.retry(session, retry.RetryIncident(incident["id"], OWNER))
    assert result.incident is None and result.status == "open"
    assert case.open_tasks() == ["Answer information request", "Answer information request"]
    case.check_round_trip()


FAILING_TIMER = (
    TIMER_DIAGRAM.replace('id="timer_process"', 'id="failing_timer"')
    .replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />',
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="divide" />'
        '<bpmn:scriptTask id="divide" name="Divide"><bpmn:incoming>f2</bpmn:incoming>'
        "<bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>share = 10 / divisor</bpmn:script></bpmn:scriptTask>"
        '<bpmn:sequenceFlow id="f3" sourceRef="divide" targetRef="end" />',
    )
    .replace(
        "<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>",
        "<bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>",
    )
)


def test_worker_timer_failure_becomes_an_incident_and_the_others_still_fire(
    sessions: sessionmaker[Session],
) -> None:
    """A timer leading to a failing script holds that case; the other case fires; corrected data and a retry close it."""
    with sessions() as session:
        processes.deploy(session, TIMER_FILES, "test", process_id="timer_process")
        good = cases.start_case(session, cases.StartCase("timer_process", COORDINATOR)).reference
        failing = ProcessFiles(
            {
                "failing.bpmn": FAILING_TIMER,
                "lanes.toml": "[lanes]\n",
                "timescales.toml": "[tasks]\n",
            }
        )
        processes.deploy(session, failing, "test", process_id="failing_timer")
        bad = cases.start_case(session, cases.StartCase("failing_timer", COORDINATOR)).reference
    later = datetime.now(UTC) + timedelta(days=6)
    with engine_clock(later):
        assert timers.fire_due_timers(sessions, now=later) == 1
        assert timers.fire_due_timers(sessions, now=later) == 0  # the held case is left alone
    assert case_row(sessions, good)["status"] == "closed"
    row = case_row(sessions, bad)
    assert row["status"] == "error"
    incident = row["incidents"][0]
    assert incident["element"] == "divide" and "divisor" in incident["message"]
    assert incident["opened_by"] == "worker"
    with sessions() as session:
        retry.correct_data(session, retry.CorrectData(incident["id"], {"divisor": 5}, OWNER))
    with engine_clock(later), sessions() as session:
        result = retry.retry(session, retry.RetryIncident(incident["id"], OWNER))
    assert result.status == "closed" and result.outcome == "Done"
    kinds = [kind for kind, _, _ in case_row(sessions, bad)["events"]]
    assert kinds == [
        "case_started",
        "incident_opened",
        "data_corrected",
        "timer_fired",
        "incident_resolved",
    ]


def run(script: str, data: dict[str, Any] | None = None, **functions: Any) -> dict[str, Any]:
    """Run a script in the sandbox over some task data; return the data after it."""
    context = dict(data or {})
    sandbox.RestrictedEnvironment(functions).execute(script, context)
    return context


def test_ordinary_scripts_work_as_before() -> None:
    """Assignments, item writes, loops, comprehensions, augmented assignment, dates, and the
    guarded sum and pow behave as plain Python."""
    data = run(
        "total = 0\nfor n in numbers:\n    total += n\n"
        "response['agency'] = agency\n"
        "evens = [n for n in numbers if n % 2 == 0]\n"
        "due = start + timedelta(days=5)\n"
        "names = sorted(set(['b', 'a']))\n"
        "label = 'x' * 3 + str(len(numbers))\n"
        "added = sum(numbers)\njoined = sum([[1], [2]], [])\npowers = [pow(2, 10), pow(2, 10, 1000)]",
        {"numbers": [1, 2, 3, 4], "response": {}, "agency": "police", "start": date(2026, 1, 1)},
    )
    assert data["total"] == 10
    assert data["response"] == {"agency": "police"}
    assert data["evens"] == [2, 4]
    assert data["due"] == date(2026, 1, 6)
    assert data["names"] == ["a", "b"]
    assert data["label"] == "xxx4"
    assert (data["added"], data["joined"], data["powers"]) == (10, [1, 2], [1024, 24])


def test_helper_functions_are_exposed_but_never_become_data() -> None:
    """Functions given to the engine can be called by scripts and conditions; they are not saved as task data."""
    environment = sandbox.RestrictedEnvironment({"working_days": lambda n: n * 2})
    context: dict[str, Any] = {"n": 3}
    environment.execute("days = working_days(n)", context)
    assert context == {"n": 3, "days": 6}
    assert environment.evaluate("working_days(n) > 5", context) is True


def test_conditions_and_decisions_run_in_the_sandbox() -> None:
    """Expressions (gateway conditions, DMN cells, timers) are refused the same way scripts are."""
    environment = sandbox.RestrictedEnvironment()
    assert environment.evaluate("qualifying_complaints >= 3", {"qualifying_complaints": 3})
    with pytest.raises(sandbox.ScriptRefused, match="may not use the attribute"):
        environment.evaluate("getattr(x, '__class__')", {"x": 1})
    with pytest.raises(sandbox.ScriptRefused, match="invalid attribute name"):
        environment.evaluate("x.__class__", {"x": 1})


def test_every_workflow_runs_with_the_sandbox(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Restored quickly or the library's way, a workflow's script engine is the sandbox."""
    from sqlalchemy import select

    from trigger_workflow.engine import serialization
    from trigger_workflow.services.tasks.records import load_workflow
    from trigger_workflow.store.models import Case

    case = CaseDriver(client, sessions)
    case.apply()
    with sessions() as session:
        row = session.scalar(select(Case).where(Case.reference == case.reference))
        assert row is not None
        fast = load_workflow(row)
        slow = serialization.load_state_slowly(
            row.workflow_state, row.process_version.spec, row.serializer_version
        )
    # (load_state's path for older serializer versions is the same code as load_state_slowly.)
    for workflow in (fast, slow):
        assert isinstance(workflow.script_engine, sandbox.SandboxedScriptEngine)


def test_engine_error_names_element_and_line() -> None:
    """A failing script's error says which task, which line and why."""
    from trigger_workflow.engine import workflow as engine
    from trigger_workflow.engine.loader import load_specs

    diagram = FAILING_TIMER.replace(
        '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>',
        "",
    )
    diagram = diagram.replace("bpmn:intermediateCatchEvent", "bpmn:intermediateThrowEvent").replace(
        "share = 10 / divisor", "ok = 1\nshare = 10 / divisor"
    )
    spec, subs = load_specs(ProcessFiles({"f.bpmn": diagram}), "failing_timer")
    with pytest.raises(EngineError) as raised:
        engine.start(spec, subs)
    assert raised.value.context["element_id"] == "divide"
    assert raised.value.context["line"] == 2
    assert "'Divide' could not run (line 2): NameError" in raised.value.message


def test_decision_tables_run_in_the_sandbox_on_a_live_case(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """A decision table's input reaching for a private attribute is refused while the case runs, naming the rule task."""
    deploy_changed(
        sessions,
        process_files,
        "threshold.dmn",
        "<text>count_qualifying_complaints(",
        "<text>getattr(agency_incidents, '__class__') or count_qualifying_complaints(",
    )
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    case.act_as("carol")
    task = case.task_id("Record qualifying complaints")
    response = client.post(
        f"/api/cases/{case.reference}/tasks/{task}",
        json={"data": SAMPLE_ANSWERS["record_complaints"]},
    )
    assert response.status_code == 202
    assert "'Apply threshold rule' could not run" in response.json["incident"]
    assert "Scripts may not use the attribute '__class__'" in response.json["incident"]
