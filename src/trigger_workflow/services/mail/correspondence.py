"""What a case page and the print queue show of letters, their delivery, and documents."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound, NotPermitted
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import COORDINATOR, Actor
from trigger_workflow.services.applications import documents
from trigger_workflow.services.audit import access_log
from trigger_workflow.services.mail import letters, notify, outbox
from trigger_workflow.store.models import Case, Document, Letter, OutboxMessage

STATUS_TEXT = {"queued": "Queued", "sent": "Sent", "failed": "Failed", "printed": "Printed"}


@dataclass(frozen=True)
class LetterRow:
    """One letter as a case page lists it."""

    letter: Letter
    channel: str
    status: str
    detail: str
    tone: str = "blue"  # the status tag's colour: green delivered, red failed, blue on its way


@dataclass(frozen=True)
class CaseCorrespondence:
    """A case's letters and documents, for its case page."""

    letters: list[LetterRow]
    documents: list[Document]


@dataclass(frozen=True)
class OutboxPage:
    """The coordinator's print queue, and the emails that need a person."""

    to_print: list[tuple[OutboxMessage, Letter | None, str]]
    failed: list[tuple[OutboxMessage, Letter | None, str]]


def for_case(session: Session, case: Case) -> CaseCorrespondence:
    """Return a case's letters (with how and whether each went out) and its documents."""
    rows = []
    for letter in letters.for_case(session, case.id):
        message = letter.outbox
        status = STATUS_TEXT.get(message.status, message.status)
        if message.status == "sent" and message.delivery_status:
            # GOV.UK Notify's latest delivery receipt says more than "sent".
            status = notify.DELIVERY_TEXT.get(message.delivery_status, status)
        rows.append(LetterRow(letter, message.channel, status, _detail(message), _tone(message)))
    return CaseCorrespondence(rows, documents.for_case(session, case.id))


def letter_for(session: Session, reference: str, letter_id: int, actor: Actor) -> Letter:
    """Return a case's letter to an officer allowed to see the case, logging the view (R22)."""
    case = access.case_for(session, actor, reference)
    letter = session.get(Letter, letter_id)
    if letter is None or letter.case_id != case.id:
        raise NotFound(f"Case {reference} has no letter {letter_id}.")
    access_log.record_view(session, case.id, actor, f"letter {letter.kind}")
    session.commit()
    return letter


def letter_pdf(
    session: Session, reference: str, letter_id: int, actor: Actor
) -> tuple[Letter, bytes]:
    """Return a case's letter and its PDF (made now if not yet) to an officer allowed to see it."""
    letter = letter_for(session, reference, letter_id, actor)
    document = letters.ensure_pdf(session, letter)
    session.commit()
    return letter, document


def outbox_page(session: Session, actor: Actor) -> OutboxPage:
    """Return the print queue and the failed emails (the coordinator's work)."""
    if actor.role != COORDINATOR:
        raise NotPermitted("Only the case review coordinator handles the outbox.")
    # Only the letters of the authorities this coordinator serves (issue 12).
    mine = access.of_visible_authorities(actor, Letter.case_id)
    return OutboxPage(
        _with_letters(session, outbox.print_queue(session, mine)),
        _with_letters(session, outbox.needing_attention(session, mine)),
    )


def _with_letters(
    session: Session, messages: list[OutboxMessage]
) -> list[tuple[OutboxMessage, Letter | None, str]]:
    """Each message with its letter (None for a notification) and its case's reference."""
    found = []
    for message in messages:
        letter = session.get(Letter, message.letter_id) if message.letter_id else None
        case_id = letter.case_id if letter else message.case_id
        reference = session.scalar(select(Case.reference).where(Case.id == case_id))
        found.append((message, letter, reference or ""))
    return found


def _tone(message: OutboxMessage) -> str:
    if message.status == "failed" or message.delivery_status in notify.FAILED_DELIVERY:
        return "red"
    if message.status == "printed" or message.delivery_status in ("delivered", "received"):
        return "green"
    if message.status == "sent" and message.delivery_status is None:
        return "green"
    return "blue"


def _detail(message: OutboxMessage) -> str:
    if message.status == "queued" and message.last_error:
        return f"attempt {message.attempts} failed ({message.last_error}); will try again"
    if message.status == "failed":
        return f"gave up after {message.attempts} attempts: {message.last_error}"
    if message.channel == "email":
        return f"to {message.recipient_email}"
    if message.channel == "post":
        return "printed and posted by GOV.UK Notify"
    return "by post"
