"""Who calls /api/v1: a system with a bearer token, or a signed-in officer's browser session
(which keeps its CSRF check); every call is logged with who made it."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, g, request
from werkzeug.wrappers import Response

from trigger_workflow.errors import NotSignedIn
from trigger_workflow.services.accounts import api_clients
from trigger_workflow.web.database import get_session
from trigger_workflow.web.security import csrf

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
logger = logging.getLogger("trigger_workflow.api")
PUBLIC = {"api_v1.openapi"}
SAFE = {"GET", "HEAD", "OPTIONS"}


def init_app(app: Flask) -> None:
    """Let bearer-token requests through without CSRF: the blueprint checks it for cookies."""
    from trigger_workflow.web.api_v1 import views  # noqa: F401  (registers the views)

    csrf.exempt(bp)


@bp.before_request
def authenticate() -> None:
    """Take the client from the bearer token, else the officer from the session (with CSRF)."""
    g.api_started = time.perf_counter()
    g.api_client = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedIn('Send "Authorization: Bearer <token>" with an API client\'s token.')
        client = api_clients.authenticate(get_session(), token.strip())
        if client is None:
            raise NotSignedIn("The token is not valid: it is unknown, revoked or expired.")
        g.actor = api_clients.actor_for(client)
        g.api_client = client.name
        return
    if g.get("actor") is None and request.endpoint not in PUBLIC:
        raise NotSignedIn(
            'Send "Authorization: Bearer <token>" with an API client\'s token '
            "(an administrator issues one)."
        )
    if request.method not in SAFE:
        csrf.protect()  # a browser session's cookie is sent by itself: it needs its token


@bp.after_request
def log_call(response: Response) -> Response:
    """Log each call with its client (or officer), method, path (no query string) and status."""
    actor = g.get("actor")
    started = g.get("api_started")
    logger.info(
        "%s %s %s by %s",
        request.method,
        request.path,
        response.status_code,
        actor.username if actor else "nobody",
        extra={
            "event": "api_call",
            "client": g.get("api_client"),
            "actor": actor.username if actor else None,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        },
    )
    return response
