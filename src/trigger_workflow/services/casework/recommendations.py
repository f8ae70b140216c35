"""Recommendations of a review (R16): recorded at the meeting, updated by their agency until done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trigger_workflow import schema_forms
from trigger_workflow.errors import FieldProblem, FormInvalid, NotFound, NotPermitted, TaskNotOpen
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import COORDINATOR, PARTNER, Actor
from trigger_workflow.services.tasks import records
from trigger_workflow.store.models import Case, Event, Recommendation, utcnow

MEETING_TASK = "hold_review_meeting"
DONE = "done"
PROGRESS_FORM: dict[str, Any] = {
    "title": "Update the recommendation's progress",
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "progress"],
    "properties": {
        "status": {
            "title": "Where it stands",
            "type": "string",
            "oneOf": [
                {"const": "in_progress", "title": "In progress"},
                {"const": DONE, "title": "Done"},
            ],
        },
        "progress": {
            "title": "What your agency has done",
            "type": "string",
            "minLength": 1,
            "maxLength": 5000,
        },
    },
}
PROGRESS_UI: dict[str, Any] = {
    "ui:order": ["status", "progress"],
    "status": {"ui:widget": "radio"},
    "progress": {"ui:widget": "textarea", "ui:options": {"rows": 5}},
}


@dataclass(frozen=True)
class UpdateProgress:
    """An agency officer's update to one recommendation."""

    recommendation_id: int
    data: dict[str, Any]
    actor: Actor


def after_task(
    session: Session, case: Case, task_spec: str, data: dict[str, Any], task_id: str = ""
) -> None:
    """Record the recommendations of a review meeting that has just been completed.

    The review round is the meeting's place among the case's meetings (1 for the first, 2 for
    the fresh review after an upheld appeal), counted from the completions recorded before this
    one; a round already recorded is never recorded again.
    """
    if task_spec != MEETING_TASK:
        return
    earlier_meetings = select(func.count(func.distinct(Event.task_id))).where(
        Event.case_id == case.id,
        Event.kind == "task_completed",
        Event.task_spec == MEETING_TASK,
        Event.task_id != task_id,
    )
    review = 1 + (session.scalar(earlier_meetings) or 0)
    recorded = select(Recommendation.id).where(
        Recommendation.case_id == case.id, Recommendation.review == review
    )
    if session.scalar(recorded.limit(1)) is not None:
        return
    for number, item in enumerate(data.get("recommendations") or [], start=1):
        session.add(
            Recommendation(
                case_id=case.id,
                review=review,
                number=number,
                agency=item["agency"],
                action=item["action"],
                target_date=date.fromisoformat(item["target_date"]),
                status="open",
            )
        )


def open_for(session: Session, actor: Actor) -> list[Recommendation]:
    """Return the recommendations not yet done that this officer may see: their agency's, or
    every one for the coordinator."""
    query = select(Recommendation).where(
        Recommendation.status != DONE,
        *access.of_visible_authorities(actor, Recommendation.case_id),
    )
    if actor.role == PARTNER:
        query = query.where(Recommendation.agency == actor.agency)
    elif actor.role != COORDINATOR:
        return []
    return list(session.scalars(query.order_by(Recommendation.target_date, Recommendation.id)))


def of_case(session: Session, case_id: int) -> list[Recommendation]:
    """Return a case's recommendations, by review and number."""
    query = select(Recommendation).where(Recommendation.case_id == case_id)
    return list(session.scalars(query.order_by(Recommendation.review, Recommendation.number)))


def get_for(session: Session, recommendation_id: int, actor: Actor) -> Recommendation:
    """Return a recommendation the officer may see, or raise NotFound / NotPermitted."""
    recommendation = session.get(Recommendation, recommendation_id)
    if recommendation is None:
        raise NotFound(f"There is no recommendation {recommendation_id}.")
    if not access.serves(actor, recommendation.case):  # another authority's: not there
        raise NotFound(f"There is no recommendation {recommendation_id}.")
    if actor.role == COORDINATOR:
        return recommendation
    if actor.role == PARTNER:
        access.require_case(session, actor, recommendation.case)  # another agency's case: 404
    if actor.role != PARTNER or actor.agency != recommendation.agency:
        raise NotPermitted(
            f"This recommendation belongs to {recommendation.agency}: only its officers update it."
        )
    return recommendation


def update_progress(session: Session, command: UpdateProgress) -> Recommendation:
    """Record the owning agency's progress on a recommendation, with an event on its case."""
    try:
        recommendation = _locked(session, command)
        _check(command.data)
        case = session.scalar(
            select(Case).where(Case.id == recommendation.case_id).with_for_update()
        )
        assert case is not None
        recommendation.status = command.data["status"]
        recommendation.progress = command.data["progress"]
        recommendation.updated_by = command.actor.username
        recommendation.updated_at = case.updated_at = utcnow()
        detail = {
            "recommendation": recommendation.id,
            "review": recommendation.review,
            "number": recommendation.number,
            "agency": recommendation.agency,
        }
        records.append_event(
            session, case, command.actor, "recommendation_updated", data=command.data, detail=detail
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return recommendation


def _locked(session: Session, command: UpdateProgress) -> Recommendation:
    recommendation = get_for(session, command.recommendation_id, command.actor)
    if command.actor.role != PARTNER:
        raise NotPermitted("Only the owning agency's officers update a recommendation's progress.")
    session.refresh(recommendation, with_for_update=True)
    if recommendation.status == DONE:
        raise TaskNotOpen(
            f"Recommendation {recommendation.number} is already done "
            f"({recommendation.updated_by}). Nothing you entered was saved."
        )
    return recommendation


def _check(data: dict[str, Any]) -> None:
    problems = [
        FieldProblem((name,), f"'{name}' is not a question on this form.")
        for name in data
        if name not in PROGRESS_FORM["properties"]
    ]
    problems += [
        FieldProblem(e.path, e.message) for e in schema_forms.validate(PROGRESS_FORM, data)
    ]
    if problems:
        raise FormInvalid(problems, raw=data)
