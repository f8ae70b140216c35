"""A small JSON API over the same services: read a case, complete a task."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from trigger_workflow.errors import NotPermitted, TriggerWorkflowError
from trigger_workflow.services import cases, queries
from trigger_workflow.web.database import get_session

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/cases/<reference>")
def case(reference: str) -> dict[str, Any]:
    """Return a case's stage, status, open tasks and events."""
    _require_actor()
    page = queries.case_page(get_session(), reference)
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
        "events": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "actor": e.actor,
                "task": e.task_spec,
                "data": e.data,
                "at": e.occurred_at.isoformat(),
            }
            for e in page.events
        ],
    }


@bp.post("/cases/<reference>/tasks/<task_id>")
def complete(reference: str, task_id: str) -> tuple[dict[str, Any], int]:
    """Complete a task with a JSON body {"data": {...}}."""
    _require_actor()
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
    }, 200


def _require_actor() -> None:
    if g.get("actor") is None:
        raise NotPermitted("Choose who you act as first (POST /act-as).")
