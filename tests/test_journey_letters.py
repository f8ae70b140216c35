"""Letters in a real Chromium (issue 10): their dates follow the timescales a process owner
deploys, and a large-print letter is large on screen.

R13 (threshold decision by), R17-R18 (appeal window), R3 (needs: large print).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, fill_form, live_server, sign_in
from tests.journey_browser import watched_page
from tests.scenario import ANSWERS, THRESHOLD_MET, CaseDriver, encode, form_schema
from trigger_workflow.samples import APPLICATION
from trigger_workflow.store.models import Case

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/London"))
# The process owner's change: the threshold decision in 7 working days (not 10), the appeal
# window 15 working days (not 20).
CHANGED = {
    "[tasks.decide_threshold]          # R13\ndays = 10": "[tasks.decide_threshold]\ndays = 7",
    "[tasks.record_appeal]             # R18: the appeal window (from the outcome notice, or the threshold decision)\ndays = 20": (
        "[tasks.record_appeal]\ndays = 15"
    ),
}


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """Serve the test app on a pinned Monday, 23 November 2026."""
    with time_machine.travel(MONDAY, tick=True), live_server(app) as url:
        yield url


def _open_letter(page: Page, base_url: str, reference: str, subject: str) -> None:
    page.goto(f"{base_url}/cases/{reference}")
    page.locator("#letters tr", has_text=subject).get_by_role("link", name="View").click()


def test_r13_r18_changed_timescales_move_the_letters_the_due_date_and_the_late_check_together(
    browser: Browser, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R13, R17, R18: a process owner deploys 7 working days for the threshold decision and 15
    for the appeal window; a case on that version gets an acknowledgement promising the decision
    by 2 December 2026, an outcome letter giving 14 December 2026 to appeal, a Record appeal
    task due that day, and the late-appeal check closing the window on that same day."""
    with watched_page(browser) as (page, errors):
        sign_in(page, base_url, "owen")
        page.goto(f"{base_url}/processes/1/edit/timescales.toml")
        text = page.locator("#content").input_value()
        for before, after in CHANGED.items():
            assert before in text
            text = text.replace(before, after)
        page.locator("#content").fill(text)
        page.get_by_role("button", name="Deploy as a new version").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Deployed as version 2", timeout=60_000
        )

        case = CaseDriver(client, sessions)
        case.apply()
        with sessions() as session:
            started = session.scalars(select(Case).where(Case.reference == case.reference)).one()
            assert started.process_version.number == 2
        case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
        case.complete("Record qualifying complaints", ANSWERS["Record qualifying complaints"])
        case.complete("Decide threshold", THRESHOLD_MET)
        case.complete("Choose agencies", ANSWERS["Choose agencies"])
        for agency in ("police", "housing"):
            case.complete(
                "Answer information request", ANSWERS["Answer information request"], agency
            )
        case.complete("Hold review meeting", ANSWERS["Hold review meeting"])
        sent_today = dict(ANSWERS["Send outcome notice"], outcome_sent_on="2026-11-23")
        case.complete("Send outcome notice", sent_today)

        sign_in(page, base_url, "carol")
        _open_letter(page, base_url, case.reference, "We have received your application")
        expect(page.locator("#decision-by")).to_have_text("2 December 2026")  # not the 7th
        check_page(page, "journey-letter-acknowledgement")
        _open_letter(page, base_url, case.reference, "The outcome of your ASB case review")
        expect(page.locator("#appeal-by")).to_have_text("14 December 2026")  # not the 21st
        expect(page.locator("#appeal-route")).to_contain_text("15 working days")
        check_page(page, "journey-letter-outcome")

        page.goto(f"{base_url}/cases/{case.reference}")
        page.locator("#open-tasks").get_by_role("link", name="Record appeal").first.click()
        expect(page.locator("#task-due")).to_contain_text("14 December 2026")
        late = {
            "appeal_received": True,
            "appeal_received_on": "2026-12-15",
            "appeal_grounds": "No change.",
        }
        fill_form(page, encode(form_schema("record_appeal.json"), late))
        page.locator("#submit").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "The appeal window closed on 14 December 2026"
        )
        check_page(page, "journey-late-appeal")
        on_time = dict(late, appeal_received_on="2026-12-14")
        fill_form(page, encode(form_schema("record_appeal.json"), on_time))
        page.locator("#submit").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "'Record appeal' is complete"
        )
    assert errors == []


def test_r3_large_print_letter_is_at_least_16_points_in_the_browser(
    browser: Browser, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R3: an applicant who asked for large print gets a letter whose every line of text is
    16 pt or more, as the browser computes it."""
    case = CaseDriver(client, sessions)
    case.apply(dict(APPLICATION, needs=["large_print"]))
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    with watched_page(browser) as (page, errors):
        sign_in(page, base_url, "carol")
        _open_letter(page, base_url, case.reference, "We have received your application")
        sizes = page.evaluate(
            """() => [...document.body.querySelectorAll('p, td, li, div')]
                 .filter(e => e.innerText.trim())
                 .map(e => Math.round(parseFloat(getComputedStyle(e).fontSize) * 0.75 * 100) / 100)"""
        )
        assert sizes and min(sizes) >= 16, sorted(set(sizes))
        check_page(page, "journey-letter-large-print")
    assert errors == []
