"""Recommendations (R16): each agency's list, and the page to update one's progress."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from trigger_workflow.engine import calendar
from trigger_workflow.services.casework import recommendations
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session
from trigger_workflow.web.form_pages import FormState

bp = Blueprint("recommendations", __name__)


@bp.get("/recommendations")
@officer_required
def index() -> str:
    """List the recommendations not yet done that the acting officer's agency owns."""
    rows = recommendations.open_for(get_session(), g.actor)
    return render_template("recommendations/index.html", rows=rows, today=calendar.today())


@bp.route("/recommendations/<int:recommendation_id>", methods=["GET", "POST"])
@officer_required
def update(recommendation_id: int) -> Any:
    """Show a recommendation, or record its agency's progress on it."""
    session = get_session()
    recommendation = recommendations.get_for(session, recommendation_id, g.actor)
    form = FormState(recommendations.PROGRESS_FORM, recommendations.PROGRESS_UI)
    if request.method == "POST" and form.read_post() and not form.errors:
        done = form.submit(
            lambda data: recommendations.update_progress(
                session, recommendations.UpdateProgress(recommendation_id, data, g.actor)
            )
        )
        if done is not None:
            flash(f"Recommendation {done.number} of {done.case.reference} is updated.")
            return redirect(url_for("recommendations.index"))
    return form.render(
        "recommendations/update.html",
        heading=f"Recommendation {recommendation.number}",
        submit_text="Save progress",
        recommendation=recommendation,
        hidden={},
    )
