"""A subject access request in a real Chromium (issue 13, item 4): the auditor opens the page from
the service navigation, finds Sam by name and postcode, confirms one of the two matches and
downloads Sam's data as JSON. axe checks each page (WCAG 2.2 AA) at 1280 and 320 px."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import live_server, sign_in
from tests.journey_browser import check_at_both_widths
from tests.subject_access_helpers import OTHERS, SAM, SamsCases, sams_cases
from trigger_workflow.services.process_owners import processes

pytestmark = pytest.mark.today("2026-11-23")


@pytest.fixture
def sams(sessions: sessionmaker[Session], deployed: processes.DeployResult) -> SamsCases:
    """Sam's two cases: applicant on one, the victim on the other."""
    with sessions() as session:
        return sams_cases(session)


@pytest.fixture
def base_url(app: Flask, sams: SamsCases) -> Iterator[str]:
    """Serve the test app, with Sam's cases, over real HTTP on a free loopback port."""
    with live_server(app) as url:
        yield url


def test_auditor_finds_a_person_confirms_and_downloads_their_data(
    page: Page, base_url: str, sams: SamsCases
) -> None:
    """Search, confirm, download JSON: only the confirmed case, Sam's data and nobody else's."""
    sign_in(page, base_url, "ada")
    page.get_by_role("link", name="Subject access").click()
    expect(page.get_by_role("heading", name="Subject access request")).to_be_visible()
    check_at_both_widths(page, "subject-access-search")
    page.get_by_label("Name", exact=True).fill("Sam Requester")
    page.get_by_label("Postcode").fill("de1 2ab")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#matches-heading")).to_have_text("2 matches")
    check_at_both_widths(page, "subject-access-matches")
    page.get_by_label(f"{sams.as_victim}: the victim (applied for by someone else)").uncheck()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download JSON").click()
    download = info.value
    assert download.suggested_filename == f"subject-access-{sams.as_applicant}.json"
    text = Path(download.path()).read_text(encoding="utf-8")
    document = json.loads(text)
    assert [(c["reference"], c["as"]) for c in document["cases"]] == [
        (sams.as_applicant, "applicant")
    ]
    assert SAM["email"] in text
    assert [v for v in OTHERS if v in text] == []
