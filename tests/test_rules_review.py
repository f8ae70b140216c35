"""R14-R19: the review, the outcome notice and the appeal, through the real diagrams."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.rules_driver import ServiceCase
from tests.scenario import CaseDriver, form_schema
from tests.test_rules_deadlines import london
from tests.test_rules_threshold import refused
from trigger_workflow.errors import NotPermitted
from trigger_workflow.samples import ANSWERS, APPEAL, APPEAL_CONFIRMED
from trigger_workflow.schema_forms import encode_form
from trigger_workflow.services.process_owners import processes

MEETING = ANSWERS["hold_review_meeting"]
OUTCOME_SENT = "2026-12-14"  # a Monday; 20 working days on (skipping Christmas, Boxing Day, New Year) is 14 January


def to_review(sessions: sessionmaker[Session], agencies: list[str]) -> ServiceCase:
    """Run a case to its information requests, the agencies chosen."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        case.apply()
        for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
            case.complete(step)
        case.complete("choose_agencies", {"agencies": agencies})
    return case


def to_appeal(sessions: sessionmaker[Session]) -> ServiceCase:
    """Run a case through its review and outcome notice to the appeal."""
    case = to_review(sessions, ["police", "housing"])
    with time_machine.travel(london(2026, 11, 24, 9, 0), tick=False):
        for agency in ("police", "housing"):
            case.complete("answer_information_request", agency=agency)
        case.complete("hold_review_meeting")
        case.complete(
            "send_outcome_notice",
            {**ANSWERS["send_outcome_notice"], "outcome_sent_on": OUTCOME_SENT},
        )
    return case


def test_r14_each_chosen_agency_gets_its_own_request_due_in_five_working_days(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R14: three chosen agencies get three parallel requests, one each, due five working days on;
    an officer of another agency may not answer one."""
    case = to_review(sessions, ["police", "housing", "health"])
    requests = [t for t in case.open_tasks() if t.task_spec == "answer_information_request"]
    assert sorted(t.agency or "" for t in requests) == ["health", "housing", "police"]
    assert {t.due_on for t in requests} == {date(2026, 11, 30)}
    with pytest.raises(NotPermitted):
        case.complete("answer_information_request", agency="police", actor="hana")
    # Answered before the requests fall due, whatever day the tests run.
    with time_machine.travel(london(2026, 11, 24, 9, 0), tick=False):
        case.complete("answer_information_request", agency="police")
        case.complete("answer_information_request", agency="housing")
        assert case.open_specs() == ["answer_information_request"]
        case.complete("answer_information_request", agency="health")
    responses = case.data("hold_review_meeting")["information_responses"]
    assert sorted(r["agency"] for r in responses) == ["health", "housing", "police"]


def test_r14_agencies_see_only_their_own_requests(
    client: FlaskClient, sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R14, R22: in the task list the police officer sees the police request only, and the
    health officer (whose agency was not chosen) sees none."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": ["police", "housing"]})
    case.act_as("pete")
    inbox = client.get("/tasks").text
    assert inbox.count("Answer information request") == 1
    assert (
        client.get(f"/tasks/{case.task_id('Answer information request', 'housing')}").status_code
        == 403
    )
    case.act_as("heath")
    assert "Answer information request" not in client.get("/tasks").text


def test_r15_a_chair_from_an_agency_under_review_is_refused_beside_the_field(
    client: FlaskClient, sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R15: on the meeting form, a chair from the police (under review) is refused with the message
    beside the chair's organisation, the answers kept; an independent chair is accepted."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": ["police", "housing"]})
    for agency in ("police", "housing"):
        case.complete("Answer information request", ANSWERS["answer_information_request"], agency)
    case.act_as("ingrid")
    task = case.task_id("Hold review meeting")
    answers = {**MEETING, "chair_agency": "police"}
    fields = encode_form(form_schema("hold_review_meeting.json"), answers)
    response = client.post(f"/tasks/{task}", data=MultiDict(fields))
    assert response.status_code == 422
    message = re.search(r'id="chair_agency-error"[^>]*>(.*?)</p>', response.text, re.S)
    assert message is not None and "an agency under review in this case" in message.group(1)
    assert 'value="Ingrid Independent"' in response.text
    case.complete("Hold review meeting", MEETING)
    assert case.open_tasks() == ["Send outcome notice"]


def test_r15_conflict_of_interest_refused_and_victim_participation_recorded(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R15: a chair who cannot declare no conflict of interest is refused; the victim's
    invitation and attendance are recorded with the meeting."""
    case = to_review(sessions, ["police"])
    case.complete("answer_information_request", agency="police")
    problems = refused(case, "hold_review_meeting", {**MEETING, "conflict_of_interest": False})
    assert "conflict of interest" in problems[("conflict_of_interest",)]
    case.complete("hold_review_meeting", {**MEETING, "victim_participation": "invited_declined"})
    assert case.data("send_outcome_notice")["victim_participation"] == "invited_declined"


def test_r16_each_recommendation_needs_an_agency_an_action_and_a_target_date(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16: a recommendation without a target date is refused; complete ones reach the outcome."""
    case = to_review(sessions, ["police"])
    case.complete("answer_information_request", agency="police")
    incomplete = copy.deepcopy(MEETING)
    del incomplete["recommendations"][0]["target_date"]
    problems = refused(case, "hold_review_meeting", incomplete)
    assert ("recommendations", 0, "target_date") in problems
    case.complete("hold_review_meeting")
    assert case.data("send_outcome_notice")["recommendations"] == MEETING["recommendations"]


def test_r16_the_meeting_is_due_fifteen_working_days_after_the_requests(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16: the meeting is due 15 working days from when it became ready (the answers in)."""
    case = to_review(sessions, ["police"])
    with time_machine.travel(london(2026, 12, 1, 9, 0), tick=False):
        case.complete("answer_information_request", agency="police")
    # Tuesday 1 December + 15 working days (three weekends) is Tuesday 22 December.
    assert case.task("hold_review_meeting").due_on == date(2026, 12, 22)


def test_r17_outcome_notice_due_five_working_days_after_the_meeting_with_recommendations(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R17: the outcome notice is due five working days after the meeting, and its task carries
    the recommendations the letter lists."""
    case = to_review(sessions, ["police"])
    case.complete("answer_information_request", agency="police")
    with time_machine.travel(london(2026, 12, 10, 16, 0), tick=False):
        case.complete("hold_review_meeting")
    assert case.task("send_outcome_notice").due_on == date(2026, 12, 17)
    assert case.data("send_outcome_notice")["recommendations"] == MEETING["recommendations"]


def test_r18_appeal_within_twenty_working_days_is_recorded_on_time(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R18: an appeal on the window's last day (14 January, across Christmas) is not late."""
    case = to_appeal(sessions)
    case.complete("record_appeal", {**APPEAL, "appeal_received_on": "2027-01-14"})
    data = case.data("decide_appeal")
    assert (data["appeal_late"], data["appeal_window_closes"]) == (False, "2027-01-14")


def test_r18_a_late_appeal_needs_a_recorded_reason(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R18: an appeal the day after the window closed is refused without a reason (the closing
    date named beside the field); with one it is accepted and marked late."""
    case = to_appeal(sessions)
    late = {**APPEAL, "appeal_received_on": "2027-01-15"}
    problems = refused(case, "record_appeal", late)
    assert "closed on 14 January 2027" in problems[("late_appeal_reason",)]
    case.complete("record_appeal", {**late, "late_appeal_reason": "The applicant was in hospital."})
    data = case.data("decide_appeal")
    assert (data["appeal_late"], data["late_appeal_reason"]) == (
        True,
        "The applicant was in hospital.",
    )


def test_r18_an_appeal_before_the_outcome_notice_is_refused(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R18: an appeal dated before the outcome notice was sent is a mistake, refused."""
    case = to_appeal(sessions)
    problems = refused(case, "record_appeal", {**APPEAL, "appeal_received_on": "2026-12-01"})
    assert "before the outcome notice" in problems[("appeal_received_on",)]


def test_r19_confirmed_appeal_closes_the_case(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R19: the OPCC confirms: the case closes at 'Closed: appeal confirmed'."""
    case = to_appeal(sessions)
    case.complete("record_appeal", {**APPEAL, "appeal_received_on": "2026-12-20"})
    case.complete("decide_appeal", APPEAL_CONFIRMED)
    final = case.state()
    assert (final.status, final.outcome) == ("closed", "Closed: appeal confirmed")
    assert case.final_data()["appeal_outcome"] == "confirmed"


def test_r19_upheld_appeal_sends_a_fresh_review_with_the_opcc_findings(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R19: the OPCC upholds and refers back: a fresh review starts with opcc_findings attached."""
    case = to_appeal(sessions)
    case.complete("record_appeal", {**APPEAL, "appeal_received_on": "2026-12-20"})
    findings = "Health was never asked."
    case.complete(
        "decide_appeal",
        {"appeal_decision": "upheld", "appeal_findings": findings, "enforcement_tool_only": False},
    )
    assert case.open_specs() == ["choose_agencies"]
    data = case.data("choose_agencies")
    assert (data["appeal_outcome"], data["opcc_findings"]) == ("upheld", findings)


def test_r19_an_appeal_resting_only_on_an_enforcement_tool_cannot_be_upheld(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R19: the OPCC records that the appeal rests only on a tool not used; upholding is refused,
    confirming is accepted."""
    case = to_appeal(sessions)
    case.complete("record_appeal", {**APPEAL, "appeal_received_on": "2026-12-20"})
    answers: dict[str, Any] = {
        "appeal_decision": "upheld",
        "appeal_findings": "They want an injunction.",
        "enforcement_tool_only": True,
    }
    problems = refused(case, "decide_appeal", answers)
    assert "enforcement tool" in problems[("appeal_decision",)]
    case.complete("decide_appeal", {**answers, "appeal_decision": "confirmed"})
    assert case.state().outcome == "Closed: appeal confirmed"
