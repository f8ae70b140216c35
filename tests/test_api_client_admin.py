"""Administrators issue and revoke API clients on their page (GOV.UK, axe-checked in Chromium)
and from the command line; the token is shown once and works at once, and revoked fails at once."""

from __future__ import annotations

import re

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.api_clients import bearer
from tests.browser import check_page, sign_in
from tests.scenario import CaseDriver
from trigger_workflow.cli import main
from trigger_workflow.store.models import ApiClient, SecurityEvent

TOKEN = re.compile(r'<code id="issued-token"[^>]*>(twapi_[A-Za-z0-9_-]+)</code>')


def test_administrator_issues_a_client_uses_it_and_revokes_it(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The token appears on the page that issued it and nowhere after; the list shows the
    client, when it expires and when it was last used; revoking refuses the token at once."""
    CaseDriver(client, sessions).act_as("adam")
    form = {"name": "police-rms", "role": "partner", "agency": "police", "days": "30"}
    issued = client.post("/admin/api-clients", data=form)
    assert issued.status_code == 201, issued.text
    found = TOKEN.search(issued.text)
    assert found is not None
    token = found.group(1)
    system = FlaskClient(app, app.response_class, use_cookies=False)
    assert system.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    listing = client.get("/admin/api-clients")
    assert token not in listing.text and "police-rms" in listing.text
    assert "Never" not in listing.text, "its last use is shown"
    revoked = client.post("/admin/api-clients/police-rms/revoke")
    assert revoked.status_code == 302
    assert system.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    assert "Revoked" in client.get("/admin/api-clients").text
    with sessions() as session:
        logged = session.scalars(
            select(SecurityEvent.actor).where(SecurityEvent.subject == "api:police-rms")
        ).all()
    assert logged == ["adam", "adam"]


def test_a_bad_client_is_refused_with_the_reason_and_not_saved(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    CaseDriver(client, sessions).act_as("adam")
    refused = client.post(
        "/admin/api-clients", data={"name": "Police RMS", "role": "partner", "agency": "police"}
    )
    assert refused.status_code == 422
    assert "lower-case letters, digits or hyphens" in refused.text
    no_agency = client.post(
        "/admin/api-clients", data={"name": "x", "role": "partner", "days": "9"}
    )
    assert no_agency.status_code == 422 and "needs an agency" in no_agency.text
    with sessions() as session:
        assert session.scalars(select(ApiClient)).all() == []


def test_the_api_clients_page_passes_axe(
    page: Page, base_url: str, sessions: sessionmaker[Session]
) -> None:
    """The empty list, the issue form's errors, the issued token and the list pass axe-core."""
    sign_in(page, base_url, "adam")
    page.goto(base_url + "/admin/api-clients")
    expect(page.locator("#no-clients")).to_be_visible()
    check_page(page, "api-clients-empty")
    page.get_by_role("button", name="Issue API client").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "api-clients-error")
    page.fill("#name", "council-crm")
    page.select_option("#role", "coordinator")
    page.select_option("#agency", "council")
    page.get_by_role("button", name="Issue API client").click()
    expect(page.locator("#issued-token")).to_contain_text("twapi_")
    check_page(page, "api-clients-issued")
    page.get_by_role("button", name="Revoke council-crm").click()
    expect(page.locator("#api-clients")).to_contain_text("Revoked")
    check_page(page, "api-clients-revoked")


def test_the_command_line_issues_lists_and_revokes(
    app: Flask, database_url: str, sessions: sessionmaker[Session]
) -> None:
    """`api-clients issue` prints the token alone on standard output; `revoke` ends it."""
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}

    def run(*args: str) -> str:
        result = runner.invoke(main, ["api-clients", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    token = run("issue", "housing-crm", "--role", "partner", "--agency", "housing", "--days", "7")
    token = token.strip()
    assert token.startswith("twapi_") and "\n" not in token
    system = FlaskClient(app, app.response_class, use_cookies=False)
    assert system.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    assert re.search(r"housing-crm\s+partner\s+housing\s+active", run("list"))
    assert "housing-crm is revoked" in run("revoke", "housing-crm")
    assert system.get("/api/v1/cases", headers=bearer(token)).status_code == 401
    assert re.search(r"housing-crm\s+partner\s+housing\s+revoked", run("list"))
    refused = runner.invoke(main, ["api-clients", "revoke", "nobody"], env=env)
    assert refused.exit_code == 1 and "There is no API client 'nobody'" in refused.output
