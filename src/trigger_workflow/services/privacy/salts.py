"""Each case's salts, one per data subject: made when first needed, destroyed at erasure.

Read once per case per transaction (the case row is locked while its events are appended, so
nobody else adds one meanwhile); forgotten when the transaction rolls back, so an event is
never sealed with a salt that was not kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from trigger_workflow.store.models import Case, CaseSecret, utcnow

SALT_BYTES = 32
_CACHE = "trigger_workflow.case_salts"


def salts_for(session: Session, case: Case, subjects: Iterable[str]) -> dict[str, bytes]:
    """Return the salts of a case's subjects, making the missing ones.

    A subject whose salt was destroyed by an erasure and who is named again (new answers about
    the same person) gets a fresh salt: the erased values need none any more.
    """
    known = _known(session, case)
    for subject in set(subjects):
        if known.get(subject) is not None:
            continue
        salt = secrets.token_bytes(SALT_BYTES)
        with session.no_autoflush:
            row = session.get(CaseSecret, (case.id, subject)) if subject in known else None
        if row is None:
            session.add(CaseSecret(case_id=case.id, subject=subject, salt=salt))
        else:
            row.salt = salt
        known[subject] = salt
    return {s: v for s, v in known.items() if v is not None}


def destroyed(session: Session, case: Case) -> set[str]:
    """Return the subjects whose salt has been destroyed."""
    return {s for s, v in _known(session, case).items() if v is None}


def destroy(session: Session, case: Case, subjects: Iterable[str]) -> None:
    """Destroy the salts of these subjects: their erased values' digests can never be tested."""
    wanted = set(subjects)
    for row in session.scalars(select(CaseSecret).where(CaseSecret.case_id == case.id)):
        if row.subject in wanted and row.salt is not None:
            row.salt = None
            row.destroyed_at = utcnow()
    session.flush()
    session.info.pop(_CACHE, None)


def _known(session: Session, case: Case) -> dict[str, bytes | None]:
    cache: dict[int, dict[str, bytes | None]] = session.info.setdefault(_CACHE, {})
    if case.id not in cache:
        # Without flushing the case's pending changes: that would write the case row twice in
        # one step (and count two versions of it).
        with session.no_autoflush:
            rows = session.execute(
                select(CaseSecret.subject, CaseSecret.salt).where(CaseSecret.case_id == case.id)
            ).all()
        cache[case.id] = {subject: salt for subject, salt in rows}
    return cache[case.id]


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: object) -> None:
    session.info.pop(_CACHE, None)
