"""Issue API clients for tests and call /api/v1 with their tokens."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.services.accounts import api_clients


def issue(
    sessions: sessionmaker[Session], name: str, role: str, agency: str | None = None, days: int = 30
) -> str:
    """Issue an API client as the administrator adam; return its token."""
    with sessions() as session:
        _, token = api_clients.issue(session, name, role, agency, days, by="adam")
    return token


def bearer(token: str) -> dict[str, str]:
    """Return the header that authenticates a request with this token."""
    return {"Authorization": f"Bearer {token}"}


def call(client: FlaskClient, method: str, path: str, token: str, **kwargs: Any) -> Any:
    """Send one request with the token (a plain client: no cookie, no CSRF token)."""
    return client.open(path, method=method, headers=bearer(token), **kwargs)
