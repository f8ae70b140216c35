"""Check an officer's username and password, throttling guesses across every web process."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import passwords, security_log, throttle
from trigger_workflow.services.accounts.actors import Actor, officer_actor
from trigger_workflow.services.accounts.throttle import Throttle
from trigger_workflow.store.models import Officer

WRONG = "Enter a correct username and password."
PASSWORD, SSO = "password", "sso"

__all__ = ["Throttle", "SignIn", "SignedIn", "SignInRefused", "TooManyFailures", "sign_in"]


class SignInRefused(TriggerWorkflowError):
    """The username and password did not match an enabled officer; never says which."""

    status = 401
    title = "Sign-in failed"


class TooManyFailures(TriggerWorkflowError):
    """Too many failed sign-ins lately for this username from this address: wait a little."""

    status = 429
    title = "Too many failed sign-ins"


@dataclass(frozen=True)
class SignIn:
    """One attempt to sign in from a client address."""

    username: str
    password: str
    address: str


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, their account's row id, and how (password or single sign-on)."""

    actor: Actor
    officer_id: int
    method: str


def sign_in(session: Session, attempt: SignIn, limits: Throttle) -> SignedIn:
    """Return the officer if the password matches; count the failure and refuse otherwise."""
    key = attempt.username.strip().lower()[:100]
    address = attempt.address[:64]
    turn = throttle.take_turn(session, key, address, limits)
    if not isinstance(turn, throttle.Turn):
        security_log.logger.warning(
            "Sign-in refused while slowed down", extra={"subject": key, "address": address}
        )
        raise TooManyFailures(
            "There have been too many failed sign-ins for this username from your network. "
            f"Wait {throttle.describe_wait(turn)}, then try again. If you have forgotten your "
            "password, ask an administrator to reset it.",
            retry_after=math.ceil(turn.total_seconds()),
        )
    officer = session.scalar(select(Officer).where(func.lower(Officer.username) == key))
    matched = passwords.verify(
        officer.password_hash if officer else None, attempt.password, limits.hashing
    )
    if officer is None or not matched or officer.disabled:
        throttle.failed(session, address, limits)
        why = "no such officer" if officer is None else "disabled" if matched else "wrong password"
        security_log.record(
            session, security_log.SIGN_IN_FAILED, actor=key, subject=key, address=address,
            detail=f"{why}; failure {turn.failures} for this username from this address",
        )  # fmt: skip
        if turn.slows_down:
            security_log.record(
                session, security_log.SIGN_IN_SLOWED, actor=key, subject=key, address=address,
                detail=f"after {turn.failures} failures from this address",
            )  # fmt: skip
        session.commit()
        raise SignInRefused(WRONG)
    assert officer.password_hash is not None
    if passwords.needs_rehash(officer.password_hash, limits.hashing):
        officer.password_hash = limits.hashing.hasher().hash(attempt.password)
    throttle.succeeded(session, key, address)
    security_log.record(
        session, security_log.SIGNED_IN, actor=officer.username, subject=officer.username,
        address=address,
    )  # fmt: skip
    session.commit()
    return SignedIn(officer_actor(officer), officer.id, PASSWORD)


def sign_in_identity(session: Session, username: str, address: str) -> SignedIn:
    """Return the enabled officer an identity provider vouched for; refuse anyone else."""
    officer = session.scalar(
        select(Officer).where(func.lower(Officer.username) == username.lower())
    )
    if officer is None or officer.disabled:
        why = "no such officer" if officer is None else "disabled"
        security_log.record(
            session, security_log.SSO_REFUSED, actor=username, subject=username,
            address=address, detail=why,
        )  # fmt: skip
        session.commit()
        raise SignInRefused(
            f"The account '{username}' may not use this service. Ask an administrator to add "
            "you (with your council username), or to enable your account."
        )
    security_log.record(
        session, security_log.SSO_SIGNED_IN, actor=officer.username, subject=officer.username,
        address=address,
    )  # fmt: skip
    session.commit()
    return SignedIn(officer_actor(officer), officer.id, SSO)


def unlock(session: Session, username: str, *, by: str, address: str = "") -> None:
    """Forget an officer's recent failures from every address (an administrator's unlock)."""
    cleared = throttle.clear(session, username)
    security_log.record(
        session, security_log.SIGN_IN_UNLOCKED, actor=by, subject=username, address=address,
        detail=f"failures from {cleared} address(es) cleared",
    )  # fmt: skip
    session.commit()
