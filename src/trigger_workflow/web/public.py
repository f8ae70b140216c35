"""The public side: the start page and the application form, no sign-in needed."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from trigger_workflow.services.accounts import actors
from trigger_workflow.services.casework import queries
from trigger_workflow.services.tasks import cases
from trigger_workflow.web import uploads
from trigger_workflow.web.database import get_session
from trigger_workflow.web.form_pages import FormState, reference_prefix

bp = Blueprint("public", __name__)
PUBLIC_UI = {"channel": {"ui:widget": "hidden"}}
ONLINE = {"channel": "online"}  # R2: the channel of the public form is recorded, never chosen


@bp.get("/")
def home() -> str:
    """Show the start page."""
    return render_template("public/home.html")


@bp.route("/apply", methods=["GET", "POST"])
def apply() -> Any:
    """Show the application form, or take an application and answer with its reference."""
    schema, ui_schema = queries.application_form(get_session())
    form = FormState(schema, _public_ui(ui_schema), data=dict(ONLINE), fixed=dict(ONLINE))
    key = request.form.get("submission_key") or secrets.token_urlsafe(16)
    upload_errors = uploads.receive_files(form, actors.PUBLIC) if request.method == "POST" else []
    if request.method == "POST" and form.read_post() and not (form.errors or upload_errors):
        prefix = reference_prefix(current_app)
        result = form.submit(
            lambda data: cases.submit_application(
                get_session(), cases.SubmitApplication(data, actors.PUBLIC, key, None, prefix)
            )
        )
        if result is not None:
            session["submitted_reference"] = result.reference
            return redirect(url_for("public.done"))
    form.errors += upload_errors
    page, status = form.render(
        "public/apply.html",
        heading="Apply for an anti-social behaviour case review",
        submit_text="Send application",
        hidden={"submission_key": key},
    )
    wait = uploads.retry_after()
    if wait is None:
        return page, status
    # Refused by the upload limits: the answers are kept on the page, the file is not.
    return page, 429, {"Retry-After": str(int(wait.total_seconds()))}


@bp.get("/apply/done")
def done() -> str | Response:
    """Show the reference of the application just sent."""
    reference = session.get("submitted_reference")
    if not reference:
        abort(404)
    return render_template("public/done.html", reference=reference)


def _public_ui(ui_schema: dict[str, Any] | None) -> dict[str, Any]:
    merged = dict(ui_schema or {})
    merged.update(PUBLIC_UI)
    return merged
