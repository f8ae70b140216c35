"""Officers' tasks: the list of open tasks and the page to complete one."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from trigger_workflow.engine import calendar
from trigger_workflow.services.accounts import access
from trigger_workflow.services.casework import agency_answers, queries
from trigger_workflow.services.process_owners import incidents
from trigger_workflow.services.tasks import cases
from trigger_workflow.services.tasks import inbox as inbox_service
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session
from trigger_workflow.web.form_pages import FormState

bp = Blueprint("tasks", __name__)
_instructions = SandboxedEnvironment(autoescape=True)
INBOX_LIMIT = 200  # until the inbox pages through its tasks


@bp.app_template_global()
def working_days_left(due_on: date) -> int:
    """Return working days from today until a due date: 0 is today, negative is overdue."""
    return calendar.working_days_between(calendar.today(), due_on)


@bp.get("/tasks")
@officer_required
def inbox() -> str:
    """List the acting officer's tasks: their own, their team's unclaimed, or all the team's."""
    query = inbox_service.InboxQuery.from_args(request.args, limit=INBOX_LIMIT)
    page = inbox_service.inbox(get_session(), g.actor, query)
    return render_template("tasks/inbox.html", page=page, limit=INBOX_LIMIT, inbox=inbox_service)


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@officer_required
def show(task_id: str) -> Any:
    """Show a task's form, or complete the task with what was entered."""
    if request.method == "POST":
        # Read and complete without restoring the workflow for display: that is only needed
        # when the form has to be shown again.
        task = queries.task_form(get_session(), task_id, g.actor)
        access.view_case(get_session(), g.actor, task.case, f"task '{task.task.name}'")
        form = FormState(task.schema, task.ui_schema)
        if form.read_post() and not form.errors:
            result = form.submit(
                lambda data: cases.complete_task(
                    get_session(), cases.CompleteTask(task.case.reference, task_id, data, g.actor)
                )
            )
            if result is not None and result.incident:
                flash(incidents.HELD_MESSAGE)
                return redirect(url_for("cases.show", reference=result.reference))
            if result is not None:
                flash(f"'{task.task.name}' is complete. The case is now at: {result.stage}.")
                return redirect(url_for("cases.show", reference=result.reference))
        return _render(form, queries.task_page(get_session(), task_id, g.actor))
    page = queries.task_page(get_session(), task_id, g.actor)
    access.view_case(get_session(), g.actor, page.case, f"task '{page.task.name}'")
    return _render(FormState(page.schema, page.ui_schema, data=_prefill(page)), page)


def _render(form: FormState, page: queries.TaskPage) -> tuple[str, int]:
    return form.render(
        "tasks/task.html",
        heading=page.task.name,
        submit_text="Save and continue",
        case=page.case,
        task=page.task,
        instructions=_render_instructions(page),
        agency_answers=agency_answers.for_task(page.task.task_spec, page.task.role, page.data),
        hidden={},
    )


def _prefill(page: queries.TaskPage) -> dict[str, Any]:
    """Start the form with any answers the case already holds for its questions."""
    names = page.schema.get("properties", {})
    return {k: v for k, v in page.data.items() if k in names}


def _render_instructions(page: queries.TaskPage) -> Markup | None:
    """Render the diagram's instructions over the case data, in a sandbox, escaped once."""
    if not page.instructions:
        return None
    try:
        return Markup(_instructions.from_string(page.instructions).render(**page.data))
    except Exception as error:  # a process owner's template: never let it break the task page
        current_app.logger.warning("Instructions of task %s failed: %s", page.task.id, error)
        return escape(f"(The instructions for this task could not be shown: {error})")
