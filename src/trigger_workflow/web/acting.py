"""Who is signed in: load the officer for each request, end stale sessions, require sign-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for

from trigger_workflow.errors import NotPermitted
from trigger_workflow.services.accounts import actors, officer_sessions, sign_in
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.web.database import get_session

F = TypeVar("F", bound=Callable[..., Any])
ENDED = "session_ended"  # set on g when a stale session was just ended


def init_app(app: Flask) -> None:
    """Load the signed-in officer before each request and offer it to templates."""

    @app.before_request
    def load_actor() -> None:
        g.actor = None
        if (request.endpoint or "").startswith("assets.") or "sid" not in session:
            return
        g.actor = _current_officer()

    @app.context_processor
    def actor_context() -> dict[str, Any]:
        return {"actor": g.get("actor"), "roles": actors.ROLES, "agencies": actors.AGENCIES}


def _current_officer() -> Actor | None:
    """Return the session's officer, or forget the cookie if its session has ended or lapsed."""
    found = officer_sessions.current(get_session(), str(session["sid"]), session_limits())
    if found is None:
        session.clear()
        g.session_ended = True
        return None
    return actors.officer_actor(found)


def session_limits() -> officer_sessions.Limits:
    """Return the idle and age limits the settings ask for."""
    settings = current_app.extensions["trigger_workflow.settings"]
    return officer_sessions.Limits(
        idle=timedelta(minutes=settings.session_idle_minutes),
        max_age=timedelta(hours=settings.session_max_hours),
    )


def start_session(signed_in: sign_in.SignedIn) -> None:
    """Begin a fresh session for the officer: nothing of the old one (or its CSRF token) is kept.

    The cookie holds only the session's random id; the server keeps (a hash of) it, so ending
    the session there ends every copy of the cookie.
    """
    token = officer_sessions.start(
        get_session(), signed_in.officer_id, signed_in.method, session_limits()
    )
    session.clear()
    session.permanent = True
    session["sid"] = token


def officer_required(view: F) -> F:
    """Send people who are not signed in to the sign-in page, coming back here afterwards."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("actor") is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else request.path
            if g.get(ENDED):
                return redirect(url_for("sign_in.form", next=target, ended=1))
            return redirect(url_for("sign_in.form", next=target))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def role_required(*roles: str) -> Callable[[F], F]:
    """Let only signed-in officers with one of these roles in; refuse others with 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.actor.role not in roles:
                names = " or ".join(actors.ROLES.get(r, r).lower() + "s" for r in roles)
                raise NotPermitted(f"Only {names} can use this page.")
            return view(*args, **kwargs)

        return officer_required(wrapped)  # type: ignore[return-value]

    return decorate


def local_path(target: str) -> str | None:
    """Return the target if it is a path on this site, never a link elsewhere."""
    if not target.startswith("/") or target.startswith("//"):
        return None
    if any(c == "\\" or ord(c) < 32 for c in target) or urlsplit(target).netloc:
        return None
    return target
