"""Cases along every path of the process, driven through the services (for the audit tests)."""

from __future__ import annotations

from datetime import date
from typing import Any

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from tests.test_rules_deadlines import london
from trigger_workflow.samples import (
    AGENCY_OFFICER,
    ANSWERS,
    APPEAL,
    APPEAL_CONFIRMED,
    APPLICATION,
    REJECTED,
    THRESHOLD_NOT_MET,
)
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case

# R19: the OPCC says whether the appeal rests only on an enforcement tool not used (it may be
# upheld only when it does not).
UPHELD = {
    "appeal_decision": "upheld",
    "appeal_findings": "The review did not hear the victim.",
    "enforcement_tool_only": False,
}
CONFIRMED = APPEAL_CONFIRMED
NO_RECOMMENDATIONS = dict(ANSWERS["hold_review_meeting"], recommendations=[])

Step = tuple[str, dict[str, Any], str | None]
FRONT: list[Step] = [
    ("acknowledge_application", ANSWERS["acknowledge_application"], None),
    ("record_complaints", ANSWERS["record_complaints"], None),
]
# Housing answers first: the replay must pair each recorded task with the right agency's.
REVIEW: list[Step] = [
    ("choose_agencies", ANSWERS["choose_agencies"], None),
    ("answer_information_request", ANSWERS["answer_information_request"], "housing"),
    ("answer_information_request", ANSWERS["answer_information_request"], "police"),
    ("hold_review_meeting", ANSWERS["hold_review_meeting"], None),
    ("send_outcome_notice", ANSWERS["send_outcome_notice"], None),
]
MET: list[Step] = [*FRONT, ("decide_threshold", ANSWERS["decide_threshold"], None)]
PATHS: dict[str, list[Step]] = {
    "waiting for acknowledgement": [],
    "threshold not met": [*FRONT, ("decide_threshold", THRESHOLD_NOT_MET, None)],
    "rejected": [*FRONT, ("decide_threshold", REJECTED, None)],
    "in review": [*MET, *REVIEW[:2]],
    "closed, no appeal": [*MET, *REVIEW, ("record_appeal", ANSWERS["record_appeal"], None)],
    "appeal upheld, fresh review, confirmed": [
        *MET,
        *REVIEW,
        ("record_appeal", APPEAL, None),
        ("decide_appeal", UPHELD, None),
        *REVIEW,
        ("record_appeal", APPEAL, None),
        ("decide_appeal", CONFIRMED, None),
    ],
}
ROLE_OFFICER = {"decide_appeal": "olu", "hold_review_meeting": "ingrid"}


def run_case(session: Session, steps: list[Step], received_on: date | None = None) -> str:
    """Submit the sample application and complete the steps; return the case reference."""
    result = cases.submit_application(
        session, cases.SubmitApplication(APPLICATION, actors.PUBLIC, received_on=received_on)
    )
    for spec_name, answers, agency in steps:
        username = AGENCY_OFFICER[agency] if agency else ROLE_OFFICER.get(spec_name, "carol")
        actor = actors.find_officer(session, username)
        task = open_task(session, result.reference, spec_name, agency)
        cases.complete_task(session, cases.CompleteTask(result.reference, task, answers, actor))
    return result.reference


def open_task(session: Session, reference: str, spec_name: str, agency: str | None) -> str:
    """Return the id of the case's open task of this kind (and agency)."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    session.refresh(case)
    for task in case.open_tasks:
        if task.task_spec == spec_name and (agency is None or task.agency == agency):
            return task.id
    raise AssertionError(f"{reference} has no open task {spec_name} ({agency})")


def every_path(session: Session) -> dict[str, str]:
    """Run one case along each path; return their references by path name."""
    return {name: run_case(session, steps) for name, steps in PATHS.items()}


def escalated_case(sessions: sessionmaker[Session]) -> ServiceCase:
    """A case received 23 December 2025 whose acknowledgement the worker escalated on 3 January
    2026 (R5); on 5 January the step and the escalation are done and the case runs to its close
    (threshold met on discretion, review, no appeal)."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        case.apply()
    with time_machine.travel(london(2026, 1, 3, 0, 1), tick=False):
        assert case.fire_timers() == 1
    with time_machine.travel(london(2026, 1, 5, 9, 0), tick=False):
        case.complete("acknowledge_application")
        case.complete("handle_escalation", {"escalation_action": "Took over the acknowledgement."})
        for step in ("record_complaints", "decide_threshold", "choose_agencies"):
            case.complete(step)
        for agency in ("housing", "police"):
            case.complete("answer_information_request", agency=agency)
        for step in ("hold_review_meeting", "send_outcome_notice", "record_appeal"):
            case.complete(step)
    return case
