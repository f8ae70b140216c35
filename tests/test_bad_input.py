"""Bad input gets a clear error and changes nothing: forms, unknown tasks, repeats, bad requests."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.public_form import send_public
from tests.scenario import ANSWERS, CaseDriver, encode, form_schema
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.samples import APPLICATION, TEST_PASSWORD
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, Event


def snapshot(sessions: sessionmaker[Session], reference: str) -> tuple[Any, ...]:
    """Return what must not change when a request is refused."""
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.case_id == case.id)
        )
        return case.lock_version, case.workflow_state, events, sorted(t.id for t in case.open_tasks)


def started(client: FlaskClient, sessions: sessionmaker[Session]) -> CaseDriver:
    """Return a case waiting for its acknowledgement, with the coordinator acting."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    return case


def test_task_form_missing_fields_shows_errors_beside_fields_and_keeps_input(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A task form without its required answers is shown again with errors and the input kept."""
    case = started(client, sessions)
    before = snapshot(sessions, case.reference)
    task = case.task_id("Acknowledge application")
    response = client.post(f"/tasks/{task}", data={"named_contact": "Carol <b>C</b>"})
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'class="govuk-error-message"' in response.text
    assert "Carol &lt;b&gt;C&lt;/b&gt;" in response.text
    assert 'href="#acknowledged_on-day"' in response.text
    assert snapshot(sessions, case.reference) == before


def test_task_form_wrong_type_is_refused(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A date field given words is refused with a message naming the field, words kept."""
    case = started(client, sessions)
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    before = snapshot(sessions, case.reference)
    task = case.task_id("Record qualifying complaints")
    response = client.post(
        f"/tasks/{task}",
        data={
            "agency_incidents.0.behaviour_date-day": "three",
            "agency_incidents.0.behaviour_date-month": "10",
            "agency_incidents.0.behaviour_date-year": "2026",
            "agency_incidents.0.reported_to": "police",
        },
    )
    assert response.status_code == 422
    assert "Date of the behaviour" in response.text
    assert 'value="three"' in response.text
    assert snapshot(sessions, case.reference) == before


def test_api_refuses_fields_the_form_does_not_ask(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Submitted data cannot set workflow variables the task's form does not ask for."""
    case = started(client, sessions)
    before = snapshot(sessions, case.reference)
    task = case.task_id("Acknowledge application")
    data = dict(ANSWERS["Acknowledge application"], threshold_outcome="met")
    response = client.post(f"/api/cases/{case.reference}/tasks/{task}", json={"data": data})
    assert response.status_code == 422
    assert response.json["details"] == [
        {
            "field": "threshold_outcome",
            "message": "'threshold_outcome' is not a question on this form.",
        }
    ]
    assert snapshot(sessions, case.reference) == before


def test_unknown_task_is_not_found(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    """An unknown task id gives a 404 page and a 404 JSON error."""
    case = started(client, sessions)
    before = snapshot(sessions, case.reference)
    assert client.get("/tasks/00000000-0000-4000-8000-000000000000").status_code == 404
    response = client.post(
        f"/api/cases/{case.reference}/tasks/not-a-task",
        json={"data": ANSWERS["Acknowledge application"]},
    )
    assert response.status_code == 404
    assert response.json["error"] == "Page not found"
    assert snapshot(sessions, case.reference) == before


def test_completed_task_cannot_be_completed_again(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A second submission of a completed task is a 409 saying who completed it; nothing changes."""
    case = started(client, sessions)
    task = case.task_id("Acknowledge application")
    form = MultiDict(
        encode(form_schema("acknowledge_application.json"), ANSWERS["Acknowledge application"])
    )
    assert client.post(f"/tasks/{task}", data=form).status_code == 302
    before = snapshot(sessions, case.reference)
    again = client.post(
        f"/api/cases/{case.reference}/tasks/{task}",
        json={"data": ANSWERS["Acknowledge application"]},
    )
    assert again.status_code == 409
    assert "already completed by carol" in again.json["message"]
    page = client.post(f"/tasks/{task}", data=form)
    assert page.status_code == 404
    assert snapshot(sessions, case.reference) == before


def test_malformed_api_request_is_a_clear_json_error(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A body that is not JSON, or JSON without data, is refused with a 400 explaining the shape."""
    case = started(client, sessions)
    before = snapshot(sessions, case.reference)
    task = case.task_id("Acknowledge application")
    url = f"/api/cases/{case.reference}/tasks/{task}"
    for response in (
        client.post(url, data="{not json", content_type="application/json"),
        client.post(url, json=["a", "list"]),
        client.post(url, json={"answers": {}}),
    ):
        assert response.status_code == 400
        assert '{"data": {...}}' in response.json["message"]
    assert snapshot(sessions, case.reference) == before


def test_task_of_another_role_is_refused(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The chair cannot open or complete the coordinator's task (403); the police, whose agency
    the case is not shared with, are told it is not there (404)."""
    case = started(client, sessions)
    before = snapshot(sessions, case.reference)
    task = case.task_id("Acknowledge application")
    for username, status in (("ingrid", 403), ("pete", 404)):
        case.act_as(username)
        assert client.get(f"/tasks/{task}").status_code == status
        response = client.post(
            f"/api/cases/{case.reference}/tasks/{task}",
            json={"data": ANSWERS["Acknowledge application"]},
        )
        assert response.status_code == status
    assert snapshot(sessions, case.reference) == before


def test_public_application_missing_fields_keeps_input(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The public form without a summary or declaration is shown again with errors; no case is
    made, and what was typed on earlier pages is kept."""
    data = {k: v for k, v in APPLICATION.items() if k not in ("asb_summary", "declaration")}
    fields = encode(form_schema("submit_application.json"), data)
    response = send_public(client, fields)
    assert response.status_code == 422
    assert 'href="#asb_summary"' in response.text
    assert "Alex Applicant" in client.get("/apply/about-you").text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_double_submitted_application_makes_one_case(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Pressing Send twice gives one case, and both answers show its reference."""
    fields = encode(form_schema("submit_application.json"), APPLICATION)
    first = send_public(client, fields)
    first_answer = client.get("/apply/done").text
    second = client.post("/apply/check")
    assert first.status_code == second.status_code == 302
    assert second.location.endswith("/apply/done")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    reference = re.search(r"CT-\d{4}-0001", first_answer)
    assert reference is not None
    assert reference.group(0) in client.get("/apply/done").text


def test_officer_pages_need_someone_signed_in(client: FlaskClient) -> None:
    """Officer pages send a visitor to sign in first; the API refuses with 401."""
    response = client.get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/tasks"
    assert client.get("/api/cases/CT-2026-0001").status_code == 401


def test_decision_that_raises_over_the_api_keeps_the_answers_and_holds_the_case(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    process_files: ProcessFiles,
) -> None:
    """A decision table that fails on a live case: 202 with the reason; the workflow state is unchanged, the case held."""
    files = dict(process_files.files)
    files["threshold.dmn"] = files["threshold.dmn"].replace(
        "<text>count_qualifying_complaints(", "<text>1 / 0 + count_qualifying_complaints("
    )
    with sessions() as session:
        assert processes.deploy(session, ProcessFiles(files), "owner").created
    case = started(client, sessions)
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    before = snapshot(sessions, case.reference)
    task = case.task_id("Record qualifying complaints")
    response = client.post(f"/api/cases/{case.reference}/tasks/{task}", json={"data": {}})
    assert response.status_code == 202
    assert response.json["status"] == "error"
    assert "Rule failed on row 1" in response.json["incident"]
    assert "Apply threshold rule" in response.json["incident"]
    after = snapshot(sessions, case.reference)
    # Same workflow state and open tasks; one more event (the incident) and a new lock version.
    assert after[1] == before[1] and after[3] == before[3]
    assert after[2] == before[2] + 1


def test_instructions_show_case_data_escaped_once(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Names with quotes, ampersands and tags appear as written, and no markup gets through."""
    case = CaseDriver(client, sessions)
    applicant = dict(APPLICATION["applicant"], name="O'Brien & <b>Sons</b>")
    case.apply(dict(APPLICATION, applicant=applicant))
    case.act_as("carol")
    page = client.get(f"/tasks/{case.task_id('Acknowledge application')}").text
    assert "O&#39;Brien &amp; &lt;b&gt;Sons&lt;/b&gt;" in page
    assert "&amp;#39;" not in page and "&amp;amp;" not in page
    assert "<b>Sons</b>" not in page


@pytest.mark.parametrize(
    "target", ["//evil.example", "/%09/evil.example", "https://evil.example/", "/\\evil.example"]
)
def test_signing_in_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    """The 'next' address after signing in stays on this site."""
    response = client.post(
        f"/sign-in?next={target}", data={"username": "carol", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
