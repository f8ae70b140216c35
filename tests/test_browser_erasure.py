"""Erasure on request in a real Chromium (issue 13), axe-core on every state of the page."""

from __future__ import annotations

from datetime import date

import time_machine
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, sign_in
from tests.retention_helpers import VICTIM_VALUES, found_in_database, seeded_case
from tests.test_rules_deadlines import london
from trigger_workflow.settings import Settings


def test_administrator_erases_the_victims_data_in_the_browser(
    page: Page,  # noqa: F811
    base_url: str,  # noqa: F811
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    """From the service navigation the administrator finds the case by its reference, chooses
    the victim, is asked for the reason, sees the counts, confirms, and the page lists the
    erasure; the victim's values are gone."""
    with time_machine.travel(london(2026, 12, 15, 10, 0), tick=False):
        reference = seeded_case(sessions, settings.instance_path, date(2026, 12, 15))
    sign_in(page, base_url, "adam")
    page.get_by_role("link", name="Erase personal data").click()
    check_page(page, "erasure-find-case")
    page.get_by_label("Case reference").fill(reference.lower())
    page.locator("#find-case").click()
    expect(page).to_have_url(f"{base_url}/cases/{reference}/erase")
    expect(page.locator("h1")).to_have_text("Erase personal data")
    check_page(page, "erasure-choose")
    page.get_by_label("the victim (applied for by someone else)").check()
    page.locator("#preview-erasure").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Give the reason")
    check_page(page, "erasure-no-reason")
    page.get_by_label("Reason for the erasure").fill("Request 2027/14 (UK GDPR article 17)")
    page.locator("#preview-erasure").click()
    expect(page.locator("#erasure-counts")).to_contain_text("Documents")
    check_page(page, "erasure-counts")
    page.locator("#confirm-erasure").click()
    expect(page.locator("#case-erasures")).to_contain_text(
        "Personal data of the victim (applied for by someone else) erased on"
    )
    check_page(page, "erasure-done")
    assert found_in_database(sessions, VICTIM_VALUES) == {}
