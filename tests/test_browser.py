"""Officers and applicants in a real Chromium: the four journeys of issue 4, axe-core on every page.

Screenshots of each page checked are saved in tests/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import SCREENSHOTS, check_page, fill_form, sign_in
from tests.scenario import ANSWERS, TEST_PASSWORD_HASH, CaseDriver, encode, form_schema
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes

ACK = "Acknowledge application"


def test_r2_application_from_the_public_form_reaches_the_coordinators_inbox(
    page: Page, base_url: str
) -> None:
    """R2: an applicant's form, sent in the browser (after fixing errors), is in Carol's inbox."""
    page.goto(base_url + "/")
    check_page(page, "home")
    page.goto(base_url + "/apply")
    check_page(page, "apply")
    page.locator("#submit").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    check_page(page, "apply-errors")

    fields = encode(form_schema("submit_application.json"), APPLICATION)
    while not page.url.endswith("/apply/check"):  # one question page at a time
        fill_form(page, [field for field in fields if _on_page(page, field[0])])
        page.locator("#submit").click()
        page.wait_for_load_state()
    check_page(page, "apply-check")
    page.locator("#send").click()
    reference = page.locator("#case-reference").inner_text()
    assert re.fullmatch(r"CT-\d{4}-\d{4}", reference)
    check_page(page, "apply-done")

    page.goto(base_url + "/sign-in")
    check_page(page, "sign-in")
    sign_in(page, base_url, "carol")
    page.goto(base_url + "/tasks?view=unclaimed")
    row = page.locator("#task-list tr", has_text=reference)
    expect(row).to_contain_text(ACK)
    check_page(page, "inbox")


def _on_page(page: Page, name: str) -> bool:
    """Return whether the page asks this input (or can add the row it belongs to)."""
    if page.locator(f'[name="{name}"]').count():
        return True
    row = re.match(r"(.+)\.\d+\.", name)
    return bool(row) and page.locator(f'button[name="_add"][value="{row.group(1)}"]').count() > 0


def test_r5_officer_claims_and_completes_the_acknowledgement(
    page: Page, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R5: Carol claims the acknowledgement from her inbox, completes it, and the case moves on."""
    reference = CaseDriver(client, sessions).apply()
    sign_in(page, base_url, "carol")
    page.locator("#task-list tr", has_text=reference).get_by_role("button", name="Claim").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have claimed")
    page.goto(base_url + "/tasks?view=mine")
    page.locator("#task-list tr", has_text=reference).get_by_role("link", name=ACK).click()
    expect(page.locator("#task-owner")).to_have_text("carol (you)")
    check_page(page, "task")

    fill_form(page, encode(form_schema("acknowledge_application.json"), ANSWERS[ACK]))
    page.locator("#submit").click()
    expect(page.locator("#case-stage")).to_have_text("Threshold decision")
    expect(page.locator("#events")).to_contain_text(f"Claimed by carol: {ACK}")
    check_page(page, "case")

    page.goto(base_url + "/cases")
    page.locator("#search-q").fill(reference)
    page.locator("#search-submit").click()
    expect(page.locator("#case-count")).to_contain_text("1 to 1 of 1 case found")
    check_page(page, "case-list")
    page.goto(base_url + "/tasks?view=mine")
    expect(page.locator("#no-tasks")).to_be_visible()
    check_page(page, "inbox-mine-empty")


def test_r14_coordinator_reassigns_a_task_to_another_police_officer(
    page: Page, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R14: Carol gives the police request to Paula; Paula finds it under 'My tasks'."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    with sessions() as session:
        actors.add_officer(
            session, "paula", "Paula Police", "partner", "police", password_hash=TEST_PASSWORD_HASH
        )
    sign_in(page, base_url, "carol")
    page.goto(f"{base_url}/cases/{case.reference}")
    police_row = page.locator("#open-tasks tr", has_text="Police")
    police_row.get_by_role("link", name="Reassign").click()
    page.locator("#reassign").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select who should do this task")
    check_page(page, "reassign-errors")

    page.get_by_label("Paula Police (paula)").check()
    page.locator("#reassign").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is now with paula")
    expect(page.locator("#open-tasks tr", has_text="Police")).to_contain_text("paula")

    sign_in(page, base_url, "paula")
    page.goto(base_url + "/tasks?view=mine")
    expect(page.locator("#task-list")).to_contain_text(case.reference)
    check_page(page, "inbox-partner")


def test_r22_police_officer_cannot_open_a_health_only_task(
    page: Page, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22: Pete (police) neither sees nor opens the information request sent to health."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": ["police", "health"]})
    health_task = case.task_id("Answer information request", "health")
    sign_in(page, base_url, "pete")
    expect(page.locator("#task-list")).to_contain_text(case.reference)
    assert page.locator(f'[data-task-id="{health_task}"]').count() == 0

    response = page.goto(f"{base_url}/tasks/{health_task}")

    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("You cannot do this")
    expect(page.locator("form#submit, #submit")).to_have_count(0)
    check_page(page, "forbidden")


def test_the_other_officer_pages_pass_axe(
    page: Page, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Pages the journeys do not reach (errors, filters, a task someone else holds) have no violations."""
    reference = CaseDriver(client, sessions).apply()
    with sessions() as session:
        actors.add_officer(
            session,
            "cara",
            "Cara Coordinator",
            "coordinator",
            "council",
            password_hash=TEST_PASSWORD_HASH,
        )
    sign_in(page, base_url, "cara")
    page.goto(base_url + "/cases/new")
    check_page(page, "enter-application")
    page.locator("#submit").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "enter-application-errors")

    page.goto(base_url + "/tasks")
    page.locator("#task-list tr", has_text=reference).get_by_role("link", name=ACK).click()
    page.locator("#submit").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "task-errors")
    page.locator("#claim").click()
    expect(page.locator("#task-owner")).to_have_text("cara (you)")

    sign_in(page, base_url, "carol")
    page.locator("#task-list tr", has_text=reference).get_by_role("link", name=ACK).click()
    expect(page.locator("#claimed-by-other")).to_contain_text("cara has claimed this task")
    check_page(page, "task-claimed-by-other")
    page.goto(base_url + "/tasks?view=team&stage=Acknowledgement&due=soon&sort=case")
    expect(page.locator("#task-list")).to_contain_text(reference)
    check_page(page, "inbox-filtered")
    page.goto(base_url + "/cases?q=nobody&status=open&overdue=yes")
    expect(page.locator("#case-count")).to_have_text("No cases match this search")
    check_page(page, "case-list-empty")
    page.goto(base_url + "/cases/CT-1999-0001")
    check_page(page, "not-found")


def test_process_owner_edits_a_diagram_in_the_modeler_validates_and_deploys(
    browser: Browser, base_url: str, sessions: sessionmaker[Session]
) -> None:
    """Issue 5: under the real Content-Security-Policy (no bypass, and nothing it blocks logged),
    the bpmn-js modeler draws the diagram; the owner renames a task on the canvas, validates (no
    problems), and deploys it as version 2, whose file holds the new name."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        sign_in(page, base_url, "owen")
        page.goto(base_url + "/processes/1/edit/application.bpmn")
        task = page.locator('#diagram [data-element-id="submit_application"]')
        expect(task).to_be_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "process-editor.png"), full_page=True)
        task.dblclick()
        editor = page.locator(".djs-direct-editing-parent")
        expect(editor).to_be_visible()
        page.keyboard.press("Control+A")
        page.keyboard.type("Send the application")
        page.locator("#diagram").click(position={"x": 5, "y": 5})  # leave the label editor
        page.get_by_role("button", name="Validate").click()
        # Validation runs every deployment check over the whole process: allow it time.
        expect(page.locator("#no-problems")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Deploy as a new version").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Deployed as version 2", timeout=60_000
        )
    finally:
        context.close()
    assert errors == []
    with sessions() as session:
        version = processes.latest_version(session)
        assert version.number == 2
        assert 'name="Send the application"' in version.files["application.bpmn"]
