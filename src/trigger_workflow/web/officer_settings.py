"""An officer's notification settings page: their email address, and task emails on or off."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from trigger_workflow.errors import FormInvalid
from trigger_workflow.services.accounts import notification_settings
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session

bp = Blueprint("officer_settings", __name__)


@bp.route("/account/notifications", methods=["GET", "POST"])
@officer_required
def notifications() -> Response | tuple[str, int] | str:
    """Show the officer's notification settings; change them."""
    session = get_session()
    if request.method == "GET":
        current = notification_settings.settings_of(session, g.actor)
        return render_template(
            "account/notifications.html",
            email=current.email,
            task_emails=current.task_emails,
            saved=request.args.get("saved") == "1",
            error=None,
        )
    email = request.form.get("email", "")
    task_emails = request.form.get("task_emails") == "yes"
    try:
        notification_settings.change(session, g.actor, email, task_emails)
    except FormInvalid as error:
        page = render_template(
            "account/notifications.html",
            email=email,
            task_emails=task_emails,
            saved=False,
            error=error.problems[0].message,
        )
        return page, 422
    return redirect(url_for("officer_settings.notifications", saved=1))
