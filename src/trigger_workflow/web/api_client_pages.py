"""Administrators' page for API clients: issue a named client a token, see when each was last
used, and revoke one (its next request is refused)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import api_clients, authorities
from trigger_workflow.services.accounts.actors import ADMINISTRATOR
from trigger_workflow.web.acting import role_required
from trigger_workflow.web.database import get_session
from trigger_workflow.web.sign_in import client_address

bp = Blueprint("api_clients", __name__, url_prefix="/admin/api-clients")
DEFAULT_DAYS = 90
COUNTY_WIDE = "county-wide"  # the choice a county-wide administrator has beside each council


@bp.route("", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def index() -> tuple[str, int]:
    """List API clients, or issue a new one and show its token once."""
    posted = _posted()
    if request.method == "POST":
        try:
            days = int(posted["days"]) if posted["days"].isdigit() else 0
            county_wide = posted["authority"] == COUNTY_WIDE and g.actor.authorities is None
            councils = _councils()
            chosen = posted["authority"] or (councils[0][0] if len(councils) == 1 else "")
            authority_id = authorities.by_code(councils, chosen)
            if authority_id is None and not county_wide:
                raise TriggerWorkflowError("Choose the council whose cases the client works on.")
            client, token = api_clients.issue(
                get_session(), posted["name"], posted["role"], posted["agency"], days,
                by=g.actor.username, address=client_address(), authority_id=authority_id,
                county_wide=county_wide,
            )  # fmt: skip
        except TriggerWorkflowError as error:
            get_session().rollback()
            return _page(error.message, posted), 422
        # The token is shown on this page only: never in a flash message (kept in the cookie).
        return _page(None, {}, issued=(client, token)), 201
    return _page(None, {}), 200


@bp.post("/<name>/revoke")
@role_required(ADMINISTRATOR)
def revoke(name: str) -> Response:
    """Revoke a client's token."""
    api_clients.revoke(
        get_session(), name, by=g.actor.username, address=client_address(), administrator=g.actor
    )
    flash(f"The API client {name} is revoked: its token is refused from now on.")
    return redirect(url_for("api_clients.index"))


def _posted() -> dict[str, Any]:
    form = request.form
    return {
        "name": form.get("name", "").strip(),
        "role": form.get("role", ""),
        "agency": form.get("agency") or None,
        "days": form.get("days", str(DEFAULT_DAYS)).strip(),
        "authority": form.get("authority", ""),
    }


def _councils() -> list[tuple[str, str, int]]:
    """Return the councils this administrator may issue clients for, as (code, name, id)."""
    return authorities.choices_for(get_session(), g.actor)


def _page(error: str | None, posted: dict[str, Any], issued: Any = None) -> str:
    return render_template(
        "admin/api_clients.html",
        clients=api_clients.list_clients(get_session(), g.actor),
        councils=_councils(),
        county_wide_allowed=g.actor.authorities is None,
        council_names={id_: name for _, name, id_ in _councils()},
        state=api_clients.state,
        client_roles=api_clients.ROLES,
        error=error,
        posted=posted,
        issued=issued,
        default_days=DEFAULT_DAYS,
    )
