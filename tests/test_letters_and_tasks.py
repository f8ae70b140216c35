"""Letters say only what is written for the applicant, in the form they asked for (issue 10).

R5 (named contact), R13 and R18 (a decision without a review, and its appeal), R17 (outcome),
R19 (appeal decision), R14-R15 (the chair reads the agencies' answers).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
import weasyprint
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.letters_helpers import letters_of
from tests.scenario import ANSWERS, THRESHOLD_MET, CaseDriver, form_schema
from tests.test_case_paths import review, start_case
from trigger_workflow.engine import calendar
from trigger_workflow.samples import (
    APPEAL,
    APPEAL_CONFIRMED,
    APPLICATION,
    REJECTED,
    THRESHOLD_NOT_MET,
)
from trigger_workflow.services.mail import letters
from trigger_workflow.services.process_owners import processes
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Case

PT_PER_PX = 0.75  # WeasyPrint lays out in CSS px


@pytest.fixture(autouse=True)
def pinned_day() -> Iterator[None]:
    """Run on Monday 23 November 2026, so every date a letter gives is known."""
    moment = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(moment, tick=True):
        yield


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def _pages(html: str) -> list[list[Any]]:
    """Lay a letter out exactly as its PDF is made, and return each page's boxes."""
    document = weasyprint.HTML(string=html, base_url=None).render()
    return [list(_boxes(page._page_box)) for page in document.pages]


def test_r5_named_contact_is_the_officers_name_never_what_was_typed_beside_it(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R5: an officer's note and mobile number typed in the contact field never reach the letter;
    the letter names the officer as their account has it, with the council's own phone."""
    case = CaseDriver(client, sessions)
    case.apply()
    typed = "Carol C. - mobile 07700 900123 (internal only, do not give out)"
    case.complete(
        "Acknowledge application", {**ANSWERS["Acknowledge application"], "named_contact": typed}
    )
    [(letter, _)] = letters_of(sessions, case.reference)
    text = _text(letter.html)
    assert "07700" not in text and "internal only" not in text
    assert "Your contact Carol Coordinator" in text  # the acknowledging officer's account
    assert "Carol Coordinator ASB case review coordinator" in text  # signed with it
    assert letters.Council().phone in text


def test_r5_a_named_contact_who_is_an_officer_is_named_as_their_account_has_it(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R5: naming another officer by username gives that officer's name."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete(
        "Acknowledge application", {**ANSWERS["Acknowledge application"], "named_contact": "ingrid"}
    )
    [(letter, _)] = letters_of(sessions, case.reference)
    assert "Your contact Ingrid Independent" in _text(letter.html)


def test_large_print_asked_for_gives_every_letter_in_large_print(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R3: an applicant who asked for large print gets every letter at 16 pt or more, in the HTML
    and in the PDF (laid out by the PDF's own engine); others get the 12 pt letter."""
    case = CaseDriver(client, sessions)
    case.apply(dict(APPLICATION, needs=["large_print"]))
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    case.complete("Record qualifying complaints", ANSWERS["Record qualifying complaints"])
    case.complete("Decide threshold", THRESHOLD_MET)
    review(case)
    written = letters_of(sessions, case.reference)
    assert [letter.kind for letter, _ in written] == [
        "acknowledgement",
        "threshold_decision",
        "outcome",
    ]
    for letter, _ in written:
        assert '<body class="large-print">' in letter.html
        sizes = {
            box.style["font_size"] * PT_PER_PX
            for page in _pages(letter.html)
            for box in page
            if getattr(box, "element_tag", None) in ("p", "td", "th", "div", "li")
        }
        assert min(sizes) >= 16, (letter.kind, sorted(sizes))
    other = CaseDriver(client, sessions)
    other.apply()
    other.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    [(plain, _)] = letters_of(sessions, other.reference)
    assert "large-print" not in plain.html.split("<body", 1)[1].split(">", 1)[0]


def test_pdf_never_splits_a_recommendation_across_two_pages(
    deployed: processes.DeployResult,
) -> None:
    """R17: each recommendation's row stays whole on one page of the outcome letter's PDF."""
    # Up to the form's 2,000 characters: a row taller than what is left of a page.
    long_action = "Install noise monitoring equipment and review the recordings weekly. " * 25
    data = {
        "outcome_summary": "The review made these recommendations.",
        "outcome_sent_on": "2026-11-23",
        "recommendations": [
            {"agency": "housing", "action": f"{n}. {long_action}", "target_date": "2027-01-15"}
            for n in range(1, 9)
        ],
    }
    case = Case(reference="CT-2026-0050", received_on=date(2026, 11, 2))
    _, html = letters.render(
        "outcome", data, case, letters.Council(), processes.deployed(deployed.version)
    )
    pages = _pages(html)
    assert len(pages) > 2
    rows_on = [
        {id(box.element) for box in page if getattr(box, "element_tag", None) == "tr"}
        for page in pages
    ]
    heading_rows = {
        id(box.element)
        for page in pages
        for box in page
        if getattr(box, "element_tag", None) == "tr" and box.element.find("th") is not None
    }
    for before, after in zip(rows_on, rows_on[1:], strict=False):
        # A row split by a page break has boxes on both pages; only the heading row repeats.
        assert (before & after) - heading_rows == set(), "a recommendation's row was split"


@pytest.mark.parametrize("decision", [THRESHOLD_NOT_MET, REJECTED], ids=["not_met", "rejected"])
def test_r13_r18_decision_without_review_offers_appeal_about_handling_with_its_deadline(
    client: FlaskClient, sessions: sessionmaker[Session], decision: dict[str, Any]
) -> None:
    """R13, R18: a not-met or rejected decision speaks of no review or action plan that never
    happened, and offers an appeal about how the application was handled, by a date counted
    from the appeal window of timescales.toml (20 working days from Monday 23 November 2026)."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", decision)
    letter, _ = letters_of(sessions, case.reference)[-1]
    text = _text(letter.html)
    assert "the review" not in text and "action plan" not in text
    assert "how your application was handled" in text
    closes = calendar.add_working_days(date(2026, 11, 23), 20)
    assert closes == date(2026, 12, 21)
    assert "by 21 December 2026 (20 working days from 23 November 2026" in text
    assert letters.Council().opcc.email in text


def test_r17_r19_appeal_letters_give_the_opcc_contact_from_settings(
    client: FlaskClient, sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R18, R19: the outcome letter and the appeal decision print the OPCC's contact details,
    taken from the settings (TRIGGER_WORKFLOW_OPCC_*)."""
    settings = Settings.from_env(
        {
            "TRIGGER_WORKFLOW_OPCC_EMAIL": "appeals@opcc.example",
            "TRIGGER_WORKFLOW_OPCC_PHONE": "0300 123 4567",
        }
    )
    council = letters.council_from(settings)
    assert (council.opcc.email, council.opcc.phone) == ("appeals@opcc.example", "0300 123 4567")
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    review(case)
    case.complete("Record appeal", APPEAL)
    case.complete("Decide appeal", APPEAL_CONFIRMED)
    written = {
        letter.kind: _text(letter.html) for letter, _ in letters_of(sessions, case.reference)
    }
    opcc = letters.Council().opcc
    for kind in ("outcome", "appeal_decision"):
        assert (
            opcc.email in written[kind]
            and opcc.phone in written[kind]
            and opcc.address in written[kind]
        )
    upheld = {"appeal_decision": "upheld"}
    other = Case(reference="CT-2026-0051", received_on=date(2026, 11, 2))
    version = processes.deployed(deployed.version)
    _, html = letters.render("appeal_decision", upheld, other, council, version)
    assert "appeals@opcc.example" in html and "0300 123 4567" in html


def test_r19_confirmed_appeal_says_what_the_applicant_can_do_next(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R19, R11, R12: a confirmed outcome closes the review and tells the applicant their next
    steps: reporting new incidents, complaints, and the two ombudsmen."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    review(case)
    case.complete("Record appeal", APPEAL)
    case.complete("Decide appeal", APPEAL_CONFIRMED)
    letter, _ = letters_of(sessions, case.reference)[-1]
    text = _text(letter.html)
    assert "What you can do next" in text
    assert "keep reporting each incident" in text and "101" in text
    assert "complaints procedure" in text
    assert "Local Government and Social Care Ombudsman" in text and "Housing Ombudsman" in text


def test_r15_chair_reads_each_agencys_answer_on_the_meeting_task(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R14, R15: the meeting task shows the chair what each agency answered, each agency named,
    not just how many answered."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    police = {
        "information_response": {
            "known_issues": "Two calls logged.",
            "action_taken": "Officer visit.",
        }
    }
    housing = {
        "information_response": {
            "known_issues": "Tenancy breach noted.",
            "action_taken": "Warning letter sent.",
        }
    }
    case.complete("Answer information request", police, "police")
    case.complete("Answer information request", housing, "housing")
    case.act_as("ingrid")
    page = client.get(f"/tasks/{case.task_id('Hold review meeting')}")
    assert page.status_code == 200
    answers = _text(page.text.split('id="agency-answers"', 1)[1].split("</div>\n</div>", 1)[0])
    assert (
        "Police What your agency knows about this case Two calls logged. What your agency has already done Officer visit."
        in answers
    )
    assert (
        "Housing provider What your agency knows about this case Tenancy breach noted." in answers
    )
    assert "Warning letter sent." in answers


def test_r17_outcome_task_does_not_ask_for_what_the_letter_adds_itself() -> None:
    """R17: the coordinator is told the letter adds the recommendations and the appeal route,
    not asked to type them into the summary."""
    ui = form_schema("send_outcome_notice_ui.json")
    help_text = ui["outcome_summary"]["ui:help"]
    assert "Include the recommendations" not in help_text
    assert "the letter adds them" in help_text
