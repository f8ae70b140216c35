"""The older JSON API for a signed-in officer's session: read a case, complete a task, enter an
application. Kept for existing scripts; /api/v1 (web/api_v1/) is the supported API."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, request
from flask_wtf.csrf import generate_csrf

from trigger_workflow.errors import (
    FieldProblem,
    FormInvalid,
    NotSignedIn,
    TriggerWorkflowError,
)
from trigger_workflow.services.accounts import access, authorities
from trigger_workflow.services.casework import queries
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Event
from trigger_workflow.web.database import get_session

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/cases/<reference>")
def case(reference: str) -> dict[str, Any]:
    """Return a case's stage, status, open tasks and events."""
    _require_actor()
    page = queries.case_page(get_session(), reference)
    access.view_case(get_session(), g.actor, page.case, "JSON API case")
    return {
        "reference": page.case.reference,
        "status": page.case.status,
        "stage": page.case.stage,
        "outcome": page.case.outcome,
        "lock_version": page.case.lock_version,
        "open_tasks": [
            {
                "id": t.id,
                "task": t.task_spec,
                "name": t.name,
                "role": t.role,
                "agency": t.agency,
                "due_on": t.due_on.isoformat() if t.due_on else None,
                "assignee": t.assignee,
            }
            for t in page.open_tasks
        ],
        "events": [_event(page, e) for e in page.events],
    }


def _event(page: queries.CasePage, event: Event) -> dict[str, Any]:
    """Describe an event with only the answers the officer may read (R22); an answer kept from
    them says whose it was, not what it said."""
    readable = page.readable(g.actor, event)
    described = {
        "seq": event.seq,
        "kind": event.kind,
        "actor": event.actor,
        "task": event.task_spec,
        "data": readable.data,
        "at": event.occurred_at.isoformat(),
    }
    if readable.withheld:
        described["answers_withheld"] = readable.withheld
    return described


@bp.post("/cases/<reference>/tasks/<task_id>")
def complete(reference: str, task_id: str) -> tuple[dict[str, Any], int]:
    """Complete a task with a JSON body {"data": {...}}."""
    _require_actor()
    access.case_for(get_session(), g.actor, reference)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise TriggerWorkflowError(
            'Send a JSON object like {"data": {...}} with the task\'s answers.'
        )
    result = cases.complete_task(
        get_session(), cases.CompleteTask(reference, task_id, body["data"], g.actor)
    )
    return {
        "reference": result.reference,
        "status": result.status,
        "stage": result.stage,
        "outcome": result.outcome,
        "open_tasks": result.open_tasks,
        "incident": result.incident,
    }, 202 if result.incident else 200


@bp.get("/csrf-token")
def csrf_token() -> dict[str, Any]:
    """Return the session's CSRF token, to send back in the X-CSRFToken header of each POST."""
    return {"csrf_token": generate_csrf()}


@bp.post("/applications")
def apply() -> tuple[dict[str, Any], int]:
    """Enter an application received by phone, letter, email or in person (R2), as JSON.

    Body: {"data": {...the application form's answers...}, "received_on": "YYYY-MM-DD",
    "submission_key": "..."}; the same rules as the forms apply (R1), with errors by field.
    """
    _require_actor()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise TriggerWorkflowError(
            'Send a JSON object like {"data": {...}, "received_on": "2026-11-23"}.'
        )
    try:
        received_on = date.fromisoformat(body["received_on"]) if body.get("received_on") else None
    except (TypeError, ValueError) as error:
        raise FormInvalid(
            [FieldProblem(("received_on",), "Enter a date like 2026-11-23")]
        ) from error
    key = body.get("submission_key") if isinstance(body.get("submission_key"), str) else None
    code = body.get("authority")
    authority = authorities.get(get_session(), code).id if isinstance(code, str) else None
    result = cases.submit_application(
        get_session(), cases.SubmitApplication(body["data"], g.actor, key, received_on, authority)
    )
    return {"reference": result.reference, "status": result.status, "stage": result.stage}, 201


def _require_actor() -> None:
    if g.get("actor") is None:
        raise NotSignedIn("Sign in first (POST /sign-in), then send the session cookie.")
