"""R5 and the timescales: working-day due dates, and overdue steps escalated by timers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from trigger_workflow.engine import calendar
from trigger_workflow.samples import ANSWERS
from trigger_workflow.services.process_owners import processes

LONDON = calendar.UK_TIME


def london(*parts: int) -> datetime:
    """Return a moment in England's time."""
    return datetime(*parts, tzinfo=LONDON)  # type: ignore[misc]


def test_r5_acknowledgement_due_after_christmas_and_escalated_once_overdue(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R5: received 23 December 2025, due 2 January 2026 (skipping the weekend, Christmas, Boxing
    Day and New Year); nothing escalates on the due day; from midnight the step is escalated to the
    coordinator's team, the acknowledgement stays open, and the escalation fires once."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        case.apply()
    ack = case.task("acknowledge_application")
    assert ack.due_on == date(2026, 1, 2)
    assert case.state().timer_due_at == datetime(2026, 1, 3, 0, 0, tzinfo=UTC)
    with time_machine.travel(london(2026, 1, 2, 23, 59), tick=False):
        assert case.fire_timers() == 0
    assert case.open_specs() == ["acknowledge_application"]
    with time_machine.travel(london(2026, 1, 3, 0, 1), tick=False):
        assert case.fire_timers() == 1
        assert case.fire_timers() == 0
    assert case.open_specs() == ["acknowledge_application", "handle_escalation"]
    escalation = case.task("handle_escalation")
    assert (escalation.role, escalation.stage) == (
        "coordinator",
        "Community Trigger (ASB case review)",
    )
    [fired] = case.events("timer_fired")
    fired_tasks = [step["task"] for step in fired.detail["automatic"]]
    assert "acknowledge_application_overdue" in fired_tasks
    assert "end_acknowledge_application_escalated" in fired_tasks


def test_r5_escalation_handled_after_the_step_keeps_the_case_data(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R5: an application entered long after it arrived is overdue at once (no worker needed);
    the acknowledgement is done, then the team records its action; the case moves on with the
    acknowledgement's data intact."""
    case = ServiceCase(sessions)
    case.apply(received_on=date(2025, 12, 23))
    assert case.open_specs() == ["acknowledge_application", "handle_escalation"]
    assert case.fire_timers() == 0
    case.complete("acknowledge_application")
    # The complaints check (due 10 working days from receipt) is overdue already too.
    assert case.open_specs() == ["handle_escalation", "handle_escalation", "record_complaints"]
    case.complete("handle_escalation", {"escalation_action": "Took over the acknowledgement."})
    case.complete("handle_escalation", {"escalation_action": "Asked the police for records."})
    assert case.open_specs() == ["record_complaints"]
    data = case.data("record_complaints")
    assert data["named_contact"] == ANSWERS["acknowledge_application"]["named_contact"]
    assert data["received_on"] == "2025-12-23"


def test_r5_acknowledged_in_time_nothing_escalates(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R5: an acknowledgement done before its deadline cancels its timer: nothing escalates later."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        case.apply()
        case.complete("acknowledge_application")
    with time_machine.travel(london(2026, 1, 5, 9, 0), tick=False):
        case.fire_timers()
    assert "handle_escalation" not in case.open_specs()
    assert all("acknowledge_application_overdue" not in str(e.detail) for e in case.events())


def test_r13_threshold_decision_due_ten_working_days_from_receipt_across_easter(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R13: received Thursday 2 April 2026, the threshold decision is due ten working days later,
    skipping Good Friday and Easter Monday: 20 April; overdue, it escalates like R5."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2026, 4, 2, 9, 0), tick=False):
        case.apply()
        case.complete("acknowledge_application")
        case.complete("record_complaints")
    assert case.task("decide_threshold").due_on == date(2026, 4, 20)
    with time_machine.travel(london(2026, 4, 20, 18, 0), tick=False):
        assert case.fire_timers() == 0
    with time_machine.travel(london(2026, 4, 21, 0, 30), tick=False):
        assert case.fire_timers() == 1
    assert case.open_specs() == ["decide_threshold", "handle_escalation"]


def test_r14_deadlines_follow_the_timescales_settings(
    sessions: sessionmaker[Session], process_files: processes.loader.ProcessFiles
) -> None:
    """The timescales file, not the diagram, sets when a step escalates: 2 working days for the
    acknowledgement makes a Friday application overdue after Tuesday."""
    files = dict(process_files.files)
    files["timescales.toml"] = files["timescales.toml"].replace(
        "[tasks.acknowledge_application]   # R5\ndays = 5",
        "[tasks.acknowledge_application]\ndays = 2",
    )
    assert files["timescales.toml"] != process_files.files["timescales.toml"]
    with sessions() as session:
        processes.deploy(session, processes.loader.ProcessFiles(files), "owner")
        from trigger_workflow.samples import OFFICERS
        from trigger_workflow.services.accounts import actors

        for username, name, role, agency in OFFICERS:
            actors.add_officer(session, username, name, role, agency)
    case = ServiceCase(sessions)
    with time_machine.travel(london(2026, 11, 20, 12, 0), tick=False):
        case.apply()
    assert case.task("acknowledge_application").due_on == date(2026, 11, 24)
    with time_machine.travel(london(2026, 11, 24, 17, 0), tick=False):
        assert case.fire_timers() == 0
    with time_machine.travel(london(2026, 11, 25, 8, 0), tick=False):
        assert case.fire_timers() == 1


def test_r16_overdue_meeting_in_a_fresh_review_escalates_without_losing_its_answers(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16, R19: in the fresh review after an upheld appeal, the overdue meeting escalates; the
    meeting's new recommendations, not the first review's, reach the outcome notice."""
    from trigger_workflow.samples import APPEAL

    case = ServiceCase(sessions)
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        case.apply()
        for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
            case.complete(step)
        case.complete("choose_agencies", {"agencies": ["police"]})
        case.complete("answer_information_request", agency="police")
        case.complete("hold_review_meeting")
        case.complete("send_outcome_notice")
        case.complete("record_appeal", APPEAL)
        upheld = {"appeal_decision": "upheld", "appeal_findings": "Ask health."}
        case.complete("decide_appeal", {**upheld, "enforcement_tool_only": False})
        case.complete("choose_agencies", {"agencies": ["health"]})
        case.complete("answer_information_request", agency="health")
    with time_machine.travel(london(2027, 1, 29, 9, 0), tick=False):
        assert case.fire_timers() == 1
    assert case.open_specs() == ["handle_escalation", "hold_review_meeting"]
    fresh = [
        {"agency": "health", "action": "Refer to mental health team", "target_date": "2027-03-01"}
    ]
    meeting = {**ANSWERS["hold_review_meeting"], "recommendations": fresh}
    case.complete("hold_review_meeting", meeting)
    case.complete("handle_escalation", {"escalation_action": "Chased the chair."})
    assert case.data("send_outcome_notice")["recommendations"] == fresh


def test_r21_each_completion_records_the_context_the_engine_got(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R21: the event of a completion keeps the receipt day and deadlines given to the engine
    beside the answers, so a replay can give the engine exactly the same."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        case.apply()
    [application] = case.events("task_completed")
    context = application.detail["context"]
    assert context["received_on"] == "2025-12-23"
    assert context["deadlines"]["acknowledge_application"] == "2026-01-03T00:00:00+00:00"
    assert "deadlines" not in application.data


def test_r14_overdue_information_requests_escalate_once_and_stay_open(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R14: requests sent Monday 23 November are due Monday 30th; at midnight the late requests
    escalate once (not once per agency), stay open, and their answers still reach the meeting."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        case.apply()
        for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
            case.complete(step)
        case.complete("choose_agencies", {"agencies": ["police", "housing"]})
        case.complete("answer_information_request", agency="police")
    assert case.task("answer_information_request", "housing").due_on == date(2026, 11, 30)
    with time_machine.travel(london(2026, 11, 30, 22, 0), tick=False):
        assert case.fire_timers() == 0
    with time_machine.travel(london(2026, 12, 1, 0, 30), tick=False):
        assert case.fire_timers() == 1
    assert case.open_specs() == ["answer_information_request", "handle_escalation"]
    case.complete("answer_information_request", agency="housing")
    responses = case.data("hold_review_meeting")["information_responses"]
    assert sorted(r["agency"] for r in responses) == ["housing", "police"]


def test_r13_r19_threshold_decided_again_after_an_upheld_appeal_counts_from_the_appeal_decision(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R13, R19: received Monday 2 November 2026 and found not met the same day; the OPCC upholds
    the appeal on Monday 30 November. The fresh round's steps are due ten working days from that
    day (14 December), not from receipt (16 November): nothing is overdue or escalated at once."""
    from trigger_workflow.samples import APPEAL, THRESHOLD_NOT_MET

    case = ServiceCase(sessions)
    with time_machine.travel(london(2026, 11, 2, 9, 0), tick=False):
        case.apply()
        case.complete("acknowledge_application")
        case.complete("record_complaints")
        case.complete("decide_threshold", THRESHOLD_NOT_MET)
    assert case.task("record_appeal").due_on == date(2026, 11, 30)
    with time_machine.travel(london(2026, 11, 30, 10, 0), tick=False):
        case.complete("record_appeal", {**APPEAL, "appeal_received_on": "2026-11-27"})
        upheld = {"appeal_decision": "upheld", "appeal_findings": "Two complaints were missed."}
        case.complete("decide_appeal", {**upheld, "enforcement_tool_only": False})
    assert case.open_specs() == ["record_complaints"]
    assert case.task("record_complaints").due_on == date(2026, 12, 14)
    with time_machine.travel(london(2026, 12, 1, 0, 30), tick=False):
        assert case.fire_timers() == 0
    assert case.open_specs() == ["record_complaints"]
    with time_machine.travel(london(2026, 12, 2, 9, 0), tick=False):
        case.complete("record_complaints")
    assert case.task("decide_threshold").due_on == date(2026, 12, 14)
    with time_machine.travel(london(2026, 12, 15, 0, 30), tick=False):
        assert case.fire_timers() == 1  # the fresh decision still escalates once it is late
    assert case.open_specs() == ["decide_threshold", "handle_escalation"]
