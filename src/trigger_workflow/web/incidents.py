"""Incidents for process owners: cases held by a failing step, their details, retry and correction."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from trigger_workflow.errors import FieldProblem, FormInvalid
from trigger_workflow.services.process_owners import incidents, retry
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session

bp = Blueprint("incidents", __name__)


@bp.get("/incidents")
@officer_required
def index() -> str:
    """List the open incidents, oldest first."""
    rows = incidents.open_incidents(get_session(), g.actor)
    return render_template("incidents/index.html", rows=rows)


@bp.get("/incidents/<int:incident_id>")
@officer_required
def show(incident_id: int) -> str:
    """Show an incident: what failed, where, the answers kept, and what can be done."""
    incident = incidents.view(get_session(), incident_id, g.actor)
    return render_template("incidents/show.html", incident=incident, values="", errors=[])


@bp.post("/incidents/<int:incident_id>/retry")
@officer_required
def retry_step(incident_id: int) -> Any:
    """Run the failed step again."""
    result = retry.retry(get_session(), retry.RetryIncident(incident_id, g.actor))
    if result.incident:
        flash(f"The retry failed again: {result.incident}")
        return redirect(url_for("incidents.show", incident_id=incident_id))
    flash(f"Case {result.reference} continued. It is now at: {result.stage}.")
    return redirect(url_for("cases.show", reference=result.reference))


@bp.post("/incidents/<int:incident_id>/correct")
@officer_required
def correct(incident_id: int) -> Any:
    """Change values in the data the failed step runs with (a JSON object)."""
    text = request.form.get("values", "")
    try:
        values = _json_object(text)
        retry.correct_data(get_session(), retry.CorrectData(incident_id, values, g.actor))
    except FormInvalid as error:
        incident = incidents.get(get_session(), incident_id, g.actor)
        page = render_template(
            "incidents/show.html", incident=incident, values=text, errors=error.problems
        )
        return page, 422
    flash("The data was corrected and recorded in the case history. Retry when ready.")
    return redirect(url_for("incidents.show", incident_id=incident_id))


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormInvalid(
            [FieldProblem(("values",), f"Not valid JSON (line {error.lineno}): {error.msg}")]
        ) from None
    if not isinstance(value, dict):
        raise FormInvalid([FieldProblem(("values",), 'Enter a JSON object like {"name": value}.')])
    return value
