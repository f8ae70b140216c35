"""The law's checks on an officer's answers that a form's schema cannot express (R9-R19).

Each check reads the answers and the case's data so far, and refuses with a message shown beside
the field concerned; nothing is saved when one refuses. Checks return data they derive (for
example whether an appeal was late), which the engine gets beside the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from trigger_workflow.engine import calendar
from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import FieldProblem, FormInvalid
from trigger_workflow.services.accounts.actors import AGENCIES
from trigger_workflow.services.process_owners import processes

APPEAL_WINDOW_TASK = "record_appeal"
AGENCIES_TASK = "choose_agencies"
THRESHOLD_APPEALABLE = ("not_met", "rejected")  # R18: how the application was handled
SIGNPOSTS = {
    "complaints_procedure": "the complaints procedure",
    "housing_ombudsman": "the Housing Ombudsman",
    "reporting_routes": "the ways to report ASB",
}

Check = Callable[
    [processes.DeployedProcess, dict[str, Any], dict[str, Any], list[FieldProblem]],
    dict[str, Any],
]
# The data the checks read beside the case's: who can do the work (filled in by `check`).
STAFFED_AGENCIES = "_staffed_agencies"


def check(
    deployed: processes.DeployedProcess,
    task: engine.HumanTask,
    answers: dict[str, Any],
    staffed_agencies: Callable[[], Collection[str]] | None = None,
) -> dict[str, Any]:
    """Refuse answers that break a rule of the law; return the data the check derives.

    `staffed_agencies` returns the agencies that have an active partner officer (R14: an
    information request nobody can answer would stall the review); without it that is not checked.
    """
    rule = CHECKS.get(task.spec_name)
    if rule is None:
        return {}
    problems: list[FieldProblem] = []
    known = dict(task.data)
    if staffed_agencies is not None and task.spec_name == AGENCIES_TASK:
        known[STAFFED_AGENCIES] = frozenset(staffed_agencies())
    derived = rule(deployed, known, answers, problems)
    if problems:
        raise FormInvalid(problems, raw=answers)
    undeclared = set(derived) - DERIVES[task.spec_name]
    if undeclared:
        raise RuntimeError(f"The check of {task.spec_name} derives undeclared {sorted(undeclared)}")
    return derived


def _threshold(
    deployed: processes.DeployedProcess,
    known: dict[str, Any],
    answers: dict[str, Any],
    problems: list[FieldProblem],
) -> dict[str, Any]:
    """R9-R12: a met threshold says on what basis; staff complaints and unreported ASB signposted."""
    outcome = answers.get("threshold_outcome")
    basis = answers.get("threshold_basis")
    if outcome == "met":
        if basis is None:
            problems.append(
                FieldProblem(("threshold_basis",), "Say on what basis the threshold is met (R9)")
            )
        elif basis == "count" and not known.get("count_met"):
            number = known.get("threshold_number", 3)
            problems.append(
                FieldProblem(
                    ("threshold_basis",),
                    f"The count rule is not met (it needs {number} qualifying complaints): "
                    "decide on discretion, or record a senior officer's override (R9)",
                )
            )
        elif basis == "discretion" and not answers.get("discretion_factors"):
            problems.append(
                FieldProblem(
                    ("discretion_factors",),
                    "Select what the discretion rests on: persistence, harm, or the adequacy "
                    "of the response (R9)",
                )
            )
        elif basis == "vulnerable_victim_override" and not answers.get("override_officer"):
            problems.append(
                FieldProblem(
                    ("override_officer",),
                    "Enter the name of the senior officer who overrides for a vulnerable victim (R9)",
                )
            )
    elif basis is not None:
        problems.append(
            FieldProblem(("threshold_basis",), "Give a basis only when the threshold is met")
        )
    signposting = set(answers.get("signposting") or [])
    if answers.get("staff_conduct_concern"):
        _require_signposts(
            problems, signposting, ("complaints_procedure", "housing_ombudsman"), "R11"
        )
    if answers.get("unreported_asb"):
        _require_signposts(problems, signposting, ("reporting_routes",), "R12")
    decided = calendar.today()
    derived: dict[str, Any] = {
        "threshold_met": outcome == "met",
        "threshold_decided_on": decided.isoformat(),
    }
    if outcome in THRESHOLD_APPEALABLE:
        # R18: the applicant may appeal how the application was handled, from the decision day.
        derived["appeal_window_closes"] = appeal_window_closes(deployed, decided).isoformat()
    return derived


def _require_signposts(
    problems: list[FieldProblem], given: set[str], needed: tuple[str, ...], rule: str
) -> None:
    missing = [SIGNPOSTS[name] for name in needed if name not in given]
    if missing:
        problems.append(
            FieldProblem(
                ("signposting",), f"Signpost the applicant to {' and '.join(missing)} ({rule})"
            )
        )


def _review_meeting(
    deployed: processes.DeployedProcess,
    known: dict[str, Any],
    answers: dict[str, Any],
    problems: list[FieldProblem],
) -> dict[str, Any]:
    """R15: the chair is not from an agency under review, and declares no conflict of interest."""
    under_review = list(known.get("agencies") or [])
    chair_agency = answers.get("chair_agency")
    if chair_agency in under_review:
        problems.append(
            FieldProblem(
                ("chair_agency",),
                f"The chair is from {chair_agency}, an agency under review in this case "
                f"({', '.join(under_review)}): choose a chair independent of them (R15)",
            )
        )
    if answers.get("conflict_of_interest") is False:
        problems.append(
            FieldProblem(
                ("conflict_of_interest",),
                "A chair with a conflict of interest may not chair the review: choose another chair (R15)",
            )
        )
    return {}


def _appeal(
    deployed: processes.DeployedProcess,
    known: dict[str, Any],
    answers: dict[str, Any],
    problems: list[FieldProblem],
) -> dict[str, Any]:
    """R18: an appeal after the window needs the reason it was accepted."""
    if not answers.get("appeal_received"):
        return {"appeal_late": False}
    received = _date(answers.get("appeal_received_on"))
    sent, letter = window_opens(known)
    if received is None or sent is None:
        return {"appeal_late": False}
    if received < sent:
        problems.append(
            FieldProblem(
                ("appeal_received_on",),
                f"The appeal cannot arrive before the {letter} was sent ({sent:%d %B %Y})",
            )
        )
        return {}
    closes = appeal_window_closes(deployed, sent)
    late = received > closes
    if late and not (answers.get("late_appeal_reason") or "").strip():
        problems.append(
            FieldProblem(
                ("late_appeal_reason",),
                f"The appeal window closed on {closes:%d %B %Y}: enter why this late appeal "
                "is accepted (R18)",
            )
        )
    return {"appeal_late": late, "appeal_window_closes": closes.isoformat()}


def window_opens(known: dict[str, Any]) -> tuple[date | None, str]:
    """Return the day the appeal window opened and the letter that opened it (R18).

    An appeal against a threshold not met or an application rejected runs from the threshold
    decision; an appeal against a review runs from its outcome notice.
    """
    if known.get("threshold_outcome") in THRESHOLD_APPEALABLE:
        return _date(known.get("threshold_decided_on")), "threshold decision"
    return _date(known.get("outcome_sent_on")), "outcome notice"


def _outcome_notice(
    deployed: processes.DeployedProcess,
    known: dict[str, Any],
    answers: dict[str, Any],
    problems: list[FieldProblem],
) -> dict[str, Any]:
    """R17, R18: the outcome letter tells the applicant the last day they may appeal."""
    sent = _date(answers.get("outcome_sent_on"))
    return (
        {}
        if sent is None
        else {"appeal_window_closes": appeal_window_closes(deployed, sent).isoformat()}
    )


def _agencies(
    deployed: processes.DeployedProcess,
    known: dict[str, Any],
    answers: dict[str, Any],
    problems: list[FieldProblem],
) -> dict[str, Any]:
    """R14: every agency chosen has an active officer to answer its information request."""
    staffed = known.get(STAFFED_AGENCIES)
    if staffed is None:
        return {}
    unstaffed = [a for a in answers.get("agencies") or [] if a not in staffed]
    if unstaffed:
        names = ", ".join(AGENCIES.get(a, a) for a in unstaffed)
        problems.append(
            FieldProblem(
                ("agencies",),
                f"No active officer of {names} can answer an information request, so the review "
                "would wait for nobody: choose agencies that have one, or ask an administrator "
                "to add or enable an officer first (R14)",
            )
        )
    return {}


def appeal_window_closes(deployed: processes.DeployedProcess, outcome_sent_on: date) -> date:
    """Return the last day of the appeal window: working days from the outcome notice (R18)."""
    timescale = deployed.timescale(APPEAL_WINDOW_TASK)
    return calendar.add_working_days(outcome_sent_on, timescale.days if timescale else 20)


def _appeal_decision(
    deployed: processes.DeployedProcess,
    known: dict[str, Any],
    answers: dict[str, Any],
    problems: list[FieldProblem],
) -> dict[str, Any]:
    """R19: an appeal resting only on an enforcement tool not used cannot be upheld."""
    if answers.get("enforcement_tool_only") and answers.get("appeal_decision") == "upheld":
        problems.append(
            FieldProblem(
                ("appeal_decision",),
                "An appeal cannot be upheld only because a particular enforcement tool was "
                "not used (R19)",
            )
        )
    return {}


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


CHECKS: dict[str, Check] = {
    "decide_threshold": _threshold,
    "choose_agencies": _agencies,
    "send_outcome_notice": _outcome_notice,
    "hold_review_meeting": _review_meeting,
    "record_appeal": _appeal,
    "decide_appeal": _appeal_decision,
}
# The names each check may derive: the engine gets them beside the answers, so diagrams may read
# them (the names lint knows them). `check` refuses to return a name not listed here.
DERIVES: dict[str, frozenset[str]] = {
    "decide_threshold": frozenset(
        {"threshold_met", "threshold_decided_on", "appeal_window_closes"}
    ),
    "choose_agencies": frozenset(),
    "send_outcome_notice": frozenset({"appeal_window_closes"}),
    "hold_review_meeting": frozenset(),
    "record_appeal": frozenset({"appeal_late", "appeal_window_closes"}),
    "decide_appeal": frozenset(),
}
DERIVED_NAMES: frozenset[str] = frozenset().union(*DERIVES.values())
