"""CSRF tokens: every state-changing request needs the session's token; without it nothing is saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.public_form import send_public
from tests.scenario import CaseDriver, encode, form_schema
from trigger_workflow.samples import ANSWERS, APPLICATION, TEST_PASSWORD
from trigger_workflow.store.models import Case, Event

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "trigger_workflow" / "web" / "templates"
REFUSED = "Your form could not be sent"


def token_on(page: str) -> str:
    """Return the CSRF token embedded in a page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def count(sessions: sessionmaker[Session], model: type) -> int:
    """Return how many rows a table has."""
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def application_fields() -> list[tuple[str, str]]:
    """Return the sample application as posted form fields."""
    return encode(form_schema("submit_application.json"), APPLICATION)


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_public_application_without_a_valid_token_is_refused_and_not_saved(
    raw_client: FlaskClient, sessions: sessionmaker[Session], token: str | None
) -> None:
    """A public application's page with no token, or a forged one, gets a clear 400 page; no case."""
    raw_client.get("/apply")
    fields = application_fields()
    if token:
        fields.append(("csrf_token", token))
    response = raw_client.post("/apply/who", data=MultiDict(fields))
    assert response.status_code == 400
    assert REFUSED in response.text and "Nothing was saved" in response.text
    assert count(sessions, Case) == 0


def test_public_application_with_the_page_token_is_accepted(
    raw_client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The token the form carries is the one that is accepted: a browser needs nothing else."""
    raw_client.get("/apply")
    page = raw_client.get("/apply/who").text
    response = send_public(raw_client, [*application_fields(), ("csrf_token", token_on(page))])
    assert response.status_code == 302
    assert count(sessions, Case) == 1


def test_sign_in_form_needs_its_token(raw_client: FlaskClient) -> None:
    """Signing in without the form's token is refused (login CSRF); with it, it works."""
    credentials = {"username": "carol", "password": TEST_PASSWORD}
    assert raw_client.post("/sign-in", data=credentials).status_code == 400
    token = token_on(raw_client.get("/sign-in").text)
    assert raw_client.post("/sign-in", data={**credentials, "csrf_token": token}).status_code == 302


def test_token_from_another_session_is_refused(app, raw_client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    """A token is bound to its session: one taken from another browser does not work."""
    other = app.test_client()
    stolen = token_on(other.get("/sign-in").text)
    raw_client.get("/sign-in")
    response = raw_client.post(
        "/sign-in", data={"username": "carol", "password": TEST_PASSWORD, "csrf_token": stolen}
    )
    assert response.status_code == 400


def test_task_form_without_token_changes_nothing(
    client: FlaskClient, raw_client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Completing a task without a token is refused; the case and its events are unchanged."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    task = case.task_id("Acknowledge application")
    token = token_on(raw_client.get("/sign-in").text)
    raw_client.post(
        "/sign-in", data={"username": "carol", "password": TEST_PASSWORD, "csrf_token": token}
    )
    events = count(sessions, Event)
    fields = encode(form_schema("acknowledge_application.json"), ANSWERS["acknowledge_application"])
    response = raw_client.post(f"/tasks/{task}", data=MultiDict(fields))
    assert response.status_code == 400 and REFUSED in response.text
    assert count(sessions, Event) == events
    assert task in [t["id"] for t in case.case()["open_tasks"]]


def test_json_api_needs_the_token_in_a_header(
    client: FlaskClient, raw_client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The API refuses a POST without X-CSRFToken (JSON error, nothing saved) and accepts the
    token from GET /api/csrf-token."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    task = case.task_id("Acknowledge application")
    token = token_on(raw_client.get("/sign-in").text)
    raw_client.post(
        "/sign-in", data={"username": "carol", "password": TEST_PASSWORD, "csrf_token": token}
    )
    url = f"/api/cases/{case.reference}/tasks/{task}"
    body = {"data": ANSWERS["acknowledge_application"]}
    refused = raw_client.post(url, json=body)
    assert refused.status_code == 400
    assert refused.json["error"] == REFUSED
    assert task in [t["id"] for t in case.case()["open_tasks"]]
    api_token = raw_client.get("/api/csrf-token").json["csrf_token"]
    accepted = raw_client.post(url, json=body, headers={"X-CSRFToken": api_token})
    assert accepted.status_code == 200, accepted.text


def test_every_post_form_in_the_templates_carries_the_token() -> None:
    """Each <form method="post"> in every template has the csrf_token field (so forms added
    later by anyone work in a real browser, not only with the test client)."""
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)  # not Jinja comments
        for form in re.finditer(r"<form\b[^>]*>(.*?)</form>", text, re.S | re.I):
            opening = form.group(0)[: form.group(0).index(">") + 1]
            if 'method="post"' in opening.lower() and "csrf_token()" not in form.group(1):
                missing.append(f"{path.relative_to(TEMPLATES)}: {opening}")
    assert missing == []
