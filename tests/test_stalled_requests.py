"""R14: an information request nobody can answer, or nobody picked up, is shown to the
coordinator and escalates once overdue; the answering agency is on each answer's event."""

from __future__ import annotations

import re
from datetime import date

import time_machine
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from tests.scenario import CaseDriver
from tests.test_rules_deadlines import london
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import escalations
from trigger_workflow.store.models import OpenTask


def requests_sent(sessions: sessionmaker[Session], agencies: list[str]) -> ServiceCase:
    """Return a case whose information requests went to these agencies on Monday 23 November."""
    case = ServiceCase(sessions)
    case.apply()
    for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
        case.complete(step)
    case.complete("choose_agencies", {"agencies": agencies})
    return case


def test_r14_overdue_information_request_escalates_to_the_coordinator_naming_the_agency(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R14: the request to Police, sent 23 November 2026 and due 30th, is unanswered; the timer
    worker's pass after midnight gives the coordinator "Act on an overdue step" naming Police."""
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        case = requests_sent(sessions, ["police"])
    assert case.task("answer_information_request", "police").due_on == date(2026, 11, 30)
    with time_machine.travel(london(2026, 12, 1, 0, 30), tick=False):
        assert case.fire_timers() == 1
    escalation = case.task(escalations.ESCALATION_TASK)
    assert escalation.role == "coordinator" and escalation.agency is None
    with sessions() as session:
        row = session.get(OpenTask, escalation.id)
        assert row is not None
        title = escalations.titles(session, [(row, case.reference)])[row.id]
    assert title.startswith("Act on an overdue step: Answer information request (Police)")
    assert case.reference in title


def test_r14_request_to_an_agency_whose_last_officer_was_disabled_is_shown_to_the_coordinator(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    """R14: Health's only officer is disabled after the request was sent: the case page and the
    inbox tell the coordinator nobody at Health can answer, and the reassign page says who can
    act instead of offering nobody (or the disabled officer)."""
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        case = requests_sent(sessions, ["police", "health"])
        with sessions() as session:
            actors.set_disabled(session, "heath", True, by="adam")
        driver = CaseDriver(app.test_client(), sessions)
        driver.act_as("carol")
        page = driver.client.get(f"/cases/{case.reference}").text
        stalled = _section(page, "stalled-requests")
        assert (
            "Nobody at Health (Integrated Care Board) can answer the information request: "
            "the agency has no active officer." in stalled
        )
        assert "Police" not in stalled
        inbox = driver.client.get("/tasks").text
        assert case.reference in _section(inbox, "stalled-requests")
        health = case.task("answer_information_request", "health")
        reassign = driver.client.get(f"/tasks/{health.id}/reassign")
        assert reassign.status_code == 200
        assert "Health (Integrated Care Board) has no active officer" in reassign.text
        assert 'name="to_username"' not in reassign.text
        refused = driver.client.post(
            f"/tasks/{health.id}/reassign", data={"to_username": "heath", "expected_assignee": ""}
        )
        assert refused.status_code == 403 and "disabled" in refused.text
        # Partners do not see the coordinator's notice.
        driver.act_as("pete")
        assert 'id="stalled-requests"' not in driver.client.get(f"/cases/{case.reference}").text


def test_r14_overdue_request_nobody_picked_up_is_shown_on_the_case_page(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    """R14: a request past its due date that no Police officer has claimed is stalled too."""
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        case = requests_sent(sessions, ["police"])
    driver = CaseDriver(app.test_client(), sessions)
    with time_machine.travel(london(2026, 11, 30, 12, 0), tick=False):
        driver.act_as("carol")
        assert 'id="stalled-requests"' not in driver.client.get(f"/cases/{case.reference}").text
    with time_machine.travel(london(2026, 12, 1, 9, 0), tick=False):
        driver.act_as("carol")
        page = driver.client.get(f"/cases/{case.reference}").text
        assert "Nobody at Police has picked up the information request, due on 30 " in (
            _section(page, "stalled-requests")
        )


def test_answer_event_records_the_agency_that_answered(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R22: each agency's answer to its information request is recorded with that agency."""
    case = requests_sent(sessions, ["police", "housing"])
    case.complete("answer_information_request", agency="housing")
    case.complete("answer_information_request", agency="police")
    answers = [
        e for e in case.events("task_completed") if e.task_spec == "answer_information_request"
    ]
    assert [e.detail.get("agency") for e in answers] == ["housing", "police"]
    others = [e for e in case.events("task_completed") if e.task_spec == "choose_agencies"]
    assert others and all("agency" not in e.detail for e in others)


def _section(html: str, element_id: str) -> str:
    """Return the text of the element with this id (to the end of its block), tags removed."""
    start = html.find(f'id="{element_id}"')
    assert start >= 0, f"no #{element_id} on the page"
    block = html[start : html.find("</ul>", start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block)).replace(" .", ".").strip()
