"""API clients: systems that call /api/v1 with a bearer token, acting with a role and agency.

An administrator issues a client a name, a role (and agency), and an expiry; the token is shown
once and only its SHA-256 is kept. A token is 256 random bits, so a fast hash is enough: no
guessing or dictionary attack can reach it, and every request finds its client by one indexed
lookup (argon2, right for passwords a person chooses, would spend ~50 ms and 64 MiB a request).
A revoked or expired token is refused on its next request; issuing and revoking go to the
security log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound, TriggerWorkflowError
from trigger_workflow.services.accounts import actors, authorities, security_log
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.store.models import ApiClient, utcnow

PREFIX = "twapi_"  # makes a leaked token easy to recognise (and to scan for)
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")
MAX_DAYS = 366
# Each request moves last_used_at, but writes it at most this often.
TOUCH_EVERY = timedelta(seconds=60)
# Roles a system may act as: casework roles, never the account or process administrators.
ROLES = ("coordinator", "partner", "chair", "opcc", "auditor")


def actor_for(client: ApiClient) -> Actor:
    """Return the actor an API client's requests are recorded against, scoped to its authority
    (None: a county-wide client, like a county-wide officer)."""
    scope: frozenset[int] | None = None
    if not client.county_wide:
        scope = frozenset() if client.authority_id is None else frozenset({client.authority_id})
    return Actor(
        f"api:{client.name}", client.role, client.agency, f"API client {client.name}", scope
    )


def issue(
    session: Session,
    name: str,
    role: str,
    agency: str | None,
    days: int,
    *,
    by: str,
    address: str = "",
    authority_id: int | None = None,
    county_wide: bool = False,
) -> tuple[ApiClient, str]:
    """Create a client and return it with its token (shown once: only its hash is kept).

    It serves one authority (by default the first) or, county-wide, every authority's cases.
    """
    if not NAME.fullmatch(name):
        raise TriggerWorkflowError(
            "A client's name is 1 to 60 lower-case letters, digits or hyphens, e.g. 'police-rms'."
        )
    if role not in ROLES:
        raise TriggerWorkflowError(
            f"An API client acts as one of: {', '.join(actors.ROLES[r] for r in ROLES)}."
        )
    actors.check_role(role, agency)
    if not 1 <= days <= MAX_DAYS:
        raise TriggerWorkflowError(f"A token lasts from 1 to {MAX_DAYS} days.")
    if session.scalar(select(ApiClient).where(ApiClient.name == name)) is not None:
        raise TriggerWorkflowError(f"There is already an API client '{name}'.")
    token = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    if county_wide:
        authority_id = None
    elif authority_id is None:
        authority_id = authorities.default_authority(session).id
    client = ApiClient(
        name=name, role=role, agency=agency, token_hash=token_hash(token), created_by=by,
        created_at=now, expires_at=now + timedelta(days=days), authority_id=authority_id,
        county_wide=county_wide,
    )  # fmt: skip
    session.add(client)
    security_log.record(
        session, security_log.API_CLIENT_ISSUED, actor=by, subject=f"api:{name}",
        address=address, detail=f"{role}{f' ({agency})' if agency else ''}, expires "
        f"{client.expires_at:%Y-%m-%d}",
    )  # fmt: skip
    session.commit()
    return client, token


def revoke(
    session: Session, name: str, *, by: str, address: str = "", administrator: Actor | None = None
) -> ApiClient:
    """Revoke a client's token: its next request is refused."""
    client = find(session, name, administrator)
    if client.revoked_at is None:
        client.revoked_at, client.revoked_by = utcnow(), by
        security_log.record(
            session, security_log.API_CLIENT_REVOKED, actor=by, subject=f"api:{name}",
            address=address,
        )  # fmt: skip
        session.commit()
    return client


def find(session: Session, name: str, by: Actor | None = None) -> ApiClient:
    """Return the client with this name (one this administrator manages), or raise NotFound."""
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None or (by is not None and not manages(by, client)):
        raise NotFound(f"There is no API client '{name}'.")
    return client


def list_clients(session: Session, by: Actor | None = None) -> list[ApiClient]:
    """Return the clients this administrator manages (every one from the command line), by name."""
    clients = session.scalars(select(ApiClient).order_by(ApiClient.name))
    return [client for client in clients if by is None or manages(by, client)]


def manages(administrator: Actor, client: ApiClient) -> bool:
    """Return whether an administrator manages this client: county-wide administrators manage
    every one; an authority's administrators those of the authorities they serve."""
    if administrator.authorities is None:
        return True
    return not client.county_wide and client.authority_id in administrator.authorities


def state(client: ApiClient, now: datetime | None = None) -> str:
    """Return 'revoked', 'expired' or 'active'."""
    if client.revoked_at is not None:
        return "revoked"
    return "expired" if (now or utcnow()) >= client.expires_at else "active"


def authenticate(session: Session, token: str) -> ApiClient | None:
    """Return the active client holding this token (moving its last-used time), else None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.token_hash == token_hash(token)))
    now = utcnow()
    if client is None or state(client, now) != "active":
        return None
    if client.last_used_at is None or now - client.last_used_at >= TOUCH_EVERY:
        client.last_used_at = now
        session.commit()
    return client


def token_hash(token: str) -> str:
    """Return the SHA-256 of a token, as kept in the database."""
    return hashlib.sha256(token.encode()).hexdigest()
