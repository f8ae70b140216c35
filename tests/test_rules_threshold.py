"""R6-R13: the threshold decision, driven through the real diagrams and decision table."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
import time_machine
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from tests.test_rules_deadlines import london
from trigger_workflow.engine.script_functions import count_qualifying_complaints
from trigger_workflow.errors import DiagramError, FormInvalid
from trigger_workflow.samples import APPLICATION, OFFICERS
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes

RECEIVED = london(2026, 11, 20, 10, 0)


def incident(
    behaviour: str, reported: str, to: str = "council", where: str = "Flat 2"
) -> dict[str, Any]:
    """Return one incident as the application form records it."""
    return {
        "behaviour_date": behaviour,
        "location": where,
        "what_happened": "Shouting and loud music",
        "reported_on": reported,
        "reported_to": to,
    }


def application(*incidents: dict[str, Any]) -> dict[str, Any]:
    """Return the sample application with these incidents."""
    data = copy.deepcopy(APPLICATION)
    # The application form asks to whom each incident was reported as a list (several agencies).
    data["incidents"] = [dict(i, reported_to=[i["reported_to"]]) for i in incidents]
    return data


THREE_QUALIFYING = application(
    incident("2026-08-01", "2026-08-02"),
    incident("2026-09-10", "2026-09-30", "police"),
    incident("2026-10-05", "2026-10-06", "housing_provider"),
)


def to_threshold_decision(
    sessions: sessionmaker[Session], data: dict[str, Any], agency_incidents: list[Any] | None = None
) -> ServiceCase:
    """Apply on 20 November 2026 and run the case to its threshold decision."""
    case = ServiceCase(sessions)
    with time_machine.travel(RECEIVED, tick=False):
        case.apply(data=data)
        case.complete("acknowledge_application")
        case.complete("record_complaints", {"agency_incidents": agency_incidents or []})
    return case


def refused(case: ServiceCase, spec: str, answers: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    """Complete a task expecting a refusal; return the problems by field, the case unchanged."""
    before = len(case.events())
    with pytest.raises(FormInvalid) as refusal:
        case.complete(spec, answers)
    assert len(case.events()) == before
    return {p.path: p.message for p in refusal.value.problems}


def decide(outcome: str, **answers: Any) -> dict[str, Any]:
    """Return answers for the threshold decision."""
    return {"threshold_outcome": outcome, "threshold_reasons": "Reasons given.", **answers}


def test_r6_three_qualifying_complaints_meet_the_count(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R6: three complaints, each within a month of the behaviour and within six months of the
    application, meet the count; the threshold is met on the count and the review starts."""
    case = to_threshold_decision(sessions, THREE_QUALIFYING)
    data = case.data("decide_threshold")
    assert (data["count_met"], data["threshold_number"]) == (True, 3)
    case.complete("decide_threshold", decide("met", threshold_basis="count"))
    assert case.open_specs() == ["choose_agencies"]


def test_r6_complaints_outside_the_windows_do_not_count(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R6: a complaint made more than a month after the behaviour, and one made more than six
    months before the application, do not qualify: two of four count, so the count is not met."""
    data = application(
        incident("2026-09-01", "2026-09-02"),
        incident("2026-10-01", "2026-10-02", "police"),
        incident("2026-06-01", "2026-07-15"),  # reported six weeks after the behaviour
        incident("2026-05-01", "2026-05-10", "police"),  # more than six months before 20 November
    )
    case = to_threshold_decision(sessions, data)
    assert case.data("decide_threshold")["count_met"] is False
    problems = refused(case, "decide_threshold", decide("met", threshold_basis="count"))
    assert (
        "The count rule is not met (it needs 3 qualifying complaints)"
        in problems[("threshold_basis",)]
    )


def test_r6_incidents_the_agencies_hold_count_too(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R6: it does not matter to whom an incident was reported: one the coordinator finds in the
    landlord's records makes two qualifying complaints three."""
    data = application(incident("2026-09-01", "2026-09-02"), incident("2026-10-01", "2026-10-02"))
    case = to_threshold_decision(
        sessions, data, [incident("2026-10-20", "2026-10-21", "housing_provider")]
    )
    assert case.data("decide_threshold")["count_met"] is True


def test_r7_one_incident_reported_to_several_agencies_counts_once(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R7: the same night's incident reported to the council, the police and the landlord is one
    complaint: with one other incident the count is two, not met."""
    data = application(
        incident("2026-09-01", "2026-09-02", "council"),
        incident("2026-09-01", "2026-09-01", "police", where=" flat  2"),
        incident("2026-09-01", "2026-09-03", "housing_provider"),
        incident("2026-10-01", "2026-10-02"),
    )
    assert count_qualifying_complaints(data["incidents"], "2026-11-20", 1, 6) == 2
    case = to_threshold_decision(sessions, data)
    assert case.data("decide_threshold")["count_met"] is False


def test_r7_an_incident_reported_to_the_police_and_the_landlord_is_one_complaint(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R7: one incident reported to several agencies (a list) is one complaint; an older case's
    incidents with a single agency still count: two and one make three, the count met."""
    both = dict(incident("2026-09-01", "2026-09-02"), reported_to=["police", "housing_provider"])
    older = [incident("2026-10-01", "2026-10-02"), incident("2026-10-20", "2026-10-21", "police")]
    assert count_qualifying_complaints([both, *older], "2026-11-20", 1, 6) == 3
    assert count_qualifying_complaints([both, both], "2026-11-20", 1, 6) == 1
    data = application(incident("2026-10-01", "2026-10-02"), incident("2026-10-20", "2026-10-21"))
    data["incidents"].append(both)
    case = to_threshold_decision(sessions, data)
    assert case.data("decide_threshold")["count_met"] is True


def deploy_with_table(sessions: sessionmaker[Session], files: dict[str, str]) -> None:
    """Deploy these files and add the demo officers."""
    with sessions() as session:
        processes.deploy(session, processes.loader.ProcessFiles(files), "owen")
        for username, name, role, agency in OFFICERS:
            actors.add_officer(session, username, name, role, agency)


def test_r8_a_table_needing_more_than_three_is_refused_naming_file_and_rule(
    process_files: processes.loader.ProcessFiles,
) -> None:
    """R8: a process owner who sets the local number to 4 is refused at deploy, with the file,
    the decision table and the statutory maximum named."""
    files = dict(process_files.files)
    files["threshold.dmn"] = files["threshold.dmn"].replace(
        "&gt;= local_threshold_number", "&gt;= 4"
    )
    with pytest.raises(DiagramError) as refusal:
        processes.check(processes.loader.ProcessFiles(files))
    [problem] = refusal.value.problems
    assert (problem.file, problem.element_id) == ("threshold.dmn", "threshold_count_table")
    assert "needs 4 qualifying complaints" in problem.message
    assert "at most 3" in problem.message and "R8" in problem.message


def test_r8_a_table_that_never_meets_the_count_is_refused(
    process_files: processes.loader.ProcessFiles,
) -> None:
    """R8: a table whose rules never say the count is met is refused too."""
    files = dict(process_files.files)
    files["threshold.dmn"] = files["threshold.dmn"].replace(
        "<text>True</text>", "<text>False</text>"
    )
    with pytest.raises(DiagramError, match="needs no number of qualifying complaints"):
        processes.check(processes.loader.ProcessFiles(files))


def test_r8_a_lower_local_number_is_used(
    sessions: sessionmaker[Session], process_files: processes.loader.ProcessFiles
) -> None:
    """R8: a county that writes the number 2 into its table deploys, and two qualifying complaints
    meet the count in every council that runs that version."""
    files = dict(process_files.files)
    files["threshold.dmn"] = (
        files["threshold.dmn"]
        .replace("&gt;= local_threshold_number", "&gt;= 2")
        .replace("<text>local_threshold_number</text>", "<text>2</text>")
    )
    deploy_with_table(sessions, files)
    data = application(incident("2026-09-01", "2026-09-02"), incident("2026-10-01", "2026-10-02"))
    case = to_threshold_decision(sessions, data)
    decided = case.data("decide_threshold")
    assert (decided["count_met"], decided["threshold_number"]) == (True, 2)


def test_r8_the_windows_are_the_tables_to_change(
    sessions: sessionmaker[Session], process_files: processes.loader.ProcessFiles
) -> None:
    """R8: an area allowing two months between behaviour and complaint counts a complaint made
    six weeks after the behaviour, which the default one-month window does not."""
    files = dict(process_files.files)
    files["threshold.dmn"] = files["threshold.dmn"].replace(
        "received_on, 1, local_window_months)", "received_on, 2, local_window_months)"
    )
    deploy_with_table(sessions, files)
    data = application(
        incident("2026-09-01", "2026-09-02"),
        incident("2026-10-01", "2026-10-02"),
        incident("2026-06-01", "2026-07-15"),
    )
    case = to_threshold_decision(sessions, data)
    assert case.data("decide_threshold")["count_met"] is True


def test_r9_discretion_meets_the_threshold_with_its_factors_recorded(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R9: the count is not met, but the coordinator decides the threshold is met on persistence
    and harm; the basis and factors are recorded and the review starts."""
    case = to_threshold_decision(sessions, application(incident("2026-10-01", "2026-10-02")))
    answers = decide(
        "met", threshold_basis="discretion", discretion_factors=["persistence", "harm"]
    )
    case.complete("decide_threshold", answers)
    assert case.open_specs() == ["choose_agencies"]
    [event] = [e for e in case.events("task_completed") if e.task_spec == "decide_threshold"]
    assert event.data["discretion_factors"] == ["persistence", "harm"]
    assert case.data("choose_agencies")["threshold_met"] is True


def test_r9_discretion_without_factors_and_override_without_officer_are_refused(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R9: discretion must say what it rests on; a vulnerable-victim override must name the senior
    officer; a met threshold says on what basis."""
    case = to_threshold_decision(sessions, application(incident("2026-10-01", "2026-10-02")))
    problems = refused(case, "decide_threshold", decide("met", threshold_basis="discretion"))
    assert "persistence, harm, or the adequacy" in problems[("discretion_factors",)]
    problems = refused(
        case, "decide_threshold", decide("met", threshold_basis="vulnerable_victim_override")
    )
    assert "senior officer" in problems[("override_officer",)]
    problems = refused(case, "decide_threshold", decide("met"))
    assert "on what basis" in problems[("threshold_basis",)]


def test_r9_a_basis_left_from_met_is_dropped_when_the_threshold_is_not_met(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R9: the basis is asked only when the threshold is met: given with "not met" (a stale answer
    from a corrected choice) it is dropped, not refused and not recorded."""
    case = to_threshold_decision(sessions, application(incident("2026-10-01", "2026-10-02")))
    case.complete(
        "decide_threshold",
        decide("not_met", threshold_basis="count", discretion_factors=["harm"]),
    )
    answers = case.data("record_appeal")  # R18: a not-met case waits for an appeal
    assert answers["threshold_outcome"] == "not_met"
    assert "threshold_basis" not in answers and "discretion_factors" not in answers


def test_r9_senior_officer_override_for_a_vulnerable_victim(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R9: a senior officer overrides for a vulnerable victim; the officer is recorded."""
    case = to_threshold_decision(sessions, application(incident("2026-10-01", "2026-10-02")))
    answers = decide(
        "met", threshold_basis="vulnerable_victim_override", override_officer="Sam Senior"
    )
    case.complete("decide_threshold", answers)
    assert case.data("choose_agencies")["override_officer"] == "Sam Senior"


@pytest.mark.parametrize(
    "ground",
    [
        "prejudicial",
        "discriminatory",
        "malicious",
        "unreasonable",
        "vexatious",
        "anonymous",
        "incomplete",
        "no_consent",
    ],
)
def test_r10_rejection_on_each_ground_ends_the_case_with_the_reason(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, ground: str
) -> None:
    """R10: an application rejected on any of the grounds closes at 'Application rejected', with
    the ground and the reason recorded on the decision."""
    case = to_threshold_decision(sessions, THREE_QUALIFYING)
    case.complete("decide_threshold", decide("rejected", rejection_ground=ground))
    case.complete("record_appeal", {"appeal_received": False})  # R18: no appeal
    final = case.state()
    assert (final.status, final.outcome) == ("closed", "Application rejected")
    assert case.final_data()["rejection_ground"] == ground
    assert case.final_data()["threshold_reasons"] == "Reasons given."


def test_r10_rejection_needs_a_ground(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R10: rejecting without a ground is refused beside the ground's field."""
    case = to_threshold_decision(sessions, THREE_QUALIFYING)
    problems = refused(case, "decide_threshold", decide("rejected"))
    assert ("rejection_ground",) in problems


def test_r11_a_complaint_about_staff_is_signposted_to_complaints_and_the_ombudsman(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R11: a concern about how staff behaved must be signposted to the complaints procedure and
    the Housing Ombudsman; with both, the decision (not met) closes the case with the signposting."""
    case = to_threshold_decision(sessions, application(incident("2026-10-01", "2026-10-02")))
    answers = decide("not_met", staff_conduct_concern=True, signposting=["complaints_procedure"])
    problems = refused(case, "decide_threshold", answers)
    assert problems[("signposting",)] == "Signpost the applicant to the Housing Ombudsman (R11)"
    answers["signposting"] = ["complaints_procedure", "housing_ombudsman"]
    case.complete("decide_threshold", answers)
    case.complete("record_appeal", {"appeal_received": False})  # R18: no appeal
    assert case.state().outcome == "Threshold not met"
    assert case.final_data()["signposting"] == ["complaints_procedure", "housing_ombudsman"]


def test_r12_unreported_asb_is_signposted_to_the_reporting_routes(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R12: ASB not yet reported must be signposted to the ways to report it first."""
    case = to_threshold_decision(sessions, application(incident("2026-10-01", "2026-10-02")))
    answers = decide("not_met", unreported_asb=True)
    problems = refused(case, "decide_threshold", answers)
    assert "the ways to report ASB (R12)" in problems[("signposting",)]
    case.complete("decide_threshold", {**answers, "signposting": ["reporting_routes"]})
    case.complete("record_appeal", {"appeal_received": False})  # R18: no appeal
    assert case.state().outcome == "Threshold not met"


def test_r13_the_decision_and_its_reasons_are_recorded_for_the_letter(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R13: the decide_threshold completion carries what the applicant's letter needs: outcome,
    reasons, and (beside the answers) whether the threshold is met and the count rule's verdict."""
    case = to_threshold_decision(sessions, THREE_QUALIFYING)
    with time_machine.travel(RECEIVED, tick=False):
        case.complete("decide_threshold", decide("met", threshold_basis="count"))
    [event] = [e for e in case.events("task_completed") if e.task_spec == "decide_threshold"]
    assert event.data == decide("met", threshold_basis="count")
    data = case.data("choose_agencies")
    assert (data["threshold_met"], data["count_met"], data["received_on"]) == (
        True,
        True,
        "2026-11-20",
    )
    assert date.fromisoformat(data["received_on"]) == RECEIVED.date()
