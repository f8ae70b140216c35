"""Track your case and the officer's notification settings in a real Chromium, with axe-core on
every page visited (WCAG 2.2 A and AA): the pages, their errors, and what they show."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, sign_in
from tests.scenario import ANSWERS, CaseDriver
from tests.smtp import smtp_server
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.mail import notifications, outbox
from trigger_workflow.store.models import Officer


def _emailed_code(sessions: sessionmaker[Session]) -> str:
    with smtp_server() as (mailbox, port):
        outbox.send_due(sessions, outbox.MailServer("127.0.0.1", port, "asb@x.example", timeout=10))
    [email] = [m for m in mailbox.messages if m["Subject"] == notifications.CODE_SUBJECT]
    found = re.search(r"is (\d{6})\.", email.get_content())
    assert found is not None
    return found.group(1)


def test_applicant_tracks_their_case_in_the_browser(
    page: Page,  # noqa: F811
    base_url: str,  # noqa: F811
    client: FlaskClient,
    sessions: sessionmaker[Session],
) -> None:
    """From the start page: the reference (an empty one refused), the code (a wrong one
    refused), then the stage in words and the letters, each page passing axe."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    with smtp_server() as (_, port):  # the acknowledgement letter goes out
        outbox.send_due(sessions, outbox.MailServer("127.0.0.1", port, "asb@x.example", timeout=10))

    page.goto(base_url + "/")
    page.locator("#track-link").click()
    expect(page.locator("h1")).to_have_text("Track your case")
    check_page(page, "track-start")
    page.locator("#send-code").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your reference")
    check_page(page, "track-start-error")

    page.get_by_label("Your reference").fill(case.reference)
    page.locator("#send-code").click()
    expect(page.locator("h1")).to_have_text("Enter your code")
    expect(page.locator("#code-sent")).to_contain_text(case.reference)
    check_page(page, "track-code")
    code = _emailed_code(sessions)
    page.get_by_label("Code").fill("000000" if code != "000000" else "111111")
    page.locator("#check-code").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is wrong or has expired")
    check_page(page, "track-code-error")

    page.get_by_label("Code").fill(code)
    page.locator("#check-code").click()
    expect(page.locator("h1")).to_have_text(f"Your case {case.reference}")
    expect(page.locator("#stage")).to_contain_text("meets the threshold")
    expect(page.locator("#letters li")).to_have_count(1)
    body = page.locator("main").inner_text()
    for personal in (APPLICATION["applicant"]["name"], APPLICATION["applicant"]["email"]):
        assert personal not in body
    check_page(page, "track-case")
    page.locator("#finish").click()
    expect(page.locator("h1")).to_have_text("Track your case")


def test_officer_switches_task_emails_off_in_the_browser(
    page: Page,  # noqa: F811
    base_url: str,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    """The settings page, linked from every officer's page: a bad address refused, then the
    emails switched off and saved, each state passing axe."""
    sign_in(page, base_url, "pete")
    page.locator("#notification-settings").click()
    expect(page.locator("h1")).to_have_text("Your notification settings")
    check_page(page, "notification-settings")
    page.get_by_label("Your work email address").fill("not an address")
    page.get_by_label("Yes, email me").check()
    page.locator("#save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter an email address that works"
    )
    check_page(page, "notification-settings-error")

    page.get_by_label("Your work email address").fill("pete@police.example")
    page.get_by_label("No, I will check my task list").check()
    page.locator("#save").click()
    expect(page.locator("#saved")).to_contain_text("have been saved")
    expect(page.get_by_label("No, I will check my task list")).to_be_checked()
    check_page(page, "notification-settings-saved")
    with sessions() as session:
        pete = session.scalar(select(Officer).where(Officer.username == "pete"))
        assert pete is not None and (pete.email, pete.task_emails) == ("pete@police.example", False)
