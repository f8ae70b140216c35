"""What each letter says: one builder per letter, from the case data the forms give (R5-R19).

Builders read only what is written for the applicant (reasons, the outcome summary, the
recommendations, the OPCC's findings), never an officer's notes. Every date a letter gives is
counted with the working-day calendar from the timescales of the case's process version, exactly
as the tasks' due dates and the late-appeal check count them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from trigger_workflow.engine import calendar
from trigger_workflow.services.accounts.actors import AGENCIES
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import rules
from trigger_workflow.store.models import Case

THRESHOLD_TASK = "decide_threshold"  # R13: its timescale is when the applicant hears the decision
LARGE_PRINT = "large_print"  # the application's `needs` value asking for large print


@dataclass(frozen=True)
class Appeal:
    """The appeal a letter offers (R18): what may be appealed, by when, and how long that is."""

    about_review: bool
    by: date
    working_days: int
    counted_from: date


def acknowledgement(
    data: dict[str, Any], case: Case, deployed: processes.DeployedProcess
) -> dict[str, Any]:
    """Build the acknowledgement (R5): reference, named contact, when the threshold is decided."""
    return {
        "subject": "We have received your application for an ASB case review",
        "received_on": case.received_on,
        "decision_by": due_on(deployed, THRESHOLD_TASK, case.received_on, calendar.today()),
    }


def threshold_decision(
    data: dict[str, Any], case: Case, deployed: processes.DeployedProcess
) -> dict[str, Any]:
    """Build the threshold decision (R13): met, not met with reasons, or rejected with the ground.

    A decision that ends the case without a review offers an appeal about how the application
    was handled (R18), with its deadline counted from the day of the decision.
    """
    outcome = data.get("threshold_outcome") or "not_met"
    subjects = {
        "met": "Your application meets the threshold for an ASB case review",
        "not_met": "Your application does not meet the threshold for an ASB case review",
        "rejected": "We cannot accept your application for an ASB case review",
    }
    # The rules branch's diagrams say which signposting applies (R11, R12); without that list,
    # every route is given whenever no review follows.
    chosen = data.get("signposting")
    if isinstance(chosen, list):
        signposting = [s for s in chosen if s in SIGNPOSTS]
    else:
        signposting = [] if outcome == "met" else list(SIGNPOSTS)
    return {
        "subject": subjects.get(outcome, subjects["not_met"]),
        "outcome": outcome,
        "reasons": text_of(data.get("threshold_reasons")),
        "ground": REJECTION_GROUNDS.get(data.get("rejection_ground") or "", ""),
        "signposting": signposting,
        "discretion": [
            DISCRETION_FACTORS[f]
            for f in data.get("discretion_factors") or []
            if f in DISCRETION_FACTORS
        ]
        if data.get("threshold_basis") == "discretion"
        else [],
        "appeal": None if outcome == "met" else appeal(deployed, calendar.today(), False),
    }


def outcome(
    data: dict[str, Any], case: Case, deployed: processes.DeployedProcess
) -> dict[str, Any]:
    """Build the outcome notice (R17) with the recommendations and the appeal deadline (R18)."""
    sent_on = date_of(data.get("outcome_sent_on")) or calendar.today()
    return {
        "subject": "The outcome of your ASB case review",
        "summary": text_of(data.get("outcome_summary")),
        "recommendations": [
            {
                "agency": AGENCIES.get(r.get("agency", ""), r.get("agency", "")),
                "action": text_of(r.get("action")),
                "target_date": date_of(r.get("target_date")),
            }
            for r in data.get("recommendations") or []
            if isinstance(r, dict)
        ],
        "appeal": appeal(deployed, sent_on, True),
    }


def appeal_decision(
    data: dict[str, Any], case: Case, deployed: processes.DeployedProcess
) -> dict[str, Any]:
    """Build the appeal decision (R19): confirmed, with what the applicant can do next, or upheld."""
    return {
        "subject": "The decision on your ASB case review appeal",
        "decision": data.get("appeal_decision") or "confirmed",
        "findings": text_of(data.get("appeal_findings")),
    }


def appeal(deployed: processes.DeployedProcess, counted_from: date, about_review: bool) -> Appeal:
    """Return the appeal a letter offers: the window of timescales.toml from `counted_from` (R18)."""
    closes = rules.appeal_window_closes(deployed, counted_from)
    return Appeal(
        about_review, closes, calendar.working_days_between(counted_from, closes), counted_from
    )


def due_on(
    deployed: processes.DeployedProcess, task: str, received: date, today: date
) -> date | None:
    """Return a task's due date as its timescale counts it, from receipt or from today."""
    timescale = deployed.timescale(task)
    if timescale is None:
        return None
    start = received if timescale.counted_from == "received" else today
    return calendar.add_working_days(start, timescale.days)


Builder = Callable[[dict[str, Any], Case, processes.DeployedProcess], dict[str, Any]]
BUILDERS: dict[str, Builder] = {
    "acknowledgement": acknowledgement,
    "threshold_decision": threshold_decision,
    "outcome": outcome,
    "appeal_decision": appeal_decision,
}
SIGNPOSTS = ("reporting_routes", "complaints_procedure", "housing_ombudsman")
DISCRETION_FACTORS = {
    "persistence": "how persistent the behaviour has been",
    "harm": "the harm, or potential harm, it causes",
    "response_adequacy": "whether the response to it so far has been adequate",
}
REJECTION_GROUNDS = {
    "prejudicial": "the application is prejudicial",
    "discriminatory": "the application is discriminatory",
    "malicious": "the application is malicious",
    "unreasonable": "the application is unreasonable",
    "vexatious": "the application is vexatious",
    "anonymous": "the application is anonymous",
    "incomplete": "the application is incomplete",
    "no_consent": "the application was made for someone else without their consent",
}


def text_of(value: Any) -> str:
    """Return a text answer trimmed, or "" for anything that is not text."""
    return value.strip() if isinstance(value, str) else ""


def date_of(value: Any) -> date | None:
    """Return an ISO date answer as a date, or None."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
