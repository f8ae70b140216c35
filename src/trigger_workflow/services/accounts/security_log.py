"""Record sign-ins, sign-outs, administrators' changes to accounts and subject access searches and
exports, for auditors to read."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.store.models import SecurityEvent

SIGNED_IN = "signed_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_SLOWED = "sign_in_slowed"
SIGNED_OUT = "signed_out"
SSO_SIGNED_IN = "sso_signed_in"
SSO_REFUSED = "sso_refused"
OFFICER_ADDED = "officer_added"
DETAILS_CHANGED = "details_changed"
ROLE_CHANGED = "role_changed"
OFFICER_DISABLED = "officer_disabled"
OFFICER_ENABLED = "officer_enabled"
PASSWORD_RESET = "password_reset"
SIGN_IN_UNLOCKED = "sign_in_unlocked"
API_CLIENT_ISSUED = "api_client_issued"
API_CLIENT_REVOKED = "api_client_revoked"
SUBJECT_ACCESS_SEARCHED = "subject_access_searched"
SUBJECT_ACCESS_EXPORTED = "subject_access_exported"

KINDS = {
    SIGNED_IN: "Signed in with a password",
    SIGN_IN_FAILED: "Sign-in failed",
    SIGN_IN_SLOWED: "Sign-ins slowed after failures",
    SIGNED_OUT: "Signed out",
    SSO_SIGNED_IN: "Signed in through single sign-on",
    SSO_REFUSED: "Single sign-on refused",
    OFFICER_ADDED: "Officer added",
    DETAILS_CHANGED: "Name changed",
    ROLE_CHANGED: "Role or agency changed",
    OFFICER_DISABLED: "Officer disabled",
    OFFICER_ENABLED: "Officer enabled",
    PASSWORD_RESET: "Password reset",
    SIGN_IN_UNLOCKED: "Failed sign-ins cleared",
    API_CLIENT_ISSUED: "API client issued a token",
    API_CLIENT_REVOKED: "API client's token revoked",
    SUBJECT_ACCESS_SEARCHED: "Subject access: person searched for",
    SUBJECT_ACCESS_EXPORTED: "Subject access: data exported",
}

PAGE_SIZE = 100
logger = logging.getLogger("trigger_workflow.security")


def record(
    session: Session, kind: str, *, actor: str, subject: str, address: str = "", detail: str = ""
) -> None:
    """Add an event to the security log (committed with the change it records) and log it."""
    assert kind in KINDS, kind
    actor, subject, address = actor[:100], subject[:100], address[:64]
    session.add(
        SecurityEvent(kind=kind, actor=actor, subject=subject, address=address, detail=detail)
    )
    level = logging.WARNING if kind in (SIGN_IN_SLOWED, SSO_REFUSED) else logging.INFO
    fields = {"event": kind, "actor": actor, "subject": subject, "address": address}
    logger.log(level, "%s: %s (by %s) %s", KINDS[kind], subject, actor, detail, extra=fields)


def recent(
    session: Session, account: str | None = None, before: int | None = None
) -> list[SecurityEvent]:
    """Return up to PAGE_SIZE events, newest first, about one account or all, older than an id."""
    query = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(PAGE_SIZE)
    if account:
        query = query.where(SecurityEvent.subject == account)
    if before:
        query = query.where(SecurityEvent.id < before)
    return list(session.scalars(query))
