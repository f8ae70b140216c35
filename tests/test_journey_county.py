"""A county in a real Chromium, on the demo data (issue 12): three councils in one service.

Chesterfield's coordinator sees Chesterfield's cases and is told Derby City's do not exist; the
county-wide police officer sees every council's cases shared with the police; the county-wide
administrator sees the three councils and edits one. axe checks every page (WCAG 2.2 AA); the
public form's first question asks where the behaviour happens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, live_server, sign_in
from tests.scenario import TEST_PASSWORD_HASH
from trigger_workflow.services import demo, demo_county
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, CaseAgency


@pytest.fixture
def county(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> dict[str, list[str]]:
    """Load the demo (Derby City's cases) and the county demo; return the references by prefix."""
    with sessions() as session:
        demo.load(session, 6, TEST_PASSWORD_HASH)
        demo_county.load(session, TEST_PASSWORD_HASH)
        references = list(session.scalars(select(Case.reference).order_by(Case.id)))
    found: dict[str, list[str]] = {}
    for reference in references:
        found.setdefault(reference.split("-")[0], []).append(reference)
    return found


@pytest.fixture
def base_url(app: Flask, county: dict[str, list[str]]) -> Iterator[str]:
    """Serve the test app over real HTTP on a free loopback port."""
    with live_server(app) as url:
        yield url


def _shared_with_police(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        query = (
            select(Case.reference)
            .join(CaseAgency, CaseAgency.case_id == Case.id)
            .where(CaseAgency.agency == "police")
        )
        return set(session.scalars(query))


def test_a_councils_coordinator_sees_only_its_cases_in_the_browser(
    page: Page, base_url: str, county: dict[str, list[str]]
) -> None:
    """Chesterfield's coordinator lists Chesterfield's cases, none of Derby City's or Amber
    Valley's, and is told a Derby City case does not exist."""
    assert set(county) == {"CT", "CHF", "AMV"}
    sign_in(page, base_url, "cath")
    page.goto(f"{base_url}/cases")
    listing = page.locator("main")
    for reference in county["CHF"]:
        expect(listing).to_contain_text(reference)
    for reference in county["CT"] + county["AMV"]:
        expect(listing).not_to_contain_text(reference)
    check_page(page, "county-chesterfield-cases")
    response = page.goto(f"{base_url}/cases/{county['CT'][0]}")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text(f"There is no case {county['CT'][0]}")


def _search(page: Page, base_url: str, text: str) -> list[str]:
    """Type into the case list's search box as an officer does; return the references listed."""
    page.goto(f"{base_url}/cases")
    page.get_by_label("Reference, applicant name or postcode").fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()
    rows = page.locator("main table tbody tr").all_inner_texts()
    return [row.split()[0] for row in rows if row.strip()]


def test_coordinators_find_their_councils_cases_by_name_postcode_and_reference(
    page: Page, base_url: str, sessions: sessionmaker[Session], county: dict[str, list[str]]
) -> None:
    """Issue 15, item 4 (the trigram name search), as a coordinator uses it: part of a name in
    any case, a postcode's start, a reference's start; another council's applicant is not found;
    text that looks like query syntax is only text."""
    with sessions() as session:
        derby = session.scalar(select(Case).where(Case.reference == county["CT"][0]))
        assert derby is not None and derby.applicant_name and derby.applicant_postcode
        name, postcode = derby.applicant_name, derby.applicant_postcode
    surname = name.split()[-1]
    sign_in(page, base_url, "carol")
    assert derby.reference in _search(page, base_url, surname[1:].upper())
    assert derby.reference in _search(page, base_url, postcode.split()[0].lower())
    found = _search(page, base_url, "ct-")
    assert set(found) == set(county["CT"])
    check_page(page, "county-search-reference")
    assert _search(page, base_url, 'O\'Brien "AND" NEAR* (x)') == []
    expect(page.locator("main")).to_contain_text("No cases match this search")
    sign_in(page, base_url, "cath")
    assert _search(page, base_url, surname[1:]) == []  # Derby City's applicant
    assert _search(page, base_url, "ct-") == []


def test_county_wide_police_see_every_councils_shared_cases(
    page: Page, base_url: str, sessions: sessionmaker[Session], county: dict[str, list[str]]
) -> None:
    """The county-wide police officer lists the cases of all three councils that were shared
    with the police, and only those."""
    shared = _shared_with_police(sessions)
    assert {r.split("-")[0] for r in shared} == {"CT", "CHF", "AMV"}
    sign_in(page, base_url, "pete")
    page.goto(f"{base_url}/cases")
    listing = page.locator("main")
    for reference in sum(county.values(), []):
        if reference in shared:
            expect(listing).to_contain_text(reference)
        else:
            expect(listing).not_to_contain_text(reference)
    check_page(page, "county-police-cases")


def test_the_county_administrator_sees_the_councils_and_refuses_a_threshold_above_the_act(
    page: Page, base_url: str
) -> None:
    """R6: the administrator's authorities page lists the three councils; a local threshold of
    four complaints is refused with the reason, beside the page's error summary."""
    sign_in(page, base_url, "adam")
    page.goto(f"{base_url}/admin/authorities")
    table = page.locator("#authorities")
    for name in ("Derby City Council", "Chesterfield Borough Council", "Amber Valley"):
        expect(table).to_contain_text(name)
    check_page(page, "county-authorities")
    page.get_by_role("link", name="Amber Valley Borough Council").click()
    page.get_by_label("Number of complaints").fill("4")
    page.get_by_role("button", name="Save authority").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("the Act allows no more than 3")
    check_page(page, "county-authority-refused")


def test_the_public_form_asks_where_the_behaviour_happens(page: Page, base_url: str) -> None:
    """In a county the public form first asks for the postcode; a postcode on a boundary the
    table cannot settle asks which council."""
    page.goto(f"{base_url}/apply")
    expect(page.locator("h1")).to_contain_text("Where is the anti-social behaviour happening?")
    check_page(page, "county-where")
    page.get_by_label("Where is the anti-social behaviour happening?").fill("SK17 6XN")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("legend")).to_contain_text("Which council's area is it in?")
    check_page(page, "county-where-choose")
    page.get_by_label("Chesterfield Borough Council").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).not_to_contain_text("Where is the anti-social behaviour")


def test_a_councils_own_number_applies_and_its_staff_and_the_opcc_read_the_figures(
    page: Page, base_url: str, sessions: sessionmaker[Session], county: dict[str, list[str]]
) -> None:
    """R8, R20: the county administrator lowers Amber Valley's number to 2; an application
    Amber Valley receives then meets the count on two complaints, as its coordinator's threshold
    task says and accepts; she reads Amber Valley's figures from her menu, and the OPCC the
    county's, each council's counts adding up, with no case listed."""
    sign_in(page, base_url, "adam")
    page.goto(f"{base_url}/admin/authorities")
    page.get_by_role("link", name="Amber Valley Borough Council").click()
    page.get_by_label("Number of complaints").fill("2")
    page.get_by_role("button", name="Save authority").click()
    expect(page.locator("main")).to_contain_text("Saved Amber Valley Borough Council.")
    expect(page.get_by_label("Number of complaints")).to_have_value("2")
    expect(page.locator("#table-reads")).to_have_count(0)  # the county's table reads it
    check_page(page, "county-authority-saved")
    reference = _amber_valley_case_at_threshold(sessions)
    sign_in(page, base_url, "avery")
    page.goto(f"{base_url}/tasks")
    page.locator("#task-list tr", has_text=reference).get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text(
        "Count rule (2 or more qualifying complaints): met"
    )
    check_page(page, "county-threshold-local-number")
    page.get_by_label("Threshold met: hold a case review").check()
    page.get_by_label("The count rule: enough qualifying complaints").check()
    page.locator('[name="threshold_reasons"]').fill("Two qualifying complaints: the local number.")
    task_url = page.url
    page.locator("#submit").click()
    expect(page).not_to_have_url(task_url)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        now_open = {t.task_spec for t in case.open_tasks}  # besides escalations of late steps
        assert "choose_agencies" in now_open and "decide_threshold" not in now_open
    page.get_by_role("link", name="Figures").click()
    expect(page.locator("h1")).to_contain_text("figures")
    check_page(page, "county-coordinator-figures")
    sign_in(page, base_url, "olu")
    page.get_by_role("link", name="Figures").click()
    check_page(page, "county-opcc-figures")
    expect(page.locator("main a[href*='/audit/figures/']")).to_have_count(0)


def _amber_valley_case_at_threshold(sessions: sessionmaker[Session]) -> str:
    """Enter an application with two qualifying complaints as Amber Valley's coordinator and
    take it to the threshold decision through the services; return its reference."""
    from datetime import date

    from tests.test_local_rules import TWO_QUALIFYING
    from trigger_workflow.samples import ANSWERS
    from trigger_workflow.services.accounts import actors
    from trigger_workflow.services.tasks import cases

    with sessions() as session:
        avery = actors.officer_actor(actors.officer_account(session, "avery"))
        result = cases.submit_application(
            session,
            cases.SubmitApplication(
                data=TWO_QUALIFYING, actor=avery, received_on=date(2026, 11, 20)
            ),
        )
        for spec, answers in (
            ("acknowledge_application", ANSWERS["acknowledge_application"]),
            ("record_complaints", {"agency_incidents": []}),
        ):
            case = session.scalar(select(Case).where(Case.reference == result.reference))
            assert case is not None
            task = next(t for t in case.open_tasks if t.task_spec == spec)
            cases.complete_task(
                session, cases.CompleteTask(result.reference, task.id, answers, avery)
            )
    assert result.reference.startswith("AMV-")
    return result.reference
