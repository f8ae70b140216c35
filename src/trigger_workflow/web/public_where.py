"""The public form's first question in a county: where does the behaviour happen?

A postcode is looked up in the county's table of postcode districts (shipped with the project);
where it names one council the application goes to it, else the applicant chooses. A
single-council install never asks.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from trigger_workflow.services.accounts import authorities
from trigger_workflow.services.applications import postcodes
from trigger_workflow.store.models import ApplicationDraft, Authority
from trigger_workflow.web.database import get_session

POSTCODE, CHOICE = "where_postcode", "where_authority"


def needs_asking(draft: ApplicationDraft) -> bool:
    """Return whether this application still has to say which council it is for."""
    if draft.authority_id is not None:
        return False
    return len(authorities.all_authorities(get_session())) > 1


def council_of(draft: ApplicationDraft) -> Authority | None:
    """Return the council chosen for this application, if the service serves several."""
    if draft.authority_id is None or len(authorities.all_authorities(get_session())) < 2:
        return None
    return get_session().get(Authority, draft.authority_id)


def answer(draft: ApplicationDraft, after: str) -> Any:
    """Show the question, or keep the council its answer names and go on to `after`."""
    everyone = authorities.all_authorities(get_session())
    if request.method == "GET":
        return _page(everyone, [], None, request.args.get(POSTCODE, ""))
    chosen = request.form.get(CHOICE)
    if chosen is not None:
        found = next((a for a in everyone if a.code == chosen), None)
        if found is None:
            return _page(everyone, everyone, "Choose the council where it happens", ""), 422
        return _keep(draft, found, after)
    postcode = request.form.get(POSTCODE, "").strip()
    if not postcode:
        return _page(everyone, [], "Enter the postcode where the behaviour happens", ""), 422
    if postcodes.district_of(postcode) is None:
        return _page(everyone, [], "Enter a real postcode, like DE1 2FS", postcode), 422
    codes = postcodes.councils_for(postcode)
    served = [a for a in everyone if a.code in codes]
    if len(served) == 1:
        return _keep(draft, served[0], after)
    # Unknown, or on a boundary: the applicant chooses (from the likely ones, or any).
    return _page(everyone, served or everyone, None, postcode)


def _keep(draft: ApplicationDraft, authority: Authority, after: str) -> Any:
    draft.authority_id = authority.id
    get_session().commit()
    return redirect(after)


def _page(
    everyone: list[Authority], choices: list[Authority], error: str | None, postcode: str
) -> str:
    return render_template(
        "public/where.html",
        choices=choices,
        others=[a for a in everyone if a not in choices],
        error=error,
        postcode=postcode,
        action=url_for("public.where", change=request.args.get("change")),
    )
