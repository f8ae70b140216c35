"""Failures are incidents, not crashes: a failing step holds the case, keeps the answers, and a retry continues it."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.incident_helpers import case_row, deploy_changed, move_case
from tests.scenario import ANSWERS, THRESHOLD_MET, CaseDriver
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.samples import ANSWERS as SAMPLE_ANSWERS
from trigger_workflow.services.audit import access_log
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, Event

COUNT = (
    "count_qualifying_complaints(all_incidents(incidents, agency_incidents), received_on, 1, "
    "local_window_months)"
)
DIVIDE_BY_ZERO = ("threshold.dmn", f"<text>{COUNT}</text>", f"<text>{COUNT} / 0</text>")
# The complaints the coordinator found in the agencies' records, as the form posts them, and as
# the case keeps them.
COMPLAINTS_FORM = {
    "agency_incidents.0.behaviour_date-day": "10",
    "agency_incidents.0.behaviour_date-month": "10",
    "agency_incidents.0.behaviour_date-year": "2026",
    "agency_incidents.0.location": "Flat 2, Example Street",
    "agency_incidents.0.what_happened": "Music until 2am",
    "agency_incidents.0.reported_on-day": "11",
    "agency_incidents.0.reported_on-month": "10",
    "agency_incidents.0.reported_on-year": "2026",
    "agency_incidents.0.reported_to": "housing_provider",
}
COMPLAINTS = SAMPLE_ANSWERS["record_complaints"]
UNKNOWN_NAME = (
    "community_trigger.bpmn",
    '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">threshold_outcome == "met"</bpmn:conditionExpression>',
    '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">threshold_outcome == "met" and panel_ready</bpmn:conditionExpression>',
)


def completion_detail(sessions: sessionmaker[Session], reference: str) -> dict[str, Any]:
    """Return the detail of the case's last task_completed event."""
    with sessions() as session:
        event = session.scalars(
            select(Event)
            .join(Case, Event.case_id == Case.id)
            .where(Case.reference == reference, Event.kind == "task_completed")
            .order_by(Event.seq.desc())
        ).first()
        assert event is not None
        return dict(event.detail)


def row_received_on(sessions: sessionmaker[Session], reference: str) -> str:
    """Return the day the case's application arrived, as ISO text."""
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return case.received_on.isoformat()


def held_at_threshold_rule(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> tuple[CaseDriver, int]:
    """Deploy a decision table that divides by zero, then submit the complaints that run it."""
    deploy_changed(sessions, process_files, *DIVIDE_BY_ZERO)
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    case.act_as("carol")
    task = case.task_id("Record qualifying complaints")
    response = client.post(f"/tasks/{task}", data=COMPLAINTS_FORM)
    assert response.status_code == 302
    return case, response.status_code


def test_failing_decision_holds_the_case_and_keeps_the_answers(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """The officer is told their answers were saved; the case is in error with an incident naming the element."""
    case, _ = held_at_threshold_rule(client, sessions, process_files)
    page = client.get(f"/cases/{case.reference}")
    assert "Your answers were saved" in page.text
    assert 'id="case-held"' in page.text
    row = case_row(sessions, case.reference)
    assert row["status"] == "error"
    assert row["stage"] == "Threshold decision"
    [incident] = row["incidents"]
    assert incident["status"] == "open"
    assert incident["element"] == "apply_threshold_rule"
    assert "ZeroDivisionError" in incident["message"]
    assert "'Apply threshold rule' could not run" in incident["message"]
    assert incident["data"] == COMPLAINTS
    assert incident["opened_by"] == "carol"
    assert ("incident_opened", "carol", COMPLAINTS) in row["events"]
    # The task is still waiting in the stored state: nothing half-run was saved.
    assert case.open_tasks() == ["Record qualifying complaints"]


def test_a_held_case_refuses_other_changes(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """While held, the task page warns, and completing a task is refused with 409 naming the hold; nothing changes."""
    case, _ = held_at_threshold_rule(client, sessions, process_files)
    before = case_row(sessions, case.reference)
    task = case.task_id("Record qualifying complaints")
    assert 'id="case-held"' in client.get(f"/tasks/{task}").text
    response = client.post(
        f"/api/cases/{case.reference}/tasks/{task}", json={"data": {"agency_incidents": []}}
    )
    assert response.status_code == 409
    assert response.json["error"] == "This case is held for a process owner"
    assert case_row(sessions, case.reference) == before


def test_process_owners_see_incidents_others_do_not(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """The incidents list and page show task, element and message to process owners; a coordinator
    gets 403, and sees the incident on the case page, which process owners may not open. The
    incident page shows the answers kept, so the process owner's view of it is logged (R22)."""
    case, _ = held_at_threshold_rule(client, sessions, process_files)
    assert client.get("/incidents").status_code == 403
    case.act_as("owen")
    listing = client.get("/incidents")
    assert listing.status_code == 200
    assert case.reference in listing.text and "Apply threshold rule" in listing.text
    found = re.search(r'href="/incidents/(\d+)"', listing.text)
    assert found is not None
    detail = client.get(f"/incidents/{found.group(1)}")
    assert "apply_threshold_rule" in detail.text and "ZeroDivisionError" in detail.text
    assert (
        "&#34;what_happened&#34;: &#34;Music until 2am&#34;" in detail.text
        or '"what_happened": "Music until 2am"' in detail.text
    )
    assert client.get(f"/cases/{case.reference}").status_code == 403
    with sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == case.reference))
        assert case_id is not None
        logged = [(v.username, v.what) for v in access_log.views_of(session, case_id)]
    assert logged == [("owen", f"incident {found.group(1)}")]
    case.act_as("carol")
    case_page = client.get(f"/cases/{case.reference}")
    assert 'id="case-incidents"' in case_page.text
    assert "Apply threshold rule" in case_page.text and "ZeroDivisionError" in case_page.text


def test_retry_after_a_fix_is_deployed_continues_the_case(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    process_files: ProcessFiles,
    deployed: processes.DeployResult,
) -> None:
    """A retry before the fix fails again (recorded); after the fixed version, it completes the kept answers."""
    case, _ = held_at_threshold_rule(client, sessions, process_files)
    incident_id = case_row(sessions, case.reference)["incidents"][0]["id"]
    case.act_as("owen")
    again = client.post(f"/incidents/{incident_id}/retry")
    assert again.status_code == 302
    row = case_row(sessions, case.reference)
    assert row["status"] == "error" and row["incidents"][0]["attempts"] == 2
    assert row["events"][-1][:2] == ("incident_retry_failed", "owen")
    # The fix: the version deployed first (the project's own table), the case moved onto it.
    move_case(sessions, case.reference, deployed.version.id)
    done = client.post(f"/incidents/{incident_id}/retry")
    assert done.status_code == 302 and done.headers["Location"] == f"/cases/{case.reference}"
    row = case_row(sessions, case.reference)
    assert row["status"] == "open"
    assert row["incidents"][0]["status"] == "resolved"
    kinds = [(kind, actor) for kind, actor, _ in row["events"][-2:]]
    assert kinds == [("task_completed", "carol"), ("incident_resolved", "owen")]
    assert row["events"][-2][2] == COMPLAINTS
    # Recorded as carol's completion, with the context the engine got (receipt day, deadlines).
    detail = completion_detail(sessions, case.reference)
    assert detail["retried_by"] == "owen" and detail["incident"] == incident_id
    assert detail["context"]["received_on"] == row_received_on(sessions, case.reference)
    assert "decide_threshold" in detail["context"]["deadlines"]
    case.act_as("carol")  # process owners do not open cases; the coordinator sees it moved on
    assert case.open_tasks() == ["Decide threshold"]
    case.complete("Decide threshold", THRESHOLD_MET)
    assert case.open_tasks() == ["Choose agencies"]


def test_correcting_data_then_retrying_continues_the_case(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """A condition naming missing data: the owner sets it (an event records old and new), and a retry goes on."""
    deploy_changed(sessions, process_files, *UNKNOWN_NAME)
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Decide threshold")
    case.act_as("carol")
    task = case.task_id("Decide threshold")
    response = client.post(
        f"/api/cases/{case.reference}/tasks/{task}", json={"data": THRESHOLD_MET}
    )
    assert response.status_code == 202
    assert "panel_ready" in response.json["incident"]
    incident = case_row(sessions, case.reference)["incidents"][0]
    assert incident["element"] == "gateway_threshold"
    case.act_as("owen")
    bad = client.post(f"/incidents/{incident['id']}/correct", data={"values": "{panel_ready: yes"})
    assert bad.status_code == 422 and "Not valid JSON" in bad.text
    assert case_row(sessions, case.reference)["events"][-1][0] == "incident_opened"
    fixed = client.post(
        f"/incidents/{incident['id']}/correct", data={"values": '{"panel_ready": true}'}
    )
    assert fixed.status_code == 302
    assert case_row(sessions, case.reference)["events"][-1] == (
        "data_corrected",
        "owen",
        {"panel_ready": True},
    )
    client.post(f"/incidents/{incident['id']}/retry")
    row = case_row(sessions, case.reference)
    assert row["status"] == "open" and row["incidents"][0]["status"] == "resolved"
    case.act_as("carol")
    assert case.open_tasks() == ["Choose agencies"]
    case.check_round_trip()


def test_an_application_whose_next_step_fails_is_kept_and_can_be_retried(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """A failing pre-script after the public form: the case exists, held with the application; correction and retry go on."""
    deploy_changed(
        sessions,
        process_files,
        "acknowledgement.bpmn",
        "<spiffworkflow:instructionsForEndUser>Confirm receipt",
        "<spiffworkflow:preScript>share = 1 / divisor</spiffworkflow:preScript>"
        "<spiffworkflow:instructionsForEndUser>Confirm receipt",
    )
    case = CaseDriver(client, sessions)
    reference = case.apply()  # the applicant still gets their reference
    row = case_row(sessions, reference)
    assert row["status"] == "error"
    [incident] = row["incidents"]
    assert incident["opened_by"] == "public" and incident["element"] == "acknowledge_application"
    assert incident["data"]["applicant"]["name"] == "Alex Applicant"
    assert [kind for kind, _, _ in row["events"]] == ["case_started", "incident_opened"]
    case.act_as("owen")
    client.post(f"/incidents/{incident['id']}/correct", data={"values": '{"divisor": 2}'})
    client.post(f"/incidents/{incident['id']}/retry")
    row = case_row(sessions, reference)
    assert row["status"] == "open" and row["stage"] == "Acknowledgement"
    assert ("task_completed", "public") in [(k, a) for k, a, _ in row["events"]]
    case.act_as("carol")
    assert case.open_tasks() == ["Acknowledge application"]
