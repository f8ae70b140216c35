"""Demo officers and cases at every stage, so a newcomer sees the service working."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar
from trigger_workflow.samples import AGENCY_OFFICER, OFFICERS
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case, Officer

NAMES = [
    ("Alex Morgan", "DE1 1AA"),
    ("Sam Patel", "DE22 3BB"),
    ("Jo Williams", "DE23 8CC"),
    ("Chris Lee", "DE24 9DD"),
    ("Priya Shah", "DE21 4EE"),
    ("Dan Brown", "DE3 0FF"),
    ("Maria Nowak", "DE1 2GG"),
    ("Tom Hughes", "DE73 5HH"),
]


def application(name: str, postcode: str, received: date) -> dict[str, Any]:
    """Return a plausible application for the demo."""
    return {
        "channel": "online",
        "basis": "victim",
        "applicant": {
            "name": name,
            "address": "12 Example Road, Derby",
            "postcode": postcode,
            "email": f"{name.split()[0].lower()}@example.org",
            "preferred_contact": "email",
        },
        "asb_summary": "Repeated noise, shouting and intimidation from a neighbouring property.",
        "incidents": [
            {
                "behaviour_date": (received - timedelta(days=d)).isoformat(),
                "location": "Outside the front door",
                "what_happened": what,
                "reported_on": (received - timedelta(days=d - 1)).isoformat(),
                "reported_to": to,
            }
            for d, what, to in (
                (60, "Loud music after midnight", ["council"]),
                (30, "Shouting and threats", ["police", "housing_provider"]),
                (10, "Rubbish thrown into the garden", ["housing_provider"]),
            )
        ],
        "impact": "I am not sleeping and feel unsafe in my home.",
        "desired_outcome": "For the behaviour to stop and to feel safe again.",
        "consent_to_share": True,
        "declaration": True,
    }


ACK = {"named_contact": "Carol Coordinator", "acknowledgement_method": "email"}
PLAN: list[tuple[str, dict[str, Any], str | None]] = [
    ("acknowledge_application", ACK, None),
    ("record_complaints", {}, None),
    (
        "decide_threshold",
        {
            "threshold_outcome": "met",
            "threshold_basis": "discretion",
            "discretion_factors": ["persistence"],
            "threshold_reasons": "Repeated incidents over several months.",
        },
        None,
    ),
    ("choose_agencies", {"agencies": ["police", "housing"]}, None),
    (
        "answer_information_request",
        {
            "information_response": {
                "known_issues": "Reports logged and a visit made.",
                "action_taken": "Warning given.",
            }
        },
        "police",
    ),
    (
        "answer_information_request",
        {
            "information_response": {
                "known_issues": "Tenancy file shows two complaints.",
                "action_taken": "Letter to tenant.",
            }
        },
        "housing",
    ),
]
# Case n stops after this many steps of PLAN (so the demo shows every stage).
STOP_AFTER = [0, 1, 2, 3, 4, 5, 6, 2]


def load(session: Session, count: int, password_hash: str | None = None) -> list[str]:
    """Add the demo officers (once, with this password hash) and `count` demo cases."""
    for username, full_name, role, officer_agency in OFFICERS:
        officer = session.scalar(select(Officer).where(Officer.username == username))
        if officer is None:
            actors.add_officer(session, username, full_name, role, officer_agency, password_hash)
        elif officer.password_hash is None and password_hash is not None:
            actors.set_password_hash(session, username, password_hash, by="demo data")
    if (session.scalar(select(func.count()).select_from(Case)) or 0) >= count:
        return []
    carol = actors.find_officer(session, "carol")
    created = []
    for index in range(count):
        name, postcode = NAMES[index % len(NAMES)]
        received = calendar.today() - timedelta(days=2 * index)
        data = application(name, postcode, received)
        ack = dict(ACK, acknowledged_on=received.isoformat())
        result = cases.submit_application(
            session, cases.SubmitApplication(data, actors.PUBLIC, received_on=received)
        )
        steps = STOP_AFTER[index % len(STOP_AFTER)]
        for spec_name, answers, agency in PLAN[:steps]:
            actor = actors.find_officer(session, AGENCY_OFFICER[agency]) if agency else carol
            task = open_task(session, result.reference, spec_name, agency)
            given = ack if spec_name == "acknowledge_application" else answers
            cases.complete_task(session, cases.CompleteTask(result.reference, task, given, actor))
        created.append(result.reference)
    return created


def open_task(session: Session, reference: str, spec_name: str, agency: str | None) -> str:
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    for task in case.open_tasks:
        if task.task_spec == spec_name and (agency is None or task.agency == agency):
            return task.id
    raise LookupError(f"{reference} has no open task {spec_name}")
