"""Officers in a real Chromium on the demo data: who reads which agency's answers (R22), the inbox
on a Saturday (R5), each role's first page, and reflow at 320 px (WCAG 1.4.10); axe on every page.

Today is pinned to Saturday 5 December 2026, the day the inbox said "Due today" for a task due
on Friday while its overdue filter listed it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, live_server
from tests.scenario import ANSWERS, TEST_PASSWORD_HASH, CaseDriver
from trigger_workflow.engine import calendar
from trigger_workflow.samples import TEST_PASSWORD
from trigger_workflow.services import demo
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, OpenTask

SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=calendar.UK_TIME)
FRIDAY = date(2026, 12, 4)
AGENCIES = ("police", "housing", "health")


def secret(agency: str) -> str:
    """Return what only this agency's answer says."""
    return f"Known only to {agency}: file {agency.upper()}-77"


@pytest.fixture
def saturday() -> Iterator[None]:
    """Pin today to Saturday 5 December 2026 (the clock still moves, from 10:00)."""
    with time_machine.travel(SATURDAY, tick=True):
        yield


@pytest.fixture
def demo_data(
    saturday: None, sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """Load the demo officers and cases, as `trigger-workflow demo` does."""
    with sessions() as session:
        demo.load(session, 8, TEST_PASSWORD_HASH)
        session.commit()


@pytest.fixture
def base_url(app: Flask, demo_data: None) -> Iterator[str]:
    """Serve the test app over real HTTP on a free loopback port."""
    with live_server(app) as url:
        yield url


def _open(browser: Browser, width: int = 1280) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    return page, errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies, the real Content-Security-Policy) at desktop width."""
    page, errors = _open(browser)
    yield page
    page.context.close()
    assert errors == []


@pytest.fixture
def narrow(browser: Browser) -> Iterator[Page]:
    """A fresh browser context 320 CSS pixels wide (a phone, or 1280 px zoomed to 400%)."""
    page, errors = _open(browser, width=320)
    yield page
    page.context.close()
    assert errors == []


def sign_in(page: Page, base_url: str, username: str, lands_on: str = "/tasks") -> None:
    """Sign in through the form and check where the officer lands."""
    page.context.clear_cookies()
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(re.escape(base_url + lands_on) + r"$"))


def answered_by_three(client: FlaskClient, sessions: sessionmaker[Session]) -> tuple[str, str]:
    """Return a case police, housing and health have each answered, and its meeting task."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": list(AGENCIES)})
    for agency in AGENCIES:
        answer = {"known_issues": secret(agency), "action_taken": f"{agency} visited."}
        case.complete("Answer information request", {"information_response": answer}, agency)
    case.act_as("carol")
    return case.reference, case.task_id("Hold review meeting")


def no_sideways_scroll(page: Page) -> None:
    """Assert the page is no wider than the window (WCAG 1.4.10)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"{page.url} is {width} px wide"


def test_r22_police_cannot_read_healths_answer_coordinator_and_chair_can(
    page: Page,
    base_url: str,
    client: FlaskClient,
    sessions: sessionmaker[Session],
) -> None:
    """R22: the police officer sees the police answer and that health and housing answered, but
    not their answers, on the case page or through the JSON API; the coordinator reads all three
    on the case page, and the chair reads all three on the meeting task."""
    reference, meeting = answered_by_three(client, sessions)

    sign_in(page, base_url, "pete")
    page.goto(f"{base_url}/cases/{reference}")
    history = page.locator("#events")
    expect(history).to_contain_text(secret("police"))
    expect(history).not_to_contain_text(secret("health"))
    expect(history).not_to_contain_text(secret("housing"))
    expect(history).to_contain_text(
        "Health (Integrated Care Board) answered the information request"
    )
    check_page(page, "sharing-police-case")
    api = page.request.get(f"{base_url}/api/cases/{reference}")
    assert api.status == 200
    text = json.dumps(api.json())
    assert secret("police") in text
    assert secret("health") not in text and secret("housing") not in text

    sign_in(page, base_url, "carol")
    page.goto(f"{base_url}/cases/{reference}")
    for agency in AGENCIES:
        expect(page.locator("#events")).to_contain_text(secret(agency))
    check_page(page, "sharing-coordinator-case")

    sign_in(page, base_url, "ingrid")
    page.goto(f"{base_url}/tasks/{meeting}")
    answers = page.locator("#agency-answers")
    for agency in AGENCIES:
        expect(answers).to_contain_text(secret(agency))
    check_page(page, "sharing-chair-meeting")


def test_r22_answer_form_tells_the_agency_who_will_see_it(
    page: Page, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22: the police officer's information request says who will read the answer."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    task = case.task_id("Answer information request", "police")
    sign_in(page, base_url, "pete")
    page.goto(f"{base_url}/tasks/{task}")
    expect(page.locator("#answer-audience")).to_contain_text(
        "Your answer will be seen by the council's case review coordinator and the review chair. "
        "Other agencies will not see it."
    )
    expect(page.locator("#instructions")).to_contain_text("Information request to Police")
    check_page(page, "sharing-police-answer-form")


def test_r5_inbox_on_saturday_shows_fridays_task_as_overdue(
    page: Page, base_url: str, sessions: sessionmaker[Session]
) -> None:
    """R5: on Saturday a demo task due on Friday is overdue in the list and in the overdue
    filter, never "Due today"; its due date reads "4 December 2026"."""
    with sessions() as session:
        reference = session.scalar(select(Case.reference).order_by(Case.id))
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        session.execute(update(OpenTask).where(OpenTask.case_id == case_id).values(due_on=FRIDAY))
        session.commit()
    sign_in(page, base_url, "carol")
    row = page.locator("#task-list tr", has_text=str(reference))
    expect(row).to_contain_text("4 December 2026")
    expect(row).to_contain_text("Overdue")
    expect(page.locator("#task-list")).not_to_contain_text("Due today")
    check_page(page, "saturday-inbox")
    page.goto(f"{base_url}/tasks?due=overdue")
    expect(page.locator("#task-list tr", has_text=str(reference))).to_contain_text("Overdue")
    check_page(page, "saturday-inbox-overdue")


def test_auditor_and_process_owner_land_on_their_own_pages(page: Page, base_url: str) -> None:
    """After signing in, the auditor starts at the audit pages and the process owner at the
    processes (not an empty task list that is not in their menu); the administrator at the
    officers' accounts."""
    sign_in(page, base_url, "ada", lands_on="/audit/")
    check_page(page, "landing-auditor")
    sign_in(page, base_url, "owen", lands_on="/processes")
    check_page(page, "landing-process-owner")
    sign_in(page, base_url, "adam", lands_on="/admin/officers")
    check_page(page, "landing-administrator")


def test_inbox_and_case_page_reflow_at_320_px(
    narrow: Page, base_url: str, sessions: sessionmaker[Session]
) -> None:
    """WCAG 1.4.10: at 320 px the inbox, the case list and a case page with letters do not
    scroll sideways; their tables scroll inside a labelled region instead."""
    with sessions() as session:
        # The demo case furthest on: its letters table is the widest.
        reference = session.scalar(select(Case.reference).order_by(Case.events_recorded.desc()))
    sign_in(narrow, base_url, "carol")
    no_sideways_scroll(narrow)
    check_page(narrow, "reflow-inbox")
    narrow.goto(f"{base_url}/cases")
    no_sideways_scroll(narrow)
    check_page(narrow, "reflow-case-list")
    narrow.goto(f"{base_url}/cases/{reference}")
    expect(narrow.locator("#letters")).to_be_attached()
    expect(narrow.get_by_role("region", name=re.compile("Letters"))).to_be_attached()
    no_sideways_scroll(narrow)
    check_page(narrow, "reflow-case-page")
