"""Administrators' pages: add officers, change their role and agency, reset passwords, disable."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from trigger_workflow.errors import NotFound, TriggerWorkflowError
from trigger_workflow.services.accounts import (
    actors,
    authorities,
    officer_sessions,
    passwords,
    security_log,
    sign_in,
    throttle,
)
from trigger_workflow.services.accounts.actors import ADMINISTRATOR
from trigger_workflow.store.models import Authority, Officer
from trigger_workflow.web.acting import role_required
from trigger_workflow.web.database import get_session
from trigger_workflow.web.sign_in import client_address, hashing, settings
from trigger_workflow.web.sign_in import throttle as sign_in_throttle

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/officers", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def officers() -> tuple[str, int] | Response:
    """List officers, or add one with a role, an agency and a first password."""
    posted = _details()
    if request.method == "POST":
        try:
            password_hash = passwords.hash_password(
                request.form.get("password", ""), hashing(settings())
            )
            place = _posted_authority()
            actors.add_officer(
                get_session(),
                posted["username"],
                posted["display_name"],
                posted["role"],
                posted["agency"],
                password_hash,
                by=g.actor.username,
                address=client_address(),
                authority_id=None if place is None else place.id,
                county_wide=place is None,
            )
        except TriggerWorkflowError as error:
            get_session().rollback()
            return _list_page(error.message, posted), 422
        flash(f"Added {posted['username']}. Give them their password in person or by phone.")
        return redirect(url_for("admin.officers"))
    return _list_page(None, {}), 200


@bp.route("/officers/<username>", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def officer(username: str) -> tuple[str, int] | Response:
    """Show one officer, or change their name, role and agency."""
    account = _account(username)
    if request.method == "POST":
        posted = _details()
        try:
            actors.change_officer(
                get_session(),
                username,
                posted["display_name"],
                posted["role"],
                posted["agency"],
                **_by(),
            )
        except TriggerWorkflowError as error:
            get_session().rollback()
            return _officer_page(account, error.message), 422
        flash(f"Saved {username}'s details.")
        return redirect(url_for("admin.officer", username=username))
    return _officer_page(account, None), 200


@bp.post("/officers/<username>/password")
@role_required(ADMINISTRATOR)
def password(username: str) -> tuple[str, int] | Response:
    """Set a new password for an officer; their sessions end."""
    account = _account(username)
    try:
        new_hash = passwords.hash_password(request.form.get("password", ""), hashing(settings()))
    except TriggerWorkflowError as error:
        return _officer_page(account, error.message), 422
    actors.set_password_hash(get_session(), username, new_hash, **_by())
    flash(f"{username}'s password is changed; any session they had has ended.")
    return redirect(url_for("admin.officer", username=username))


@bp.post("/officers/<username>/disabled")
@role_required(ADMINISTRATOR)
def disabled(username: str) -> tuple[str, int] | Response:
    """Disable an officer (their sessions end at once) or enable them again."""
    account = _account(username)
    disable = request.form.get("disabled") == "true"
    if disable and username == g.actor.username:
        return _officer_page(account, "You cannot disable your own account."), 422
    actors.set_disabled(get_session(), username, disable, **_by())
    flash(f"{username} is {'disabled' if disable else 'enabled'}.")
    return redirect(url_for("admin.officer", username=username))


@bp.post("/officers/<username>/unlock")
@role_required(ADMINISTRATOR)
def unlock(username: str) -> Response:
    """Forget an officer's recent failed sign-ins, so they may try again at once from anywhere."""
    _account(username)
    sign_in.unlock(get_session(), username, **_by())
    flash(f"{username} may sign in again at once.")
    return redirect(url_for("admin.officer", username=username))


@bp.post("/officers/<username>/authority")
@role_required(ADMINISTRATOR)
def authority(username: str) -> tuple[str, int] | Response:
    """Give an officer their authority (or make them county-wide), and grant them others."""
    account = _account(username)
    try:
        place = _posted_authority()
        grants = [code for code in request.form.getlist("grants") if _serves(_authority_id(code))]
        authorities.set_officer_authority(
            get_session(),
            account,
            place.code if place else None,
            county_wide=place is None,
            grants=grants,
        )
    except TriggerWorkflowError as error:
        get_session().rollback()
        return _officer_page(account, error.message), 422
    officer_sessions.end_all(get_session(), username, officer_sessions.ROLE_CHANGED)
    security_log.record(
        get_session(), security_log.ROLE_CHANGED, actor=g.actor.username, subject=username,
        address=client_address(), detail=authorities.described(get_session(), account),
    )  # fmt: skip
    get_session().commit()
    flash(f"{username} now sees: {authorities.described(get_session(), account)}.")
    return redirect(url_for("admin.officer", username=username))


def _account(username: str) -> Officer:
    """Return an officer this administrator manages: one of their authorities' (else 404).

    A county-wide administrator manages everyone; an authority's administrator, its own staff.
    """
    account = actors.officer_account(get_session(), username)
    if g.actor.authorities is not None and (
        account.county_wide or account.authority_id not in g.actor.authorities
    ):
        raise NotFound(f"There is no officer '{username}'.")
    return account


def _serves(authority_id: int | None) -> bool:
    return g.actor.authorities is None or authority_id in g.actor.authorities


def _authority_id(code: str) -> int | None:
    return authorities.get(get_session(), code).id


def _posted_authority() -> Authority | None:
    """Return the authority chosen on the form; None for county-wide (county-wide admins only)."""
    code = request.form.get("authority", "")
    if code == COUNTY_WIDE:
        if g.actor.authorities is not None:
            raise TriggerWorkflowError(
                "Only a county-wide administrator may add county-wide officers."
            )
        return None
    if not code:
        mine = authorities.choices_for(get_session(), g.actor)
        if len(mine) == 1:  # a single-council install: no choice to make
            code = mine[0][0]
        else:
            raise TriggerWorkflowError("Choose the officer's authority, or county-wide.")
    found = authorities.get(get_session(), code)
    if not _serves(found.id):
        raise TriggerWorkflowError("Choose one of your authorities.")
    return found


COUNTY_WIDE = "county-wide"


def _by() -> dict[str, str]:
    """Return who is making a change, and from where, for the security log."""
    return {"by": g.actor.username, "address": client_address()}


def _details() -> dict[str, Any]:
    form = request.form
    return {
        "username": form.get("username", "").strip(),
        "display_name": form.get("display_name", ""),
        "role": form.get("role", ""),
        "agency": form.get("agency") or None,
    }


def _list_page(error: str | None, posted: dict[str, Any]) -> str:
    accounts = [
        a
        for a in actors.list_accounts(get_session())
        if g.actor.authorities is None
        or (not a.county_wide and a.authority_id in g.actor.authorities)
    ]
    return render_template(
        "admin/officers.html",
        accounts=accounts,
        error=error,
        posted=posted,
        places=_places(),
        described={a.id: authorities.described(get_session(), a) for a in accounts},
    )


def _places() -> list[tuple[str, str]]:
    """Return where an officer may belong, as (value, words): the authorities, county-wide."""
    places = [(code, name) for code, name, _ in authorities.choices_for(get_session(), g.actor)]
    if g.actor.authorities is None:
        places.append((COUNTY_WIDE, "County-wide: every authority (police, OPCC, county teams)"))
    return places


def _officer_page(account: Any, error: str | None) -> str:
    standing = throttle.standing(get_session(), account.username, sign_in_throttle(settings()))
    granted = {authorities.code_of(get_session(), grant.authority_id) for grant in account.granted}
    return render_template(
        "admin/officer.html",
        account=account,
        error=error,
        standing=standing,
        places=_places(),
        place=COUNTY_WIDE
        if account.county_wide
        else (account.authority.code if account.authority else ""),
        granted=granted,
        described=authorities.described(get_session(), account),
    )
