"""Officers' sessions kept on the server: started at sign-in, checked on every request, ended at
sign-out, on an idle or age limit, or everywhere at once when the account changes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from trigger_workflow.store.models import Officer, OfficerSession, utcnow

# Reasons a session ended, kept on its row.
SIGNED_OUT, IDLE, EXPIRED = "signed out", "idle", "too old"
DISABLED, PASSWORD_CHANGED, ROLE_CHANGED = "disabled", "password changed", "role changed"
# Each request moves the idle clock, but writes it at most this often.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Limits:
    """How long a session may sit unused, and how long it may last however busy."""

    idle: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=10)


def start(session: Session, officer_id: int, method: str, limits: Limits) -> str:
    """Start a session for the officer and return its id for the cookie (only its hash is kept)."""
    now = utcnow()
    # Rows past the age limit can never be used again: drop them, so the table stays small.
    session.execute(delete(OfficerSession).where(OfficerSession.started_at < now - limits.max_age))
    token = secrets.token_urlsafe(32)
    session.add(
        OfficerSession(
            id_hash=_hash(token), officer_id=officer_id, method=method, started_at=now,
            last_seen_at=now,
        )
    )  # fmt: skip
    session.commit()
    return token


def current(session: Session, token: str, limits: Limits) -> Officer | None:
    """Return the officer of a live session, moving its idle clock; end it if it has lapsed."""
    now = utcnow()
    # One round trip: the session, its officer and the authorities granted to them.
    found = (
        session.execute(
            select(OfficerSession, Officer)
            .join(Officer, Officer.id == OfficerSession.officer_id)
            .where(OfficerSession.id_hash == _hash(token))
            .options(joinedload(Officer.granted))
        )
        .unique()
        .first()
    )
    if found is None:
        return None
    row, officer = found
    if row.ended_at is not None:
        return None
    lapsed = (
        DISABLED
        if officer.disabled
        else EXPIRED
        if now - row.started_at > limits.max_age
        else IDLE
        if now - row.last_seen_at > limits.idle
        else None
    )
    if lapsed:
        row.ended_at, row.ended_reason = now, lapsed
    elif now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    else:
        return officer  # nothing to write: the request goes on in this transaction
    session.commit()
    return None if lapsed else officer


def end(session: Session, token: str, reason: str) -> None:
    """End one session (no commit: the caller commits with what it records)."""
    session.execute(
        update(OfficerSession)
        .where(OfficerSession.id_hash == _hash(token), OfficerSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )


def end_all(session: Session, username: str, reason: str) -> int:
    """End every session the officer has, wherever it is (no commit); return how many."""
    officer_id = select(Officer.id).where(Officer.username == username).scalar_subquery()
    result = session.execute(
        update(OfficerSession)
        .where(OfficerSession.officer_id == officer_id, OfficerSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
