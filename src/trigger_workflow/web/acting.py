"""Choose which officer you act as (until sign-in arrives), and require one on officer pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from trigger_workflow.errors import NotFound
from trigger_workflow.services import actors
from trigger_workflow.web.database import get_session

bp = Blueprint("acting", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Load the acting officer before each request and offer it to templates."""

    @app.before_request
    def load_actor() -> None:
        g.actor = None
        username = session.get("username")
        if username:
            try:
                g.actor = actors.find_officer(get_session(), username)
            except NotFound:
                session.pop("username", None)

    @app.context_processor
    def actor_context() -> dict[str, Any]:
        return {"actor": g.get("actor"), "roles": actors.ROLES, "agencies": actors.AGENCIES}


def officer_required(view: F) -> F:
    """Send people who have not chosen an officer to the chooser first."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("actor") is None:
            return redirect(url_for("acting.choose", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.route("/act-as", methods=["GET", "POST"])
def choose() -> str | Response:
    """Pick the officer whose name every action is recorded under."""
    officers = actors.list_officers(get_session())
    if request.method == "POST":
        username = request.form.get("username", "")
        if username not in {o.username for o in officers}:
            return render_template(
                "acting/choose.html", officers=officers, error="Select who you are"
            )
        session.clear()
        session["username"] = username
        flash(f"You are acting as {username}.")
        return redirect(_local_path(request.args.get("next", "")) or url_for("tasks.inbox"))
    return render_template("acting/choose.html", officers=officers, error=None)


def _local_path(target: str) -> str | None:
    """Return the target if it is a path on this site, never a link elsewhere."""
    if not target.startswith("/") or target.startswith("//"):
        return None
    if any(c == "\\" or ord(c) < 32 for c in target) or urlsplit(target).netloc:
        return None
    return target


@bp.post("/act-as/stop")
def stop() -> Response:
    """Stop acting as an officer."""
    session.clear()
    return redirect(url_for("public.home"))
