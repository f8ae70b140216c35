"""Track your case: reference, then a one-time code, then the case's stage and letters.

No account: once the code is right, the session cookie (signed) holds the case's id for
``VIEW_MINUTES``; nothing else of the case is kept in it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from trigger_workflow.services.applications import tracking
from trigger_workflow.services.mail import letters
from trigger_workflow.web.database import get_session
from trigger_workflow.web.sign_in import client_address

bp = Blueprint("tracking", __name__)
REFERENCE, TRACKED = "track_reference", "tracked_case"
VIEW_MINUTES = 30


def _limits() -> tracking.TrackingLimits:
    settings = current_app.extensions["trigger_workflow.settings"]
    return tracking.TrackingLimits(
        secret=settings.secret_key,
        code_lifetime=timedelta(minutes=settings.tracking_code_minutes),
        codes_per_reference=settings.tracking_codes_per_reference,
        requests_per_address=settings.tracking_requests_per_address,
    )


@bp.get("/track")
def start() -> str:
    """Ask for the reference."""
    return render_template("tracking/start.html", reference="", error=None)


@bp.post("/track")
def send_code() -> Response | tuple[str, int]:
    """Send a code if the reference is known (the answer never says whether it is)."""
    reference = tracking.normalised(request.form.get("reference", ""))
    if not reference:
        error = "Enter your reference, for example CT-2026-00001"
        return render_template("tracking/start.html", reference="", error=error), 422
    try:
        tracking.request_code(get_session(), reference, client_address(), _limits())
    except tracking.TooManyRequests as refused:
        return render_template(
            "tracking/start.html", reference=reference, error=refused.message
        ), 429
    session[REFERENCE] = reference
    return redirect(url_for("tracking.code"))


@bp.get("/track/code")
def code() -> Response | str:
    """Ask for the code."""
    if not session.get(REFERENCE):
        return redirect(url_for("tracking.start"))
    return _code_page(None)


@bp.post("/track/code")
def check_code() -> Response | tuple[str, int]:
    """Show the case if the code is right; one answer for every kind of wrong."""
    reference = session.get(REFERENCE)
    if not reference:
        return redirect(url_for("tracking.start"))
    entered = request.form.get("code", "")
    try:
        case = tracking.check_code(get_session(), reference, entered, client_address(), _limits())
    except tracking.TooManyRequests as refused:
        return _code_page(refused.message), 429
    if case is None:
        return _code_page("The code is wrong or has expired. Check it, or ask for a new code"), 422
    session.pop(REFERENCE, None)
    session[TRACKED] = {"case_id": case.id, "until": time.time() + VIEW_MINUTES * 60}
    return redirect(url_for("tracking.case"))


@bp.get("/track/case")
def case() -> Response | str:
    """Show the case's stage and the letters sent to the applicant."""
    case_id = _tracked_case_id()
    if case_id is None:
        return redirect(url_for("tracking.start"))
    response = make_response(
        render_template("tracking/case.html", tracked=tracking.tracked(get_session(), case_id))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/track/letters/<int:letter_id>")
def letter(letter_id: int) -> Response:
    """Download one of the letters sent to the applicant, as a PDF."""
    case_id = _tracked_case_id()
    if case_id is None:
        abort(404)
    db = get_session()
    found = tracking.sent_letter(db, case_id, letter_id)
    if found is None:
        abort(404)
    pdf = letters.ensure_pdf(db, found)
    db.commit()
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{found.kind.replace("_", "-")}-{found.id}.pdf"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/track/finish")
def finish() -> Response:
    """Stop showing the case on this device."""
    session.pop(TRACKED, None)
    session.pop(REFERENCE, None)
    return redirect(url_for("tracking.start"))


def _code_page(error: str | None) -> str:
    return render_template(
        "tracking/code.html",
        reference=session.get(REFERENCE, ""),
        error=error,
        minutes=current_app.extensions["trigger_workflow.settings"].tracking_code_minutes,
    )


def _tracked_case_id() -> int | None:
    tracked: Any = session.get(TRACKED)
    if not isinstance(tracked, dict) or float(tracked.get("until", 0)) < time.time():
        session.pop(TRACKED, None)
        return None
    case_id = tracked.get("case_id")
    return case_id if isinstance(case_id, int) else None
