"""Administrators' pages: add officers, change their role and agency, reset passwords, disable."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import actors, passwords, sign_in, throttle
from trigger_workflow.services.accounts.actors import ADMINISTRATOR
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
            actors.add_officer(get_session(), password_hash=password_hash, **posted, **_by())
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
    account = actors.officer_account(get_session(), username)
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
    account = actors.officer_account(get_session(), username)
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
    account = actors.officer_account(get_session(), username)
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
    actors.officer_account(get_session(), username)
    sign_in.unlock(get_session(), username, **_by())
    flash(f"{username} may sign in again at once.")
    return redirect(url_for("admin.officer", username=username))


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
    accounts = actors.list_accounts(get_session())
    return render_template("admin/officers.html", accounts=accounts, error=error, posted=posted)


def _officer_page(account: Any, error: str | None) -> str:
    standing = throttle.standing(get_session(), account.username, sign_in_throttle(settings()))
    return render_template("admin/officer.html", account=account, error=error, standing=standing)
