"""Process owners check diagrams, decision tables and forms before deploying them."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from trigger_workflow.services.process_owners import validation
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session

bp = Blueprint("validate", __name__)


@bp.route("/processes/validate", methods=["GET", "POST"])
@officer_required
def upload() -> tuple[str, int]:
    """Show the upload form, or the problems found in the uploaded files."""
    if request.method == "GET":
        validation.require_process_owner(g.actor)
        return render_template("validate/upload.html", report=None, names=[]), 200
    uploaded = {f.filename: f.read() for f in request.files.getlist("files") if f and f.filename}
    report = validation.validate_against_latest(get_session(), uploaded, g.actor)
    status = 422 if report.errors else 200
    return render_template("validate/upload.html", report=report, names=sorted(uploaded)), status
