"""Read a case's letters and outbox entries straight from the database, for the letter tests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.store.models import Case, Letter, OutboxMessage


def letters_of(
    sessions: sessionmaker[Session], reference: str
) -> list[tuple[Letter, OutboxMessage]]:
    """Return a case's letters with their outbox entries, oldest first (PDF bytes loaded)."""
    with sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        found = []
        for letter in session.scalars(
            select(Letter).where(Letter.case_id == case.id).order_by(Letter.id)
        ):
            _ = letter.pdf
            found.append((letter, letter.outbox))
        return found


def stage_messages_sent(sessions: sessionmaker[Session]) -> None:
    """Mark the applicants' short stage messages as sent, so the outbox holds letters alone.

    For the tests of letters' delivery; the stage messages are tested in test_notifications.py.
    """
    with sessions() as session:
        for message in session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.letter_id.is_(None), OutboxMessage.status == "queued"
            )
        ):
            message.status = "sent"
        session.commit()
