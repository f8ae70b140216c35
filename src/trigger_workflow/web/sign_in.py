"""Officers sign in with a username and password, and sign out."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from trigger_workflow.services.accounts import (
    access,
    officer_sessions,
    passwords,
    security_log,
    sign_in,
)
from trigger_workflow.settings import Settings
from trigger_workflow.web.acting import ENDED, local_path, start_session
from trigger_workflow.web.database import get_session

bp = Blueprint("sign_in", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
def form() -> tuple[str, int] | tuple[str, int, dict[str, str]] | Response:
    """Show the sign-in form, or sign the officer in and go where they were going."""
    target = local_path(request.args.get("next", ""))
    if request.method == "GET":
        ended = g.pop(ENDED, False) or request.args.get("ended") == "1"
        return render_template("sign_in/form.html", error=None, ended=ended, username=""), 200
    username = request.form.get("username", "").strip()
    attempt = sign_in.SignIn(username, request.form.get("password", ""), client_address())
    try:
        signed_in = sign_in.sign_in(get_session(), attempt, throttle(settings()))
    except (sign_in.SignInRefused, sign_in.TooManyFailures) as error:
        page = render_template(
            "sign_in/form.html", error=error.message, ended=False, username=username
        )
        retry = error.context.get("retry_after")
        return page, error.status, {"Retry-After": str(retry)} if retry else {}
    start_session(signed_in)
    flash(f"You are signed in as {signed_in.actor.display_name or signed_in.actor.username}.")
    return redirect(target or url_for(access.home_for(signed_in.actor)))


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the officer's sessions on the server, everywhere, then forget the cookie."""
    actor = g.get("actor")
    if actor is not None:
        db = get_session()
        ended = officer_sessions.end_all(db, actor.username, officer_sessions.SIGNED_OUT)
        security_log.record(
            db, security_log.SIGNED_OUT, actor=actor.username, subject=actor.username,
            address=client_address(), detail=f"{ended} session(s) ended",
        )  # fmt: skip
        db.commit()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("public.home"))


def settings() -> Settings:
    """Return the application's settings."""
    found: Settings = current_app.extensions["trigger_workflow.settings"]
    return found


def throttle(settings: Settings) -> sign_in.Throttle:
    """Return the sign-in throttle and password hashing the settings ask for."""
    return sign_in.Throttle(
        max_failures=settings.sign_in_max_failures,
        address_max_failures=settings.sign_in_address_max_failures,
        window=timedelta(minutes=settings.sign_in_lockout_minutes),
        hashing=hashing(settings),
    )


def hashing(settings: Settings) -> passwords.Hashing:
    """Return the argon2 parameters the settings ask for."""
    return passwords.Hashing(settings.argon2_time_cost, settings.argon2_memory_kib)


def client_address() -> str:
    """Return the client's address (the proxy's view of it, when proxies are trusted)."""
    return request.remote_addr or "unknown"
