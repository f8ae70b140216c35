"""Track your case: an applicant sees their case's stage and their letters with a one-time code.

The applicant types their reference; a six-digit code goes to the email address or mobile
number the case holds for them (through the outbox, by the contact they chose). Entering it
shows the case's stage in words and the letters sent to them, and nothing else.

- The answer to "send me a code" is the same whether or not the reference exists, and whether
  or not the case has an email address or number: the page never says which.
- Codes last ``code_lifetime`` (15 minutes), are used once, and only their HMAC is kept. A code
  is burned after ``wrong_tries`` wrong entries; a new code replaces any earlier one.
- Codes asked for are limited per reference and per client address, and code entries per
  client address (``rate_limits``), counted for any reference typed, known or not.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import rate_limits
from trigger_workflow.services.accounts.throttle import describe_wait
from trigger_workflow.services.mail import notifications
from trigger_workflow.services.tasks import records
from trigger_workflow.store.models import Case, Letter, OutboxMessage, TrackingCode, utcnow

CODE_DIGITS = 6
HOUR = timedelta(hours=1)
# What each stage of the process means for the applicant (the main diagram's stages).
STAGE_WORDS = {
    "Application": "We are checking your application.",
    "Acknowledgement": "We have received your application and are about to acknowledge it.",
    "Threshold decision": "We are deciding whether your application meets the threshold for a case review.",
    "Appeal against the threshold decision": "Your appeal against the threshold decision is being considered.",
    "Multi-agency case review": "The agencies involved are reviewing your case.",
    "Outcome notice": "The review has been held and we are writing to you with its outcome.",
    "Appeal": "Your appeal about the outcome of the review is being considered.",
    engine.FINISHED_STAGE: "Your case review is finished.",
}
UNKNOWN_STAGE = "Your case is being worked on."


class TooManyRequests(TriggerWorkflowError):
    """Too many codes asked for, or entered, in a short time."""

    status = 429
    title = "Too many attempts"


@dataclass(frozen=True)
class TrackingLimits:
    """How long a code lasts, how often codes may be asked for and entered, and the HMAC key."""

    secret: str
    code_lifetime: timedelta = timedelta(minutes=15)
    codes_per_reference: int = 3
    requests_per_address: int = 20
    wrong_tries: int = 5


@dataclass(frozen=True)
class TrackedCase:
    """What the applicant sees: the reference, the stage in words, and their letters."""

    reference: str
    stage: str
    finished: bool
    letters: list[Letter]


def normalised(reference: str) -> str:
    """Return a typed reference in the form references take (spaces gone, capitals)."""
    return re.sub(r"\s+", "", reference).upper()[:20]


def request_code(session: Session, reference: str, address: str, limits: TrackingLimits) -> None:
    """Send a new code to the case's applicant if the reference is known and has a contact.

    Says nothing of whether it did; raises TooManyRequests past the limits (for any reference).
    """
    reference = normalised(reference)
    _limit(session, "track-address", address, limits.requests_per_address)
    _limit(session, "track-reference", reference, limits.codes_per_reference)
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        return
    applicant = engine.case_data(records.load_workflow(case)).get("applicant") or {}
    if notifications.applicant_contact(session, applicant) is None:
        return
    now = utcnow()
    # Only the newest code works: earlier ones are burned.
    session.execute(
        update(TrackingCode)
        .where(TrackingCode.case_id == case.id, TrackingCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        TrackingCode(
            case_id=case.id,
            code_hash=_hash(limits.secret, case.id, code),
            created_at=now,
            expires_at=now + limits.code_lifetime,
            wrong_tries=0,
        )
    )
    minutes = int(limits.code_lifetime.total_seconds() // 60)
    body = (
        f"Your code to see your ASB case review is {code}. It works once, for {minutes} minutes.\n\n"
        "If you did not ask for it, you can ignore this message."
    )
    notifications.to_applicant(session, case, applicant, notifications.CODE_SUBJECT, body, "code")
    session.commit()


def check_code(
    session: Session, reference: str, code: str, address: str, limits: TrackingLimits
) -> Case | None:
    """Return the case if the code is its newest, unexpired, unused code (using it up); else None.

    Every wrong answer looks the same, known reference or not.
    """
    reference, code = normalised(reference), re.sub(r"\s+", "", code)
    _limit(session, "track-entry", address, limits.requests_per_address)
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code):
        return None
    now = utcnow()
    row = session.scalar(
        select(TrackingCode)
        .where(TrackingCode.case_id == case.id, TrackingCode.used_at.is_(None))
        .where(TrackingCode.expires_at > now)
        .order_by(TrackingCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None:
        session.commit()
        return None
    if not hmac.compare_digest(row.code_hash, _hash(limits.secret, case.id, code)):
        row.wrong_tries += 1
        if row.wrong_tries >= limits.wrong_tries:
            row.used_at = now  # burned: a new code must be asked for
        session.commit()
        return None
    # Used once: the conditional update makes two entries of the same code give one success.
    used = session.execute(
        update(TrackingCode)
        .where(TrackingCode.id == row.id, TrackingCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return case if getattr(used, "rowcount", 0) == 1 else None


def tracked(session: Session, case_id: int) -> TrackedCase:
    """Return what the applicant may see of their case: its stage and the letters sent to them."""
    case = session.get(Case, case_id)
    assert case is not None
    sent = list(
        session.scalars(
            select(Letter)
            .join(OutboxMessage, OutboxMessage.letter_id == Letter.id)
            .where(Letter.case_id == case_id, OutboxMessage.status.in_(("sent", "printed")))
            .order_by(Letter.id)
        )
    )
    finished = case.status == "closed"
    stage = STAGE_WORDS.get(engine.FINISHED_STAGE if finished else case.stage, UNKNOWN_STAGE)
    return TrackedCase(case.reference, stage, finished, sent)


def sent_letter(session: Session, case_id: int, letter_id: int) -> Letter | None:
    """Return one of the letters sent to the tracked case's applicant, or None."""
    letters = tracked(session, case_id).letters
    return next((letter for letter in letters if letter.id == letter_id), None)


def _limit(session: Session, scope: str, key: str, allowance: int) -> None:
    wait = rate_limits.take(session, scope, key, allowance, HOUR)
    if wait is not None:
        raise TooManyRequests(
            f"You have tried too many times. Try again in {describe_wait(wait)}.",
        )


def _hash(secret: str, case_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"{case_id}:{code}".encode(), hashlib.sha256).hexdigest()
