"""Check an officer's username and password, throttling guesses across every web process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import passwords
from trigger_workflow.services.accounts.actors import Actor, officer_actor
from trigger_workflow.store.models import Officer, SignInFailure, utcnow

WRONG = "Enter a correct username and password."


class SignInRefused(TriggerWorkflowError):
    """The username and password did not match an enabled officer; never says which."""

    status = 401
    title = "Sign-in failed"


class TooManyFailures(TriggerWorkflowError):
    """Too many failed sign-ins for this username or from this address, lately."""

    status = 429
    title = "Too many failed sign-ins"


@dataclass(frozen=True)
class Throttle:
    """How many failures within the window lock a username, or a client address, out."""

    max_failures: int = 5
    address_max_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    hashing: passwords.Hashing = field(default_factory=passwords.Hashing)


@dataclass(frozen=True)
class SignIn:
    """One attempt to sign in from a client address."""

    username: str
    password: str
    address: str


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and the account's session version the session is bound to."""

    actor: Actor
    session_version: int


def sign_in(session: Session, attempt: SignIn, throttle: Throttle) -> SignedIn:
    """Return the officer if the password matches; count the failure and refuse otherwise."""
    key = attempt.username.strip().lower()[:100]
    address = attempt.address[:64]
    _refuse_if_locked(session, key, address, throttle)
    officer = session.scalar(select(Officer).where(func.lower(Officer.username) == key))
    matched = passwords.verify(
        officer.password_hash if officer else None, attempt.password, throttle.hashing
    )
    if officer is None or not matched or officer.disabled:
        # Failures older than the window count for nothing: drop them, so the table stays small.
        session.execute(
            delete(SignInFailure).where(SignInFailure.failed_at < utcnow() - throttle.window)
        )
        session.add(SignInFailure(username=key, address=address))
        session.commit()
        raise SignInRefused(WRONG)
    assert officer.password_hash is not None
    if passwords.needs_rehash(officer.password_hash, throttle.hashing):
        officer.password_hash = throttle.hashing.hasher().hash(attempt.password)
    session.execute(delete(SignInFailure).where(SignInFailure.username == key))
    session.commit()
    return SignedIn(officer_actor(officer), officer.session_version)


def _refuse_if_locked(session: Session, key: str, address: str, throttle: Throttle) -> None:
    since = utcnow() - throttle.window
    by_name = _failures(session, SignInFailure.username == key, since)
    by_address = _failures(session, SignInFailure.address == address, since)
    if by_name >= throttle.max_failures or by_address >= throttle.address_max_failures:
        minutes = int(throttle.window.total_seconds() // 60)
        raise TooManyFailures(
            f"There have been too many failed sign-ins for this username or from this "
            f"network. Wait {minutes} minutes, then try again. If you have forgotten your "
            "password, ask an administrator to reset it."
        )


def _failures(session: Session, condition: object, since: datetime) -> int:
    query = select(func.count()).select_from(SignInFailure).where(condition)  # type: ignore[arg-type]
    return session.scalar(query.where(SignInFailure.failed_at >= since)) or 0


def sign_in_identity(session: Session, username: str) -> SignedIn:
    """Return the enabled officer an identity provider vouched for; refuse anyone else."""
    officer = session.scalar(
        select(Officer).where(func.lower(Officer.username) == username.lower())
    )
    if officer is None or officer.disabled:
        raise SignInRefused(
            f"The account '{username}' may not use this service. Ask an administrator to add "
            "you (with your council username), or to enable your account."
        )
    return SignedIn(officer_actor(officer), officer.session_version)


def current_session_version(session: Session, username: str) -> tuple[Actor, int] | None:
    """Return an enabled officer and their session version, or None if they may not be in."""
    officer = session.scalar(select(Officer).where(Officer.username == username))
    if officer is None or officer.disabled:
        return None
    return officer_actor(officer), officer.session_version
