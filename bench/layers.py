"""The ways the bench runs a case: (a) bare engine (a'/a'' with the sandbox in this process or in worker processes), (b) bare + serializer, (c) services, (d) HTTP."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from database import BENCH_HASHING, BenchDatabase
from flask import Flask
from flask.testing import FlaskClient
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from timing import timed
from werkzeug.datastructures import MultiDict
from workload import Step, encode

from trigger_workflow.app import create_app
from trigger_workflow.engine import serialization
from trigger_workflow.engine.sandbox import default_engine
from trigger_workflow.engine.script_functions import FUNCTIONS
from trigger_workflow.samples import TEST_PASSWORD
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.casework import local_rules
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Case, OpenTask

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

# The library's own script engine (plain eval/exec), given the diagrams' helper functions: what
# the bare layers run with; the application runs the sandbox (engine/sandbox.py).
UNRESTRICTED_ENGINE = PythonScriptEngine(environment=TaskDataEnvironment(dict(FUNCTIONS)))


class Layer(Protocol):
    """A way of running cases; each call returns how long its timed part took in ms."""

    name: str

    def begin(self, application: Step | None) -> tuple[Any, float]:
        """Start a case (completing the application when given); return it and the time taken."""
        ...

    def complete(self, case: Any, step: Step) -> float:
        """Complete one open task of the case; return the time taken."""
        ...


def parse_specs(bpmn: list[Path], dmn: list[Path], process_id: str) -> tuple[Any, dict[str, Any]]:
    """Parse diagrams and decision tables once; return the process spec and the specs it calls."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(p) for p in bpmn])
    if dmn:
        parser.add_dmn_files([str(p) for p in dmn])
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def ready_task(workflow: BpmnWorkflow, step: Step) -> Task:
    """Return the READY user task a step is about."""
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        if task.task_spec.bpmn_id == step.task and (
            step.agency is None or task.data.get("agency") == step.agency
        ):
            return task
    raise RuntimeError(f"no ready task {step.label}")


def fresh_data(step: Step) -> dict[str, Any]:
    """Return a deep copy of a step's answers (scripts may change nested values in place)."""
    return copy.deepcopy(step.data)


# What the application gives the engine beside each step's answers (receipt day, deadlines):
# fixed here, far in the future, so that the bare layers run the same diagrams without timers.
NEVER = "2999-01-01T00:00:00+00:00"


def bare_context(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    """Return the context the diagrams' decision table and timers read, for bare runs."""
    tasks = {
        task_spec.bpmn_id
        for process in [spec, *subprocess_specs.values()]
        for task_spec in process.task_specs.values()
        if getattr(task_spec, "manual", False)
    }
    deadlines = dict.fromkeys(sorted(tasks), NEVER)
    # The county's own threshold number and window, as the application gives them (issue 12).
    return {"received_on": "2026-11-23", "deadlines": deadlines} | local_rules.COUNTY.engine_names()


def new_workflow(
    spec: Any, subprocess_specs: dict[str, Any], script_engine: Any = None
) -> BpmnWorkflow:
    """Create a workflow with the given script engine, by default the library's unrestricted one
    given the diagrams' helper functions (the bare layers measure the engine without the sandbox)."""
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine or UNRESTRICTED_ENGINE)


def run_step(workflow: BpmnWorkflow, step: Step, data: dict[str, Any]) -> None:
    """Complete a step's task in memory and run the engine to the next wait."""
    task = ready_task(workflow, step)
    task.data.update(data)
    task.data.update(bare_context(workflow.spec, workflow.subprocess_specs))
    task.run()
    workflow.do_engine_steps()


@dataclass
class BareMemory:
    """(a) SpiffWorkflow alone, the workflow kept in memory between tasks."""

    spec: Any
    subprocess_specs: dict[str, Any]
    name: str = "(a) bare SpiffWorkflow, in memory"
    script_engine: Any = None  # None: the library's unrestricted eval/exec engine (with FUNCTIONS)

    def begin(self, application: Step | None) -> tuple[BpmnWorkflow, float]:
        """Create a workflow, run it to its first wait and complete the application if any."""
        data = fresh_data(application) if application else {}
        return timed(lambda: self._start(application, data))

    def _start(self, application: Step | None, data: dict[str, Any]) -> BpmnWorkflow:
        workflow = new_workflow(self.spec, self.subprocess_specs, self.script_engine)
        workflow.do_engine_steps()
        if application is not None:
            run_step(workflow, application, data)
        return workflow

    def complete(self, case: BpmnWorkflow, step: Step) -> float:
        """Find the task, update its data, run it and the engine steps after it."""
        data = fresh_data(step)
        return timed(lambda: run_step(case, step, data))[1]


@dataclass
class SerializedCase:
    """A bare case held only as its serialized JSON between tasks."""

    state: str


@dataclass
class BareSerialized:
    """(b) SpiffWorkflow with the full serializer (spec included) around every task."""

    spec: Any
    subprocess_specs: dict[str, Any]
    name: str = "(b) bare + deserialize/serialize per task"

    def begin(self, application: Step | None) -> tuple[SerializedCase, float]:
        """Create a workflow, run it (and the application), and serialize it."""
        data = fresh_data(application) if application else {}
        return timed(lambda: SerializedCase(self._start(application, data)))

    def _start(self, application: Step | None, data: dict[str, Any]) -> str:
        workflow = new_workflow(self.spec, self.subprocess_specs)
        workflow.do_engine_steps()
        if application is not None:
            run_step(workflow, application, data)
        return str(SERIALIZER.serialize_json(workflow))

    def complete(self, case: SerializedCase, step: Step) -> float:
        """Deserialize the case, complete the task, serialize it again."""
        data = fresh_data(step)
        case.state, took = timed(lambda: self._step(case.state, step, data))
        return took

    def _step(self, state: str, step: Step, data: dict[str, Any]) -> str:
        workflow = SERIALIZER.deserialize_json(state)
        workflow.script_engine = UNRESTRICTED_ENGINE
        run_step(workflow, step, data)
        return str(SERIALIZER.serialize_json(workflow))


@dataclass
class BareCodec:
    """(b') The application's engine with the project's own state codec around every task.

    As (b), but the state is what the application stores (engine/serialization.py: the specs
    restored once per version, not written with each case) and the engine is the application's
    (sandboxed scripts in worker processes): (c) and (d) divided by this are the cost of the
    database, the services and the web layer alone.
    """

    spec: Any
    subprocess_specs: dict[str, Any]
    name: str = "(b') the application's engine + the project's state codec per task"
    specs: Any = None

    def __post_init__(self) -> None:
        text = serialization.dump_spec(self.spec, self.subprocess_specs)
        self.specs = serialization.load_specs(text)

    def begin(self, application: Step | None) -> tuple[SerializedCase, float]:
        """Create a workflow, run it (and the application), and save its state."""
        data = fresh_data(application) if application else {}
        return timed(lambda: SerializedCase(self._start(application, data)))

    def _start(self, application: Step | None, data: dict[str, Any]) -> str:
        workflow = new_workflow(self.specs.spec, self.specs.subprocess_specs, default_engine())
        workflow.do_engine_steps()
        if application is not None:
            run_step(workflow, application, data)
        return serialization.dump_state(workflow)

    def complete(self, case: SerializedCase, step: Step) -> float:
        """Restore the case's state, complete the task, save the state again."""
        data = fresh_data(step)
        case.state, took = timed(lambda: self._step(case.state, step, data))
        return took

    def _step(self, state: str, step: Step, data: dict[str, Any]) -> str:
        version = serialization.SERIALIZER_VERSION
        workflow = serialization.load_state(state, self.specs, version)
        run_step(workflow, step, data)
        return serialization.dump_state(workflow)


def open_task_id(database: BenchDatabase, reference: str, step: Step) -> str:
    """Look up (untimed) the id of the open task a step is about."""
    query = (
        select(OpenTask.id)
        .join(Case, Case.id == OpenTask.case_id)
        .where(Case.reference == reference, OpenTask.task_spec == step.task)
    )
    if step.agency is not None:
        query = query.where(OpenTask.agency == step.agency)
    with database.sessions() as session:
        task_id = session.scalars(query).first()
    if task_id is None:
        raise RuntimeError(f"case {reference} has no open task {step.label}")
    return task_id


@dataclass
class Services:
    """(c) The project's services on its database, one session per operation as the web does."""

    database: BenchDatabase
    process_id: str
    name: str = "(c) project services"

    def begin(self, application: Step | None) -> tuple[str, float]:
        """Submit the application, or start a case of the process; return its reference."""
        return timed(lambda: self._start(application))

    def _start(self, application: Step | None) -> str:
        with self.database.sessions() as session:
            if application is not None:
                command = cases.SubmitApplication(fresh_data(application), actors.PUBLIC)
                return cases.submit_application(session, command).reference
            start = cases.StartCase(self.process_id, self.database.officers["carol"])
            return cases.start_case(session, start).reference

    def complete(self, case: str, step: Step) -> float:
        """Complete the step's task through cases.complete_task."""
        task_id = open_task_id(self.database, case, step)
        actor = self.database.officers[step.officer]
        command = cases.CompleteTask(case, task_id, fresh_data(step), actor)
        return timed(lambda: self._complete(command))[1]

    def _complete(self, command: cases.CompleteTask) -> None:
        with self.database.sessions() as session:
            cases.complete_task(session, command)


def page_token(client: FlaskClient, path: str) -> str:
    """Return the CSRF token a page's form carries, as a browser would send it back."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    if found is None:
        raise RuntimeError(f"{path} has no CSRF token")
    return found.group(1)


PUBLIC_TOKEN_PAGE = "/sign-in"  # the public form's first page is a redirect to a draft


def sign_in(client: FlaskClient, username: str) -> str:
    """Sign in (untimed) with the test password; return the new session's CSRF token."""
    form = {"username": username, "password": TEST_PASSWORD}
    _expect_redirect(
        client.post("/sign-in", data={**form, "csrf_token": page_token(client, "/sign-in")})
    )
    return page_token(client, "/tasks")


def make_app(database: BenchDatabase, instance: Path) -> Flask:
    """Create the web application on the bench database."""
    settings = Settings(
        instance_path=instance,
        database_url=database.url,
        secret_key="bench",
        testing=True,
        argon2_time_cost=BENCH_HASHING.time_cost,
        argon2_memory_kib=BENCH_HASHING.memory_kib,
    )
    return create_app(settings)


@dataclass
class Http:
    """(d) Form posts through the Flask test client, as a browser sends them."""

    database: BenchDatabase
    app: Flask
    process_id: str
    name: str = "(d) HTTP, Flask test client"
    after: list[float] = field(default_factory=list)
    client: FlaskClient = field(init=False)
    acting: str | None = field(default=None, init=False)
    csrf_token: str = field(default="", init=False)
    deployed: processes.DeployedProcess = field(init=False)

    def __post_init__(self) -> None:
        self.client = self.app.test_client()
        self.csrf_token = page_token(self.client, PUBLIC_TOKEN_PAGE)
        with self.database.sessions() as session:
            self.deployed = processes.deployed(processes.latest_version(session, self.process_id))

    def begin(self, application: Step | None) -> tuple[str, float]:
        """Post the public application form; without one, start the case through the services."""
        if application is None:
            return Services(self.database, self.process_id).begin(None)
        self.act_as(None)
        data = {k: v for k, v in application.data.items() if k != "channel"}  # fixed by the page
        fields = encode(self.schema(application.task), data)
        fields.append(("csrf_token", self.csrf_token))
        # Answer the question pages (untimed), then time the send from "Check your answers":
        # the request that makes the case, as the single-page form's post did.
        url = urlsplit(self.client.get("/apply").headers["Location"]).path
        while url != "/apply/check":
            page = self.client.post(url, data=MultiDict(fields))
            _expect_redirect(page)
            url = urlsplit(page.headers["Location"]).path
        send = {"csrf_token": self.csrf_token}
        response, took = timed(lambda: self.client.post("/apply/check", data=send))
        _expect_redirect(response)
        done = self.client.get("/apply/done")
        found = re.search(r'id="case-reference">([^<]+)<', done.text)
        if found is None:
            raise RuntimeError("the done page shows no case reference")
        return found.group(1), took

    def complete(self, case: str, step: Step) -> float:
        """Post the task's form as its officer; then follow the redirect as a browser would."""
        self.act_as(step.officer)
        task_id = open_task_id(self.database, case, step)
        fields = MultiDict(
            [*encode(self.schema(step.task), step.data), ("csrf_token", self.csrf_token)]
        )
        response, took = timed(lambda: self.client.post(f"/tasks/{task_id}", data=fields))
        _expect_redirect(response)
        page, after = timed(lambda: self.client.get(response.headers["Location"]))
        if page.status_code != 200:
            raise RuntimeError(f"{response.headers['Location']} answered {page.status_code}")
        self.after.append(after)
        return took

    def act_as(self, username: str | None) -> None:
        """Switch (untimed) to the officer who does the next task, or to the public."""
        if username == self.acting or (username == "public" and self.acting is None):
            return
        if username is None or username == "public":
            self.client.post("/sign-out", data={"csrf_token": self.csrf_token})
            self.csrf_token = page_token(self.client, PUBLIC_TOKEN_PAGE)
            self.acting = None
            return
        self.csrf_token = sign_in(self.client, username)
        self.acting = username

    def schema(self, task: str) -> dict[str, Any]:
        """Return the form of a user task of the deployed process."""
        form = self.deployed.form(self.deployed.user_tasks[task].form)
        if form is None:
            raise RuntimeError(f"task {task} has no form")
        return form


def _expect_redirect(response: Any) -> None:
    """Raise with the page's error messages unless the response is a redirect."""
    if response.status_code == 302:
        return
    errors = re.findall(r'govuk-error-message">\s*<span[^>]*>[^<]*</span>([^<]+)<', response.text)
    raise RuntimeError(f"{response.status_code}: {'; '.join(errors) or response.text[:1000]}")
