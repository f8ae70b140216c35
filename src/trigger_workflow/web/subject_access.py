"""Subject access requests (issue 13): find a person across the cases an auditor or administrator
serves, confirm the matches, and download what is held about them as JSON or PDF.

Every request is a POST (with its CSRF token): the values searched for are personal data and
never go into a URL, where access logs and browser history would keep them.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, render_template, request

from trigger_workflow.errors import FormInvalid
from trigger_workflow.services.privacy import subject_access, subject_access_files
from trigger_workflow.web.acting import role_required
from trigger_workflow.web.database import get_session
from trigger_workflow.web.sign_in import client_address

bp = Blueprint("subject_access", __name__, url_prefix="/data-protection/subject-access")
FORMATS = {"json": "JSON", "pdf": "PDF"}


@bp.get("")
@role_required(*subject_access.SUBJECT_ACCESS_ROLES)
def index() -> str:
    """Show the search form."""
    return _page(subject_access.PersonQuery())


@bp.post("")
@role_required(*subject_access.SUBJECT_ACCESS_ROLES)
def search() -> tuple[str, int]:
    """Find the person on the officer's cases and list the matches to confirm."""
    query = subject_access.PersonQuery.from_form(request.form)
    try:
        matches = subject_access.search(get_session(), g.actor, query, client_address())
    except FormInvalid as error:
        get_session().rollback()
        return _page(query, error=error), 422
    return _page(query, matches=matches), 200


@bp.post("/export")
@role_required(*subject_access.SUBJECT_ACCESS_ROLES)
def export() -> Response | tuple[str, int]:
    """Download what is held about the person on the confirmed cases."""
    query = subject_access.PersonQuery.from_form(request.form)
    fmt = request.form.get("format", "json")
    what = FORMATS.get(fmt, "JSON")
    chosen = request.form.getlist("chosen")
    session = get_session()
    try:
        done = subject_access.export(session, g.actor, query, chosen, what, client_address())
    except FormInvalid as error:
        session.rollback()
        matches = (
            subject_access.find_matches(session, g.actor, query.criteria()) if _any(query) else []
        )
        return _page(query, matches=matches, error=error), 422
    name = f"subject-access-{done.references[0]}{'-and-more' if len(done.references) > 1 else ''}"
    if what == "PDF":
        council = current_app.extensions["trigger_workflow.settings"].council_name
        body: str | bytes = subject_access_files.as_pdf(done.document, council)
        mimetype, name = "application/pdf", name + ".pdf"
    else:
        body, mimetype, name = (
            subject_access_files.as_json(done.document),
            "application/json",
            name + ".json",
        )
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _any(query: subject_access.PersonQuery) -> bool:
    return any(getattr(query, field) for field in subject_access.FIELDS)


def _page(
    query: subject_access.PersonQuery,
    matches: list[subject_access.Match] | None = None,
    error: FormInvalid | None = None,
) -> str:
    return render_template(
        "data_protection/subject_access.html",
        query=query,
        fields=subject_access.FIELDS,
        matches=matches,
        error=error,
    )
