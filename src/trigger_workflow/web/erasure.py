"""Erasure on request (issue 13): an administrator of the case's authority erases one person's data.

Three steps on one page: choose whose data and give the reason; see what will be removed (the
counts of a rolled-back erasure) and confirm; the page then lists the case's erasures. Another
authority's administrator is told the case is not there (404).
"""

from __future__ import annotations

from pathlib import Path
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
from werkzeug.wrappers import Response

from trigger_workflow.services.accounts.actors import ADMINISTRATOR
from trigger_workflow.services.privacy import erasures, personal_data
from trigger_workflow.store.models import Case
from trigger_workflow.web.acting import role_required
from trigger_workflow.web.database import get_session

bp = Blueprint("erasure", __name__)
CONFIRMED_OPEN = "open_case_confirmed"


@bp.get("/admin/erasure")
@role_required(ADMINISTRATOR)
def start() -> str | Response:
    """Ask for the case whose personal data a person asked to be erased; go to its page."""
    reference = request.args.get("reference", "").strip().upper()
    if reference:
        return redirect(url_for("erasure.erase", reference=_case(reference).reference))
    return render_template("cases/erase_start.html")


@bp.route("/cases/<reference>/erase", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def erase(reference: str) -> tuple[str, int] | str | Response:
    """Choose whose data to erase and why; confirm after seeing the counts; erase."""
    case = _case(reference)
    if request.method == "GET":
        return _page(case, [], "")
    chosen = [s for s in request.form.getlist("subjects") if s in personal_data.SUBJECTS]
    reason = request.form.get("reason", "")
    confirmed = request.form.get(CONFIRMED_OPEN) == "yes"
    try:
        erasures.check(case, set(chosen), erasures.REQUEST, reason, True)
        if request.form.get("action") != "erase":
            counts = erasures.preview(
                get_session(), case, chosen, under=erasures.REQUEST, instance_path=_instance()
            )
            return _page(case, chosen, reason, counts=counts)
        erasures.erase(
            get_session(), case, chosen, under=erasures.REQUEST, reason=reason, actor=g.actor,
            instance_path=_instance(), open_case_confirmed=confirmed,
        )  # fmt: skip
    except erasures.ErasureRefused as error:
        get_session().rollback()
        return _page(_case(reference), chosen, reason, error=error.message), error.status
    names = ", ".join(personal_data.SUBJECT_NAMES[s] for s in sorted(chosen))
    flash(f"The personal data of {names} on case {reference} was erased.")
    return redirect(url_for("erasure.erase", reference=reference))


def _case(reference: str) -> Case:
    """Return the case if this administrator serves its authority; another's is not there."""
    return erasures.case_of(get_session(), g.actor, reference)


def _instance() -> Path:
    return Path(current_app.extensions["trigger_workflow.settings"].instance_path)


def _page(
    case: Case,
    chosen: list[str],
    reason: str,
    *,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
) -> str:
    session = get_session()
    return render_template(
        "cases/erase.html",
        case=case,
        subjects=erasures.subjects_of(session, case),
        names=personal_data.SUBJECT_NAMES,
        chosen=chosen,
        reason=reason,
        counts=counts,
        error=error,
        done=erasures.of_case(session, case.id),
        needs_confirmation=case.status != "closed" and personal_data.APPLICANT in chosen,
        confirmed_field=CONFIRMED_OPEN,
    )
