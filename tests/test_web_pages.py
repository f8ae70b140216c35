"""The pages people use: the public form, task lists, task pages and the case page."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.scenario import ANSWERS, CaseDriver, encode, form_schema
from trigger_workflow.samples import APPLICATION


def test_public_pages_need_no_sign_in(client: FlaskClient) -> None:
    """The start page and the application form's pages open for anyone, with GOV.UK styling."""
    home = client.get("/")
    assert home.status_code == 200
    assert "Start now" in home.text
    start = client.get("/apply")
    assert start.status_code == 302 and start.location.endswith("/apply/who")
    form = client.get("/apply/who")
    assert form.status_code == 200
    assert 'href="/govuk/govuk-frontend.min.css"' in form.text
    assert 'name="basis"' in form.text
    assert 'name="applicant.name"' in client.get("/apply/about-you").text
    assert 'name="incidents.0.behaviour_date-day"' in client.get("/apply/behaviour").text


def test_officer_only_questions_never_appear_on_the_public_form(client: FlaskClient) -> None:
    """How the application arrived, and consent told to an officer, are for officers only."""
    client.get("/apply")
    client.post("/apply/who", data={"basis": "on_behalf"})
    pages = [client.get(f"/apply/{page}").text for page in ("who", "about-you", "victim")]
    pages += [client.get(f"/apply/{page}").text for page in ("contact", "behaviour", "impact")]
    pages += [client.get("/apply/declaration").text, client.get("/apply/check").text]
    assert 'name="victim.consent_how"' in pages[2]
    for text in pages:
        assert 'value="to_officer"' not in text
        assert "victim.consent_date" not in text and "victim.consent_method" not in text
        assert 'name="channel"' not in text or 'type="hidden" id="channel"' in text


def test_add_another_incident_keeps_answers_and_adds_a_row(client: FlaskClient) -> None:
    """'Add another incident' keeps what was typed and shows one more row, no errors, its first
    question focused (autofocus) and scrolled to (the page's anchor, without JavaScript)."""
    client.get("/apply")
    fields = encode(form_schema("submit_application.json"), {"asb_summary": "Noise at night"})
    response = client.post("/apply/behaviour", data=MultiDict([*fields, ("_add", "incidents")]))
    assert response.status_code == 302
    assert response.location.endswith("/apply/behaviour#incidents-1-behaviour_date-day")
    page = client.get("/apply/behaviour")
    assert page.status_code == 200
    assert "There is a problem" not in page.text
    assert "Noise at night" in page.text
    assert 'name="incidents.1.location"' in page.text
    day = re.search(r'<input[^>]*id="incidents-1-behaviour_date-day"[^>]*>', page.text)
    assert day is not None and "autofocus" in day.group(0)


def test_officer_enters_application_received_by_phone(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R2: a coordinator enters an application taken by phone; the channel is recorded."""
    case = CaseDriver(client, sessions)
    case.act_as("carol")
    page = client.get("/cases/new")
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text)
    assert key is not None
    data = dict(APPLICATION, channel="phone")
    fields = encode(form_schema("submit_application.json"), data)
    received = [
        ("received_on-day", "16"),
        ("received_on-month", "11"),
        ("received_on-year", "2026"),
    ]
    form = MultiDict([*fields, *received, ("submission_key", key.group(1))])
    response = client.post("/cases/new", data=form)
    assert response.status_code == 302
    case.reference = response.headers["Location"].rsplit("/", 1)[-1]
    state = case.case()
    assert state["events"][1]["actor"] == "carol"
    assert state["events"][1]["data"]["channel"] == "phone"
    # R5: five working days from the day the letter arrived, not from the day it was typed in.
    assert state["open_tasks"][0]["due_on"] == "2026-11-23"
    shown = client.get(f"/cases/{case.reference}").text
    assert "16 November 2026" in shown and re.search(
        r"How it was received\s*</dt>\s*<dd[^>]*>\s*Phone\s*<", shown
    )


def test_officer_must_say_when_an_application_arrived(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Without the date received, the officer's form is refused with the error beside it."""
    CaseDriver(client, sessions).act_as("carol")
    fields = encode(form_schema("submit_application.json"), dict(APPLICATION, channel="letter"))
    response = client.post("/cases/new", data=MultiDict([*fields, ("submission_key", "k")]))
    assert response.status_code == 422
    assert 'href="#received_on-day"' in response.text


def test_partner_cannot_enter_applications(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Only the coordinator enters applications for others."""
    CaseDriver(client, sessions).act_as("pete")
    assert client.get("/cases/new").status_code == 403


def test_task_lists_offer_each_task_to_its_role_and_agency(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R14, R22: the coordinator sees coordinator tasks; each agency sees only its own request."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    case.act_as("carol")
    assert "Answer information request" not in client.get("/tasks").text
    case.act_as("pete")
    police = client.get("/tasks").text
    assert police.count("Answer information request") == 1
    assert case.reference in police
    housing_task = case.task_id("Answer information request", "housing")
    assert client.get(f"/tasks/{housing_task}").status_code == 403
    case.act_as("heath")
    assert "There are no open tasks for you." in client.get("/tasks").text


@pytest.mark.today("2026-11-25")  # the sample incidents are within R9's six months of it
def test_task_page_shows_instructions_from_case_data(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The decide-threshold page shows the local number and what the DMN rule said (R6, R8)."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Decide threshold")
    page = client.get(f"/tasks/{case.task_id('Decide threshold')}")
    instructions = re.search(r'id="instructions"[^>]*>(.*?)</div>', page.text, re.S)
    assert instructions is not None
    assert "Count rule (3 or more qualifying complaints): met" in instructions.group(1)


def test_case_page_shows_stage_open_tasks_and_history(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The case page has the stage, each open task with its due date, and who did what."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    page = client.get(f"/cases/{case.reference}").text
    assert re.search(r'id="case-stage">Threshold decision<', page)
    row = re.search(r'<tr class="govuk-table__row" data-task-id=.*?</tr>', page, re.S)
    assert row is not None
    assert re.search(
        r"Record qualifying complaints</a></td>\s*<td[^>]*>Case review coordinator</td>"
        r"\s*<td[^>]*>Not claimed.*?<td[^>]*>\d+ \w+ \d{4}<br>",
        row.group(0),
        re.S,
    )
    assert "Acknowledge application" in page and "Carol Coordinator" in page
    assert "Alex Applicant" in page
    assert client.get("/cases").status_code == 200


def test_unknown_case_is_a_404_page(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    """A reference that does not exist gives a page saying so."""
    CaseDriver(client, sessions).act_as("carol")
    response = client.get("/cases/CT-1999-0001")
    assert response.status_code == 404
    assert "There is no case CT-1999-0001." in response.text


def test_long_task_list_says_it_shows_the_soonest_due(
    client: FlaskClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the inbox is cut at its limit it says so and links to the next page, which has the rest."""
    from trigger_workflow.web import tasks

    for _ in range(3):
        CaseDriver(client, sessions).apply()
    case = CaseDriver(client, sessions)
    case.act_as("carol")
    assert "3 open tasks" in client.get("/tasks").text
    monkeypatch.setattr(tasks, "INBOX_LIMIT", 2)
    page = client.get("/tasks").text
    assert "The 2 open tasks due soonest" in page
    assert page.count("Acknowledge application</a>") == 2
    assert 'href="/tasks?page=2"' in page
    rest = client.get("/tasks?page=2").text
    assert "Open tasks 3 to 3" in rest and rest.count("Acknowledge application</a>") == 1
    assert 'href="/tasks?page=1"' in rest


def test_application_dated_in_the_future_is_refused_beside_the_date(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The service refuses a date received after today; the page shows it at the date field."""
    CaseDriver(client, sessions).act_as("carol")
    fields = encode(form_schema("submit_application.json"), dict(APPLICATION, channel="letter"))
    future = [("received_on-day", "1"), ("received_on-month", "1"), ("received_on-year", "2999")]
    response = client.post(
        "/cases/new", data=MultiDict([*fields, *future, ("submission_key", "k")])
    )
    assert response.status_code == 422
    assert "The date received must be today or in the past" in response.text
    assert 'href="#received_on-day"' in response.text
    assert 'value="2999"' in response.text
