"""Letters to the applicant (R5, R13, R17, R19): written when a decision is made, kept, queued."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.letters_helpers import letters_of
from tests.scenario import ANSWERS, THRESHOLD_MET, CaseDriver
from tests.test_case_paths import review, start_case
from trigger_workflow.engine import calendar
from trigger_workflow.samples import APPEAL, APPLICATION, REJECTED, THRESHOLD_NOT_MET
from trigger_workflow.services.mail import letters
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, Letter


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def test_r5_acknowledgement_letter_gives_reference_named_contact_and_decision_date(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R5: acknowledging writes a letter with the reference, the named contact, and when we decide."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    [(letter, outbox)] = letters_of(sessions, case.reference)
    assert letter.kind == "acknowledgement"
    assert (
        letter.subject
        == f"We have received your application for an ASB case review ({case.reference})"
    )
    text = _text(letter.html)
    assert case.reference in text
    assert "Your contact Carol Coordinator" in text
    decide_by = calendar.add_working_days(calendar.today(), 10).strftime("%-d %B %Y")
    assert f"by {decide_by}" in text
    assert letter.html_sha256 == hashlib.sha256(letter.html.encode()).hexdigest()
    assert letter.pdf is None  # the officer's completion did not wait for the PDF
    assert letters.make_pending_pdfs(sessions) == 1
    assert letters.make_pending_pdfs(sessions) == 0
    [(letter, outbox)] = letters_of(sessions, case.reference)
    assert letter.pdf is not None and letter.pdf.startswith(b"%PDF-")
    assert letter.pdf_sha256 == hashlib.sha256(letter.pdf).hexdigest()
    # The sample applicant chose email and gave an address.
    assert (outbox.channel, outbox.recipient_email, outbox.status) == (
        "email",
        "alex@example.org",
        "queued",
    )


def test_r13_threshold_met_letter(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    """R13: the applicant is told in writing that the threshold is met, with the reasons."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    letter, _ = letters_of(sessions, case.reference)[-1]
    text = _text(letter.html)
    assert letter.kind == "threshold_decision"
    assert "meets the threshold" in text
    assert THRESHOLD_MET["threshold_reasons"] in text
    assert "Housing Ombudsman" not in text  # no signposting needed when the review goes ahead


def test_r13_threshold_not_met_letter_gives_reasons_signposting_and_appeal_route(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R13, R11, R12: 'not met' is written with its reasons, where else to go, and how to appeal."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_NOT_MET)
    letter, _ = letters_of(sessions, case.reference)[-1]
    text = _text(letter.html)
    assert "does not meet the threshold" in text
    assert THRESHOLD_NOT_MET["threshold_reasons"] in text
    assert "Housing Ombudsman" in text and "complaints procedure" in text  # R11
    assert "report it first" in text  # R12
    assert "appeal to the Office of the Police and Crime Commissioner" in text


def test_r13_rejection_letter_gives_the_ground(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R13, R10: a rejected application is told the ground for rejection and the reasons."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", REJECTED)
    letter, _ = letters_of(sessions, case.reference)[-1]
    text = _text(letter.html)
    assert letter.subject.startswith("We cannot accept your application")
    assert "because the application was made for someone else without their consent" in text
    assert REJECTED["threshold_reasons"] in text


def test_r17_outcome_letter_lists_recommendations_and_the_appeal_deadline(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R17, R18: the outcome letter has the recommendations and 20 working days to appeal."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    review(case)
    letter, _ = letters_of(sessions, case.reference)[-1]
    assert letter.kind == "outcome"
    text = _text(letter.html)
    assert ANSWERS["Send outcome notice"]["outcome_summary"] in text
    assert "Housing provider Install noise monitoring 15 January 2027" in text
    assert "appeal to the Office of the Police and Crime Commissioner" in text
    # Sent on 14 December 2026: 20 working days skip Christmas, Boxing Day (kept on the 28th) and
    # New Year's Day.
    assert (
        "by 14 January 2027 (20 working days from 14 December 2026, the date of this notice)"
        in text
    )


@pytest.mark.parametrize(
    ("decision", "wording"),
    [("confirmed", "confirmed the outcome"), ("upheld", "upheld your appeal")],
)
def test_r19_appeal_decision_letter(
    client: FlaskClient, sessions: sessionmaker[Session], decision: str, wording: str
) -> None:
    """R19: the OPCC's decision, confirmed or upheld, is written with its findings."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    review(case)
    case.complete("Record appeal", APPEAL)
    findings = f"The review was {decision} after reading the papers."
    case.complete(
        "Decide appeal",
        {"appeal_decision": decision, "appeal_findings": findings, "enforcement_tool_only": False},
    )
    letter, _ = letters_of(sessions, case.reference)[-1]
    assert letter.kind == "appeal_decision"
    text = _text(letter.html)
    assert wording in text and findings in text
    assert [lt.kind for lt, _ in letters_of(sessions, case.reference)] == [
        "acknowledgement",
        "threshold_decision",
        "outcome",
        "appeal_decision",
    ]


def test_applicant_who_chose_post_gets_letters_in_the_print_queue(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A letter for an applicant who chose post waits in the print queue with their address."""
    case = CaseDriver(client, sessions)
    applicant = dict(APPLICATION["applicant"], preferred_contact="post")
    case.apply(dict(APPLICATION, applicant=applicant))
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    [(letter, outbox)] = letters_of(sessions, case.reference)
    assert (outbox.channel, outbox.status) == ("print", "queued")
    assert outbox.postal_address == "Alex Applicant\n1 Example Street, Derby\nDE1 1AA"
    queue = client.get("/outbox")
    assert case.reference in queue.text and "1 Example Street, Derby" in queue.text
    button = re.search(r'action="(/outbox/\d+/printed)"', queue.text)
    assert button is not None
    assert client.post(button.group(1)).status_code == 302
    [(_, outbox)] = letters_of(sessions, case.reference)
    assert (outbox.status, outbox.done_by) == ("printed", "carol")
    assert "Nothing to print." in client.get("/outbox").text
    assert "Printed" in client.get(f"/cases/{case.reference}").text


def test_only_the_coordinator_handles_the_print_queue(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The print queue and its buttons are the coordinator's: a partner is refused."""
    CaseDriver(client, sessions).act_as("pete")
    assert client.get("/outbox").status_code == 403
    assert client.post("/outbox/1/printed").status_code == 403


def test_case_page_lists_letters_with_status_and_links(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The case page lists each letter with its delivery status, HTML view and PDF download."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    [(letter, _)] = letters_of(sessions, case.reference)
    page = client.get(f"/cases/{case.reference}")
    assert 'id="letters"' in page.text
    assert "Queued" in page.text and "to alex@example.org" in page.text
    view = client.get(f"/cases/{case.reference}/letters/{letter.id}")
    assert view.status_code == 200 and view.text == letter.html
    assert "default-src 'none'" in view.headers["Content-Security-Policy"]
    download = client.get(f"/cases/{case.reference}/letters/{letter.id}.pdf")
    [(letter, _)] = letters_of(sessions, case.reference)  # made on first download, and kept
    assert letter.pdf is not None and download.data == letter.pdf
    assert client.get(f"/cases/{case.reference}/letters/{letter.id}.pdf").data == letter.pdf
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_letter_is_escaped_so_applicant_text_cannot_inject_markup(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Whatever an applicant types is text in the letter, never markup."""
    case = CaseDriver(client, sessions)
    applicant = dict(APPLICATION["applicant"], name="<script>alert(1)</script>")
    case.apply(dict(APPLICATION, applicant=applicant))
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    [(letter, _)] = letters_of(sessions, case.reference)
    assert "<script>" not in letter.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in letter.html


def test_no_letter_when_the_task_is_refused(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A task completion that is refused writes no letter: letters live in its transaction."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    task = case.task_id("Acknowledge application")
    response = client.post(
        f"/api/cases/{case.reference}/tasks/{task}", json={"data": {"named_contact": ""}}
    )
    assert response.status_code == 422
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Letter)) == 0


def test_partner_not_in_the_review_cannot_read_a_letter(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22: a letter holds personal data: to a partner whose agency takes no part, the case and its
    letters do not exist (404, as for every page of a case not shared with them)."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    [(letter, _)] = letters_of(sessions, case.reference)
    case.act_as("heath")
    assert client.get(f"/cases/{case.reference}/letters/{letter.id}").status_code == 404
    assert client.get(f"/cases/{case.reference}/letters/{letter.id}.pdf").status_code == 404


def _threshold_letter(deployed: processes.DeployResult, data: dict[str, object]) -> str:
    case = Case(reference="CT-2026-0042", received_on=date(2026, 11, 2))
    version = processes.deployed(deployed.version)
    subject, html = letters.render("threshold_decision", data, case, letters.Council(), version)
    assert subject.endswith("(CT-2026-0042)")
    return _text(html)


def test_r13_threshold_letter_follows_the_signposting_the_decision_chose(
    deployed: processes.DeployResult,
) -> None:
    """R11, R12: when the decision lists its signposting, the letter gives exactly those routes."""
    text = _threshold_letter(
        deployed,
        {
            "threshold_outcome": "not_met",
            "threshold_reasons": "One report.",
            "signposting": ["reporting_routes"],
        },
    )
    assert "report it first" in text
    assert "complaints procedure" not in text and "Housing Ombudsman" not in text


def test_r13_threshold_met_by_discretion_says_what_was_considered(
    deployed: processes.DeployResult,
) -> None:
    """R9, R13: a threshold met below the count says which factors the bodies considered."""
    text = _threshold_letter(
        deployed,
        {
            "threshold_outcome": "met",
            "threshold_reasons": "Serious harm.",
            "threshold_basis": "discretion",
            "discretion_factors": ["persistence", "harm"],
        },
    )
    assert "considering how persistent the behaviour has been; the harm, or potential harm" in text


def test_letters_tolerate_missing_data(deployed: processes.DeployResult) -> None:
    """Every letter renders from an empty task: a diagram that leaves a name out loses a line, not the task."""
    case = Case(reference="CT-2026-0043", received_on=date(2026, 11, 2))
    for kind in letters.BUILDERS:
        council = letters.Council(name="Testshire Council")
        version = processes.deployed(deployed.version)
        subject, html = letters.render(kind, {}, case, council, version)
        assert "CT-2026-0043" in html and "Testshire Council" in html and subject


def test_letter_and_task_completion_are_one_transaction(
    client: FlaskClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the letter cannot be written, the task stays open and nothing of it is saved."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    task = case.task_id("Acknowledge application")

    def broken(*args: object) -> tuple[str, str]:
        raise OSError("disk full while writing the letter")

    monkeypatch.setattr(letters, "render", broken)
    answers = ANSWERS["Acknowledge application"]
    response = client.post(f"/api/cases/{case.reference}/tasks/{task}", json={"data": answers})
    assert response.status_code == 500
    assert case.open_tasks() == ["Acknowledge application"]
    assert [e["kind"] for e in case.case()["events"]] == ["case_started", "task_completed"]
    monkeypatch.undo()
    again = client.post(f"/api/cases/{case.reference}/tasks/{task}", json={"data": answers})
    assert again.status_code == 200
    assert [lt.kind for lt, _ in letters_of(sessions, case.reference)] == ["acknowledgement"]
