"""The figures by quarter and the year's report in a real Chromium, on the county demo (R20,
issue 12): Chesterfield's auditor sees the charts and their tables, opens the year's report and
downloads its PDF. axe checks both pages (WCAG 2.2 AA); the page fixture fails on any error the
Content-Security-Policy raises (the charts are SVG without styles or scripts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, live_server, sign_in
from tests.scenario import TEST_PASSWORD_HASH
from trigger_workflow.services import demo, demo_county
from trigger_workflow.services.process_owners import processes


@pytest.fixture
def base_url(
    app: Flask, sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> Iterator[str]:
    """Load Derby City's demo and the county demo; serve the app over real HTTP."""
    with sessions() as session:
        demo.load(session, 6, TEST_PASSWORD_HASH)
        demo_county.load(session, TEST_PASSWORD_HASH)
    with live_server(app) as url:
        yield url


@pytest.mark.today("2026-11-25")
def test_r20_an_auditor_reads_the_charts_and_opens_the_years_report(
    page: Page, base_url: str
) -> None:
    """R20: Chesterfield's auditor sees five charts (applications, not met, reviews, with
    recommendations, timeliness), each titled and drawn as an image with a description, beside
    tables of the same numbers; the report for 2026 to 2027 is Chesterfield's, and its PDF is
    one."""
    sign_in(page, base_url, "abe")
    page.goto(f"{base_url}/audit/figures")
    charts = page.locator("figure.tw-chart-figure svg[role='img']")
    expect(charts).to_have_count(5)
    expect(page.locator("#chart-applications figcaption")).to_have_text(
        "Applications received, by quarter"
    )
    expect(page.locator("#chart-applications desc")).to_contain_text("Q3 Oct–Dec 2026: 3")
    expect(page.locator("#chart-applications svg")).to_contain_text("Number of applications")
    expect(page.locator("#quarters-q3 td").first).to_have_text("3")
    expect(page.locator("#quarters-year td").first).to_have_text("3")
    expect(page.locator("#timeliness-quarters")).to_contain_text("Acknowledge application")
    check_page(page, "figures-by-quarter")
    page.get_by_role("link", name="The year's report, to publish").click()
    expect(page.locator("h1")).to_have_text(
        "Community Trigger figures, financial year 2026 to 2027"
    )
    expect(page.locator("#report-area")).to_have_text("Chesterfield Borough Council")
    expect(page.locator("#report-figure-applications td")).to_have_text("3")
    expect(page.locator("main svg[role='img']")).to_have_count(5)
    check_page(page, "figures-report")
    href = page.locator("#report-pdf").get_attribute("href")
    assert href is not None
    downloaded = page.request.get(f"{base_url}{href}")
    assert downloaded.ok and downloaded.body().startswith(b"%PDF-")
