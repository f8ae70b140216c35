"""The auditor's, administrator's, process owner's and coordinator's pages in a real Chromium, on
the demo data (issue 10): axe-core finds no WCAG 2.2 A/AA violation, no script error or blocked
style is logged under the real Content-Security-Policy, and at 320 px wide no page scrolls
sideways (WCAG 1.4.10, reflow). The modeler's canvas is a two-dimensional diagram, which 1.4.10
exempts: it pans inside its own box, and the page around it must still reflow.
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
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import ROOT, live_server, sign_in
from tests.journey_browser import NARROW, NORMAL, check_at_both_widths, watched_page
from tests.scenario import ANSWERS, TEST_PASSWORD_HASH, CaseDriver
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services import demo
from trigger_workflow.store.models import Case

# A Monday: the demo's cases are dated back from it, so every run sees the same pages.
DEMO_DAY = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def demo_site(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> Iterator[tuple[str, str]]:
    """Serve the app with the demo's eight cases and one letter in the print queue, on a pinned
    day; yield the base URL and the reference of the case the auditor opens."""
    with time_machine.travel(DEMO_DAY, tick=True):
        with sessions() as session:
            demo.load(session, 8, TEST_PASSWORD_HASH)
            session.commit()
        posted = CaseDriver(client, sessions)
        applicant = dict(APPLICATION["applicant"], preferred_contact="post")
        posted.apply(dict(APPLICATION, applicant=applicant))
        posted.complete("Acknowledge application", ANSWERS["Acknowledge application"])
        with sessions() as session:
            # The demo case furthest on: the review's information requests answered.
            furthest = max(session.query(Case).all(), key=lambda c: c.events_recorded)
            reference = furthest.reference
        with live_server(app) as url:
            yield url, reference


def _visit(page: Page, url: str, name: str) -> None:
    page.goto(url)
    check_at_both_widths(page, name)


def test_auditors_pages_pass_axe_and_reflow(browser: Browser, demo_site: tuple[str, str]) -> None:
    """R21: the audit list, a case's timeline at its first and last events (diagrams drawn), the
    statutory figures and the cases behind one, as the auditor sees them."""
    base_url, reference = demo_site
    with watched_page(browser) as (page, errors):
        sign_in(page, base_url, "ada")
        _visit(page, f"{base_url}/audit/", "journey-audit")
        _visit(page, f"{base_url}/audit/cases/{reference}", "journey-audit-case-first")
        last = page.locator("#timeline li").count()
        _visit(page, f"{base_url}/audit/cases/{reference}?event={last}", "journey-audit-case-last")
        expect(page.locator("#step figure").first).to_be_visible()
        _visit(page, f"{base_url}/audit/figures", "journey-audit-figures")
        _visit(page, f"{base_url}/audit/figures/reviews", "journey-audit-figure-cases")
    assert errors == []


def test_administrators_pages_pass_axe_and_reflow(
    browser: Browser, demo_site: tuple[str, str]
) -> None:
    """The officers list, the new-officer form with its errors, and one officer's page."""
    base_url, _ = demo_site
    with watched_page(browser) as (page, errors):
        sign_in(page, base_url, "adam")
        _visit(page, f"{base_url}/admin/officers", "journey-admin-officers")
        page.get_by_role("button", name="Add officer").click()
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        check_at_both_widths(page, "journey-admin-officers-errors")
        _visit(page, f"{base_url}/admin/officers/pete", "journey-admin-officer")
    assert errors == []


def test_process_owners_pages_pass_axe_and_reflow(
    browser: Browser, demo_site: tuple[str, str]
) -> None:
    """The versions list, a version, a file, validation (passed and failed), moving cases, and
    the modeler (its canvas exempt as a diagram)."""
    base_url, _ = demo_site
    with watched_page(browser) as (page, errors):
        sign_in(page, base_url, "owen")
        _visit(page, f"{base_url}/processes", "journey-processes")
        _visit(page, f"{base_url}/processes/1", "journey-process-version")
        _visit(page, f"{base_url}/processes/1/files/timescales.toml", "journey-process-file")
        _visit(page, f"{base_url}/processes/validate", "journey-validate")
        timescales = (ROOT / "processes" / "timescales.toml").read_bytes()
        page.locator("#files").set_input_files(
            files=[{"name": "timescales.toml", "mimeType": "text/plain", "buffer": timescales}]
        )
        page.locator("#check").click()
        expect(page.locator("#validation-ok")).to_be_visible(timeout=60_000)
        check_at_both_widths(page, "journey-validate-ok")
        page.locator("#files").set_input_files(
            files=[{"name": "timescales.toml", "mimeType": "text/plain", "buffer": b"days = ["}]
        )
        page.locator("#check").click()
        expect(page.locator("#validation-summary")).to_be_visible(timeout=60_000)
        check_at_both_widths(page, "journey-validate-problems")
        _visit(page, f"{base_url}/processes/migrate", "journey-migrate")
        page.goto(f"{base_url}/processes/1/edit/application.bpmn")
        expect(page.locator('#diagram [data-element-id="submit_application"]')).to_be_visible()
        # The canvas is a two-dimensional diagram (exempt from WCAG 1.4.10): the diagram pans
        # and zooms inside it, while the canvas box itself fits the window at 320 px.
        check_at_both_widths(page, "journey-modeler")
        page.set_viewport_size(NARROW)
        canvas = page.locator("#diagram").bounding_box()
        assert canvas is not None and canvas["x"] + canvas["width"] <= NARROW["width"]
        page.set_viewport_size(NORMAL)
        _visit(page, f"{base_url}/processes/1/edit/timescales.toml", "journey-edit-text")
        page.get_by_role("button", name="Validate").click()
        expect(page.locator("#no-problems")).to_be_visible(timeout=60_000)
        check_at_both_widths(page, "journey-edit-validated")
    assert errors == []


def test_coordinators_print_queue_passes_axe_and_reflows(
    browser: Browser, demo_site: tuple[str, str]
) -> None:
    """The print queue with a letter waiting, as the coordinator sees it."""
    base_url, _ = demo_site
    with watched_page(browser) as (page, errors):
        sign_in(page, base_url, "carol")
        page.goto(f"{base_url}/outbox")
        expect(page.locator("body")).to_contain_text("1 Example Street, Derby")
        check_at_both_widths(page, "journey-outbox")
    assert errors == []
