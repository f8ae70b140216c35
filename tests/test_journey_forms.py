"""Forms in a real Chromium (issue 10): a threshold decision corrected on the page, and the public
form's question pages by keyboard alone at 320 px wide. axe-core runs on every page visited.

Screenshots of each page checked are saved in tests/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, sign_in
from tests.scenario import CaseDriver

MOST_TABS = 250  # more presses than any page has focusable elements


def open_page(browser: Browser, width: int) -> tuple[Page, list[str]]:
    """Open a fresh context (real Content-Security-Policy) this wide; collect script errors."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    return page, errors


# --- the threshold decision, corrected (item 4) --------------------------------------------


def test_r9_threshold_met_with_a_basis_then_not_met_saves_without_the_basis(
    browser: Browser, base_url: str, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R9: Carol chooses "met" and a basis (its questions revealed beneath it), then corrects to
    "not met": the basis hides, and the decision saves with no error and no basis recorded."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Decide threshold")
    task = case.task_id("Decide threshold")
    page, errors = open_page(browser, 1280)
    sign_in(page, base_url, "carol")
    page.goto(f"{base_url}/tasks/{task}")
    basis = page.locator("#threshold_basis-2")  # "Discretion"
    expect(basis).to_be_hidden()  # GOV.UK's conditional reveal: asked only when met
    check_page(page, "threshold-decision")

    page.get_by_label("Threshold met: hold a case review").check()
    expect(basis).to_be_visible()
    basis.check()
    expect(page.get_by_label("The harm or potential harm")).to_be_visible()
    page.get_by_label("The harm or potential harm").check()
    check_page(page, "threshold-decision-met")

    page.get_by_label("Threshold not met").check()
    expect(basis).to_be_hidden()
    page.get_by_label("Reasons for the decision").fill("Two complaints only; no discretion.")
    page.locator("#submit").click()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    check_page(page, "threshold-decision-saved")
    page.context.close()
    assert errors == []

    decided = [e["data"] for e in case.case()["events"] if "threshold_outcome" in e["data"]]
    assert decided[-1]["threshold_outcome"] == "not_met"
    assert "threshold_basis" not in decided[-1] and "discretion_factors" not in decided[-1]


# --- the public form by keyboard, at 320 px (item 9) ---------------------------------------


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(MOST_TABS):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def type_into(page: Page, name: str, text: str) -> None:
    """Tab to a text box and type into it."""
    tab_to(page, f'[name="{name}"]')
    page.keyboard.type(text)


def type_date(page: Page, name: str, day: str, month: str, year: str) -> None:
    """Tab to a date's day box and type the day, month and year, tabbing between them."""
    tab_to(page, f'[name="{name}-day"]')
    for part in (day, month, year):
        page.keyboard.type(part)
        page.keyboard.press("Tab")


def choose(page: Page, name: str, value: str) -> None:
    """Tab into a radio group and move with the arrow keys until this choice is selected."""
    tab_to(page, f'[name="{name}"]')
    for _ in range(10):
        if page.evaluate("() => document.activeElement.value") == value:
            page.keyboard.press("Space")
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no choice {value} for {name}")


def tick(page: Page, name: str, value: str) -> None:
    """Tab to a checkbox and tick it with Space."""
    tab_to(page, f'[name="{name}"][value="{value}"]')
    page.keyboard.press("Space")


def press(page: Page, selector: str) -> None:
    """Tab to a button and press Enter."""
    tab_to(page, selector)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


def no_sideways_scroll(page: Page, name: str) -> None:
    """Assert the page fits 320 px (WCAG 1.4.10 reflow) and passes axe-core."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"{name} is {width}px wide at 320px: it scrolls sideways"
    check_page(page, name)


def test_r2_r3_public_form_by_keyboard_alone_at_320px_through_to_the_reference(
    browser: Browser, base_url: str
) -> None:
    """R2, R3: an applicant using only the keyboard on a 320 px screen answers each question page,
    adds a second incident (focus goes to its first question), reports one incident to the
    police and the landlord, checks the answers and sends: one reference. No page scrolls
    sideways; axe-core finds nothing on any page."""
    page, errors = open_page(browser, 320)
    page.goto(base_url + "/")
    no_sideways_scroll(page, "journey-home")
    press(page, "a.govuk-button--start")
    expect(page).to_have_url(re.compile(r"/apply/who$"))
    no_sideways_scroll(page, "journey-who")
    choose(page, "basis", "victim")
    press(page, "#submit")

    expect(page).to_have_url(re.compile(r"/apply/about-you$"))
    no_sideways_scroll(page, "journey-about-you")
    type_into(page, "applicant.name", "Alex Applicant")
    press(page, "#submit")

    expect(page).to_have_url(re.compile(r"/apply/contact$"))
    no_sideways_scroll(page, "journey-contact")
    type_into(page, "applicant.email", "alex@example.org")
    choose(page, "applicant.preferred_contact", "email")
    press(page, "#submit")

    expect(page).to_have_url(re.compile(r"/apply/behaviour$"))
    no_sideways_scroll(page, "journey-behaviour")
    type_into(page, "asb_summary", "Loud music and shouting from the flat above.")
    type_date(page, "incidents.0.behaviour_date", "1", "9", "2026")
    type_into(page, "incidents.0.what_happened", "Music until 3am")
    type_date(page, "incidents.0.reported_on", "2", "9", "2026")
    tick(page, "incidents.0.reported_to", "police")
    tick(page, "incidents.0.reported_to", "housing_provider")
    press(page, 'button[name="_add"][value="incidents"]')
    expect(page).to_have_url(re.compile(r"/apply/behaviour#incidents-1-behaviour_date-day$"))
    expect(page.locator("#incidents-1-behaviour_date-day")).to_be_focused()
    no_sideways_scroll(page, "journey-behaviour-added")
    page.keyboard.type("20")  # the focused day box of the new incident
    page.keyboard.press("Tab")
    page.keyboard.type("9")
    page.keyboard.press("Tab")
    page.keyboard.type("2026")
    type_into(page, "incidents.1.what_happened", "Shouting and banging")
    type_date(page, "incidents.1.reported_on", "21", "9", "2026")
    tick(page, "incidents.1.reported_to", "council")
    press(page, "#submit")

    expect(page).to_have_url(re.compile(r"/apply/impact$"))
    no_sideways_scroll(page, "journey-impact")
    type_into(page, "impact", "I cannot sleep and my children are frightened.")
    press(page, "#submit")

    expect(page).to_have_url(re.compile(r"/apply/declaration$"))
    no_sideways_scroll(page, "journey-declaration")
    press(page, "#submit")  # nothing ticked: the errors say what to do
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    no_sideways_scroll(page, "journey-declaration-errors")
    tick(page, "consent_to_share", "true")
    tick(page, "declaration", "true")
    press(page, "#submit")

    expect(page).to_have_url(re.compile(r"/apply/check$"))
    no_sideways_scroll(page, "journey-check")
    answers = page.locator("#answers-behaviour")
    expect(answers).to_contain_text("The police, Landlord or housing provider")
    expect(page.locator("main")).not_to_contain_text("How the application was received")
    press(page, "#send")

    expect(page).to_have_url(re.compile(r"/apply/done$"))
    reference = page.locator("#case-reference").inner_text()
    assert re.fullmatch(r"CT-\d{4}-\d{4}", reference)
    no_sideways_scroll(page, "journey-done")
    page.context.close()
    assert errors == []
