"""Claim, release and reassign tasks from the inbox, the task page and the case page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from trigger_workflow.services.tasks import claims
from trigger_workflow.web.acting import local_path, officer_required
from trigger_workflow.web.database import get_session

bp = Blueprint("claims", __name__)


@bp.post("/tasks/<task_id>/claim")
@officer_required
def claim(task_id: str) -> Any:
    """Take an unclaimed task; say who has it if someone was quicker."""
    result = claims.claim(get_session(), claims.ClaimTask(task_id, g.actor))
    flash(f"You have claimed '{result.task_name}' on case {result.reference}.")
    return redirect(_back() or url_for("tasks.show", task_id=task_id))


@bp.post("/tasks/<task_id>/release")
@officer_required
def release(task_id: str) -> Any:
    """Give back a task for anyone on the team to claim."""
    result = claims.release(get_session(), claims.ReleaseTask(task_id, g.actor))
    flash(f"You have released '{result.task_name}' on case {result.reference}.")
    return redirect(_back() or url_for("tasks.inbox", view="unclaimed"))


@bp.route("/tasks/<task_id>/reassign", methods=["GET", "POST"])
@officer_required
def reassign(task_id: str) -> Any:
    """Give a task to a named officer of its role and agency (coordinators)."""
    task, officers = claims.reassignment(get_session(), task_id, g.actor)
    error = None
    if request.method == "POST":
        to = request.form.get("to_username", "")
        if to:
            expected = request.form.get("expected_assignee") or None
            command = claims.ReassignTask(task_id, g.actor, to, expected)
            result = claims.reassign(get_session(), command)
            flash(f"'{result.task_name}' on case {result.reference} is now with {result.assignee}.")
            return redirect(url_for("cases.show", reference=result.reference))
        error = "Select who should do this task"
    return render_template(
        "claims/reassign.html", task=task, case=task.case, officers=officers, error=error
    ), (400 if error else 200)


def _back() -> str | None:
    return local_path(request.form.get("next", ""))
