"""Contract tests: schemathesis runs /api/v1's own OpenAPI document against the app (in
process, over WSGI): every documented operation with generated input, valid and invalid. Each
response must be documented and match its schema, none may be a server error, and a refused
request must change no case (the database is compared before and after). The document itself
is checked against the OpenAPI 3.1 specification."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.api_clients import bearer, issue
from tests.scenario import CaseDriver
from trigger_workflow.store.models import Case, Event, OpenTask

# Bounded so CI stays quick: 10 operations x this many examples (a few seconds each at most).
EXAMPLES = 25


def snapshot(sessions: sessionmaker[Session]) -> tuple[Any, ...]:
    """Return what a refused request must not change: every case, its tasks and its events."""
    with sessions() as session:
        cases = session.execute(
            select(Case.reference, Case.lock_version, Case.status, Case.stage, Case.events_recorded)
            .order_by(Case.id)
        ).all()  # fmt: skip
        tasks = session.execute(select(OpenTask.id, OpenTask.assignee).order_by(OpenTask.id)).all()
        events = session.execute(select(Event.case_id, Event.seq).order_by(Event.id)).all()
    return tuple(cases), tuple(tasks), tuple(events)


@pytest.fixture
def case_at_review(client: FlaskClient, sessions: sessionmaker[Session]) -> CaseDriver:
    """A case whose police and housing information requests are open, for the API to find."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": ["police", "housing"]})
    return case


OPERATIONS = [
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{reference}"),
    ("GET", "/api/v1/cases/{reference}/letters"),
    ("POST", "/api/v1/cases/{reference}/tasks/{task_id}/complete"),
    ("GET", "/api/v1/tasks"),
    ("POST", "/api/v1/tasks/{task_id}/claim"),
    ("POST", "/api/v1/tasks/{task_id}/release"),
    ("POST", "/api/v1/applications"),
    ("GET", "/api/v1/figures"),
    ("GET", "/api/v1/openapi.json"),
]


@pytest.fixture
def coordinator_token(sessions: sessionmaker[Session]) -> str:
    return issue(sessions, "contract-tests", "coordinator", "council")


# Each operation with valid input and, where it takes any, invalid input.
RUNS = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in GenerationMode
    if mode == GenerationMode.POSITIVE or not path.endswith("openapi.json")
]


@pytest.mark.parametrize(("method", "path", "mode"), RUNS, ids=lambda x: getattr(x, "value", x))
def test_every_operation_keeps_its_contract(
    app: Flask, case_at_review: CaseDriver, coordinator_token: str,
    sessions: sessionmaker[Session], method: str, path: str, mode: GenerationMode,
) -> None:  # fmt: skip
    """Valid (positive) and invalid (negative) generated requests with a coordinator's token:
    no server error, every response documented and as its schema says, invalid input refused,
    and a refused request (4xx) leaves every case, task and event as it was.

    Not checked: that every schema-valid request is accepted. The law's rules, each task's own
    form and the refusal of NUL characters are more than the document's schemas say, so a
    request valid by the document may still be refused, with a documented 400 or 422.
    """
    config = SchemathesisConfig.from_dict(
        {"auth": {"openapi": {"bearer": {"bearer": coordinator_token}}}}
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def keeps_contract(case: Any) -> None:
        before = snapshot(sessions)
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        if response.status_code >= 400:
            assert snapshot(sessions) == before, f"{case.method} {case.formatted_path} changed data"

    keeps_contract()


def test_the_document_is_valid_openapi_3_1(plain_client: FlaskClient) -> None:
    """The served document passes openapi-spec-validator (OpenAPI 3.1) and documents every
    operation's errors as problem details."""
    document = plain_client.get("/api/v1/openapi.json").json
    validate(document)
    assert document["openapi"] == "3.1.0"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.endswith("openapi.json"):
                continue
            errors = {code for code in operation["responses"] if code.startswith("4")}
            assert {"400", "401"} <= errors, (method, path)
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented == set(OPERATIONS), "each operation is in the contract run"


@pytest.fixture
def plain_client(app: Flask) -> FlaskClient:
    return FlaskClient(app, app.response_class, use_cookies=False)


def test_real_cases_and_tasks_match_the_document(
    app: Flask, plain_client: FlaskClient, case_at_review: CaseDriver,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    """Generated ids mostly find nothing: here each read operation is called on the real case
    and task, by each kind of client, and the answer validated against the document."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    reference = case_at_review.reference
    task = case_at_review.task_id("Answer information request", "police")
    tokens = {
        "coordinator": issue(sessions, "council-crm", "coordinator", "council"),
        "police": issue(sessions, "police-rms", "partner", "police"),
        "auditor": issue(sessions, "returns", "auditor"),
    }
    calls = [
        ("GET", "/api/v1/cases", {}, "coordinator", 200),
        ("GET", "/api/v1/cases/{reference}", {}, "police", 200),
        ("GET", "/api/v1/cases/{reference}/letters", {}, "coordinator", 200),
        ("GET", "/api/v1/tasks", {}, "police", 200),
        ("GET", "/api/v1/figures", {}, "auditor", 200),
        ("POST", "/api/v1/tasks/{task_id}/claim", {}, "police", 200),
        ("POST", "/api/v1/tasks/{task_id}/claim", {}, "coordinator", 403),
        ("POST", "/api/v1/tasks/{task_id}/release", {}, "police", 200),
        ("POST", "/api/v1/cases/{reference}/tasks/{task_id}/complete", {"data": {}}, "police", 422),
    ]
    for method, path, body, who, status in calls:
        operation = schema[path][method]
        url = path.format(reference=reference, task_id=task)
        kwargs = {"json": body} if method == "POST" else {}
        response = plain_client.open(url, method=method, headers=bearer(tokens[who]), **kwargs)
        assert response.status_code == status, (method, url, response.text)
        operation.validate_response(response)
