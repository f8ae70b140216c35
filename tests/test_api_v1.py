"""The supported JSON API (/api/v1) with API clients' bearer tokens: issue, use, revoke and
expire a token; cases and tasks through the API under the pages' own access rules (R22); claim,
complete and release; errors as problem details; CSRF still guards browser sessions."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.api_clients import bearer, call, issue
from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.services.accounts import api_clients, security_log
from trigger_workflow.store.models import ApiClient, Case, Event, SecurityEvent, utcnow

PROBLEM_FIELDS = {"type", "title", "status", "detail", "errors"}


@pytest.fixture
def plain(app: Flask) -> FlaskClient:
    """A client like another system: no cookies kept, no CSRF token sent."""
    return FlaskClient(app, app.response_class, use_cookies=False)


def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json  # type: ignore[attr-defined]
    assert set(body) == PROBLEM_FIELDS and body["status"] == status
    return body


def test_a_token_works_until_it_is_revoked_and_both_are_in_the_security_log(
    app: Flask, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """An issued token lists tasks and moves the client's last-used time; revoked, its next
    request gets 401 at once; issuing and revoking are in the security log."""
    token = issue(sessions, "council-crm", "coordinator", "council")
    assert token.startswith(api_clients.PREFIX)
    assert call(plain, "GET", "/api/v1/tasks", token).status_code == 200
    with sessions() as session:
        client = session.scalar(select(ApiClient).where(ApiClient.name == "council-crm"))
        assert client is not None and client.last_used_at is not None
        assert token not in client.token_hash and len(client.token_hash) == 64
        api_clients.revoke(session, "council-crm", by="adam")
    refused = _problem(call(plain, "GET", "/api/v1/tasks", token), 401)
    assert "revoked" in str(refused["detail"])
    with sessions() as session:
        kinds = session.scalars(
            select(SecurityEvent.kind).where(SecurityEvent.subject == "api:council-crm")
        ).all()
    assert kinds == [security_log.API_CLIENT_ISSUED, security_log.API_CLIENT_REVOKED]


def test_an_expired_token_is_refused(
    app: Flask, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A token past its expiry gets 401, the moment it expires."""
    token = issue(sessions, "short-lived", "coordinator", days=1)
    assert call(plain, "GET", "/api/v1/cases", token).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=1, seconds=1)):
        _problem(call(plain, "GET", "/api/v1/cases", token), 401)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer twapi_not-a-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "twapi_x",
        "Bearer " + "x" * 5000,
    ],
)
def test_a_bad_authorization_header_gets_401_problem(plain: FlaskClient, header: str) -> None:
    """Unknown tokens, other schemes and empty or huge values are refused with one shape."""
    response = plain.get("/api/v1/cases", headers={"Authorization": header})
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_and_no_session_gets_401_but_the_spec_is_public(plain: FlaskClient) -> None:
    """Every operation needs a client; the OpenAPI document does not."""
    _problem(plain.get("/api/v1/tasks"), 401)
    _problem(plain.post("/api/v1/applications", json={"data": {}}), 401)
    spec = plain.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"] == "3.1.0"


def test_issuing_refuses_bad_names_roles_agencies_and_lengths(
    sessions: sessionmaker[Session],
) -> None:
    """A client needs a clean unique name, a casework role (a partner an agency), 1 to 366 days."""
    issue(sessions, "police-records", "partner", "police")
    bad = [
        ("Police Records", "partner", "police", 30),
        ("police-records", "partner", "police", 30),
        ("admin-bot", "administrator", None, 30),
        ("no-agency", "partner", None, 30),
        ("forever", "coordinator", None, 367),
        ("never", "coordinator", None, 0),
    ]
    with sessions() as session:
        for name, role, agency, days in bad:
            with pytest.raises(api_clients.TriggerWorkflowError):
                api_clients.issue(session, name, role, agency, days, by="adam")
            session.rollback()
        assert session.scalar(select(func.count()).select_from(ApiClient)) == 1


def _case_at_review(client: FlaskClient, sessions: sessionmaker[Session]) -> CaseDriver:
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": ["police", "housing"]})
    return case


def _secret(agency: str) -> str:
    return f"Only {agency} knows: file {agency.upper()}-4411"


def test_r22_each_agency_client_reads_only_its_own_answer(
    app: Flask, client: FlaskClient, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22 through the API: the police's client reads the police answer and never housing's,
    and is told housing answered; housing's reads only its own; a health client does not see
    the case at all (404, and not in its list); the coordinator's client reads both."""
    case = _case_at_review(client, sessions)
    for agency in ("police", "housing"):
        answer = {"known_issues": _secret(agency), "action_taken": f"{agency} visited."}
        case.complete("Answer information request", {"information_response": answer}, agency)
    tokens = {
        "police": issue(sessions, "police-rms", "partner", "police"),
        "housing": issue(sessions, "housing-crm", "partner", "housing"),
        "health": issue(sessions, "health-sys", "partner", "health"),
        "council": issue(sessions, "council-crm", "coordinator", "council"),
    }
    path = f"/api/v1/cases/{case.reference}"
    for who, reads in {
        "police": {"police"},
        "housing": {"housing"},
        "council": {"police", "housing"},
    }.items():
        response = call(plain, "GET", path, tokens[who])
        assert response.status_code == 200, response.text
        read = {a for a in ("police", "housing") if _secret(a) in response.text}
        assert read == reads, who
        withheld = {a for e in response.json["events"] for a in e["answers_withheld"]}
        assert withheld == {"police", "housing"} - reads, who
        listed = call(plain, "GET", "/api/v1/cases", tokens[who]).json["items"]
        assert [c["reference"] for c in listed] == [case.reference]
    _problem(call(plain, "GET", path, tokens["health"]), 404)
    _problem(call(plain, "GET", f"{path}/letters", tokens["health"]), 404)
    assert call(plain, "GET", "/api/v1/cases", tokens["health"]).json["items"] == []
    letters = call(plain, "GET", f"{path}/letters", tokens["police"])
    assert letters.status_code == 200 and letters.json["letters"], letters.text


def test_claim_complete_release_with_a_token_and_a_second_completion_is_409(
    app: Flask, client: FlaskClient, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The police's client lists its task, claims it (recorded against the client), releases
    and claims it again, completes it; completing again is 409 and changes nothing."""
    case = _case_at_review(client, sessions)
    token = issue(sessions, "police-rms", "partner", "police")
    tasks = call(plain, "GET", "/api/v1/tasks?view=unclaimed", token).json["items"]
    assert [(t["name"], t["reference"]) for t in tasks] == [
        ("Answer information request", case.reference)
    ]
    task_id = tasks[0]["id"]
    claimed = call(plain, "POST", f"/api/v1/tasks/{task_id}/claim", token)
    assert claimed.status_code == 200 and claimed.json["assignee"] == "api:police-rms"
    assert call(plain, "POST", f"/api/v1/tasks/{task_id}/release", token).json["assignee"] is None
    assert call(plain, "POST", f"/api/v1/tasks/{task_id}/claim", token).status_code == 200
    complete = f"/api/v1/cases/{case.reference}/tasks/{task_id}/complete"
    invalid = call(plain, "POST", complete, token, json={"data": {"information_response": {}}})
    assert _problem(invalid, 422)["errors"], "each missing answer is named"
    answer = {"information_response": ANSWERS["Answer information request"]["information_response"]}
    done = call(plain, "POST", complete, token, json={"data": answer})
    assert done.status_code == 200, done.text
    with sessions() as session:
        events = session.scalar(select(func.count()).select_from(Event))
        state = session.scalar(select(Case.workflow_state).where(Case.reference == case.reference))
        completed = select(Event.actor).where(Event.kind == "task_completed").order_by(Event.id)
        actors_ = session.scalars(completed).all()
    assert actors_[-1] == "api:police-rms"
    again = call(plain, "POST", complete, token, json={"data": answer})
    _problem(again, 409)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == events
        assert (
            session.scalar(select(Case.workflow_state).where(Case.reference == case.reference))
            == state
        )


def test_a_client_cannot_do_another_roles_task(
    app: Flask, client: FlaskClient, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The housing client cannot claim or complete the police's task (403); a chair's client
    cannot enter applications (403); only an auditor's client reads the figures."""
    case = _case_at_review(client, sessions)
    police_task = case.task_id("Answer information request", "police")
    housing = issue(sessions, "housing-crm", "partner", "housing")
    _problem(call(plain, "POST", f"/api/v1/tasks/{police_task}/claim", housing), 403)
    path = f"/api/v1/cases/{case.reference}/tasks/{police_task}/complete"
    _problem(call(plain, "POST", path, housing, json={"data": {}}), 403)
    chair = issue(sessions, "chair-tool", "chair", "independent")
    _problem(call(plain, "POST", "/api/v1/applications", chair, json={"data": {}}), 403)
    _problem(call(plain, "GET", "/api/v1/figures", chair), 403)
    auditor = issue(sessions, "returns", "auditor")
    figures = call(plain, "GET", "/api/v1/figures?start=2026-04-01", auditor)
    assert figures.status_code == 200, figures.text
    assert figures.json["start"] == "2026-04-01" and figures.json["end"] == "2027-03-31"
    assert figures.json["counts"]["applications"] == len(figures.json["cases"]["applications"])


def test_an_application_through_the_api_uses_the_forms_rules(
    app: Flask, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1, R2: a coordinator's client enters an application (201, a reference); an empty one is
    refused field by field (422); a retry with the same key gives back the same case."""
    from trigger_workflow.samples import APPLICATION

    token = issue(sessions, "council-crm", "coordinator", "council")
    empty = _problem(call(plain, "POST", "/api/v1/applications", token, json={"data": {}}), 422)
    assert any(e.get("field") for e in empty["errors"])  # type: ignore[union-attr]
    body = {"data": APPLICATION, "received_on": "2026-11-23", "submission_key": "crm-1"}
    first = call(plain, "POST", "/api/v1/applications", token, json=body)
    assert first.status_code == 201, first.text
    again = call(plain, "POST", "/api/v1/applications", token, json=body)
    assert again.json["reference"] == first.json["reference"]
    bad_date = dict(body, received_on="23/11/2026")
    assert _problem(call(plain, "POST", "/api/v1/applications", token, json=bad_date), 422)[
        "errors"
    ] == [{"field": "received_on", "message": "Not a valid date."}]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/cases?page=0", 400),
        ("/api/v1/cases?status=lost", 400),
        ("/api/v1/tasks?view=everyone", 400),
        ("/api/v1/figures?start=yesterday", 400),
        ("/api/v1/cases/CT-9999-0001", 404),
        ("/api/v1/nothing-here", 404),
    ],
)
def test_bad_queries_and_unknown_things_get_one_problem_shape(
    plain: FlaskClient, sessions: sessionmaker[Session], path: str, status: int
) -> None:
    """Bad query parameters (400, naming the parameter) and unknown cases or paths (404)."""
    token = issue(sessions, "returns", "auditor")
    body = _problem(call(plain, "GET", path, token), status)
    if status == 400:
        assert body["errors"] and all("field" in e for e in body["errors"])  # type: ignore[union-attr]


def test_a_body_that_is_not_a_json_object_is_400_and_unknown_fields_422(
    plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    token = issue(sessions, "council-crm", "coordinator", "council")
    _problem(call(plain, "POST", "/api/v1/applications", token, data="not json"), 400)
    _problem(call(plain, "POST", "/api/v1/applications", token, json=[1, 2]), 400)
    odd = call(plain, "POST", "/api/v1/applications", token, json={"data": {}, "extra": 1})
    assert _problem(odd, 422)["errors"] == [{"field": "extra", "message": "Unknown field."}]
    wrong = call(plain, "PUT", "/api/v1/applications", token, json={})
    _problem(wrong, 405)
    assert "POST" in wrong.headers["Allow"]


def test_a_browser_session_keeps_its_csrf_check_and_a_token_needs_none(
    app: Flask, client: FlaskClient, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A signed-in officer's cookie reaches /api/v1 too, but a POST without the session's CSRF
    token is refused (400) and claims nothing; with a bearer token no CSRF token is needed."""
    case = _case_at_review(client, sessions)
    task = case.task_id("Answer information request", "police")
    CaseDriver(client, sessions).act_as("pete")
    assert client.get("/api/v1/tasks").status_code == 200
    refused = client.post(f"/api/v1/tasks/{task}/claim", headers={"X-CSRFToken": ""})
    assert "CSRF" in str(_problem(refused, 400)["detail"])
    with sessions() as session:
        assert session.scalar(select(Event).where(Event.kind == "task_claimed")) is None
    accepted = client.post(f"/api/v1/tasks/{task}/claim")  # the session's token in its header
    assert accepted.status_code == 200 and accepted.json["assignee"] == "pete"
    token = issue(sessions, "police-rms", "partner", "police")
    released = call(plain, "POST", f"/api/v1/tasks/{task}/release", token)
    assert released.status_code == 403, "the client does not hold pete's task"


def test_a_bad_token_is_refused_even_with_a_signed_in_session(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A request that sends a token is judged by the token alone: no falling back to the cookie."""
    CaseDriver(client, sessions).act_as("carol")
    assert client.get("/api/v1/cases").status_code == 200
    _problem(client.get("/api/v1/cases", headers=bearer("twapi_revoked-or-made-up")), 401)


def test_every_call_is_logged_with_its_client(
    plain: FlaskClient, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    """Each call is a structured log line with the client, method, path (no query) and status."""
    token = issue(sessions, "council-crm", "coordinator", "council")
    with caplog.at_level(logging.INFO, logger="trigger_workflow.api"):
        call(plain, "GET", "/api/v1/cases?q=Alex+Applicant", token)
        plain.get("/api/v1/cases", headers=bearer("twapi_unknown"))
    lines = [r for r in caplog.records if r.name == "trigger_workflow.api"]
    assert [(r.client, r.method, r.path, r.status) for r in lines] == [  # type: ignore[attr-defined]
        ("council-crm", "GET", "/api/v1/cases", 200),
        (None, "GET", "/api/v1/cases", 401),
    ]
    assert all("Alex" not in json.dumps(r.__dict__, default=str) for r in lines)


def test_the_old_api_still_answers_and_the_spec_says_v1_is_supported(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """/api/cases/... keeps working for browser sessions (the older, unversioned API)."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    assert client.get(f"/api/cases/{case.reference}").status_code == 200
    assert "/api/v1/cases" in client.get("/api/v1/openapi.json").json["paths"]


DOCS = Path(__file__).resolve().parents[1] / "docs" / "api-and-cli.md"


def test_the_guides_curl_examples_work_as_written(
    app: Flask, client: FlaskClient, plain: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The guide's curl examples, read from docs/api-and-cli.md: the GET sent as written (its
    header with a real token, its path and query) lists the unclaimed task; the POST's body is
    JSON and its path an operation of the document, and it completes the task."""
    text = DOCS.read_text()
    examples = re.findall(r"```sh\n(curl .*?)\n```", text, re.S)
    assert len(examples) == 2, "the guide has its two curl examples"
    case = _case_at_review(client, sessions)
    token = issue(sessions, "police-rms", "partner", "police")
    get = examples[0].replace("\\\n", " ")
    header = re.search(r'-H "Authorization: Bearer \$TRIGGER_WORKFLOW_TOKEN"', get)
    url = re.search(r'"https://[^/"]+(/api/v1/[^"]+)"', get)
    assert header and url
    listed = plain.get(url.group(1), headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    task = listed.json["items"][0]["id"]
    post = examples[1].replace("\\\n", " ")
    body = json.loads(re.search(r"-d '([^']+)'", post).group(1))  # type: ignore[union-attr]
    path = re.search(r'"https://[^/"]+(/api/v1/[^"]+)"', post).group(1)  # type: ignore[union-attr]
    template = re.sub(r"CT-\d{4}-\d{4}", "{reference}", path).replace("TASK-ID", "{task_id}")
    assert template in plain.get("/api/v1/openapi.json").json["paths"]
    done = call(
        plain, "POST", template.format(reference=case.reference, task_id=task), token, json=body
    )
    assert done.status_code == 200, done.text
