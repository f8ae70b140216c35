"""Erase persons' data from a case, under the retention schedule or on request (issue 13).

One erasure is one transaction on the locked case: seal the persons' values in the events
(`event_erasure.erase_from_events`), take them out of every other store (`scrub.scrub_case`),
destroy their salts, record an `Erasure` and a `personal_data_erased` event. Anything failing
rolls all of it back (and no file is deleted): nothing is ever half-erased.

Who may erase what (docs/data-protection.md, "Retention and erasure"):

- under the schedule: every person's data of a closed case, once; a case still open (or held)
  never is;
- on request (an administrator of the case's authority, with a reason): any person's data, of
  an open or a closed case; the applicant's data of an open case only with an explicit
  confirmation, since the council can no longer write to them about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound, TriggerWorkflowError
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.privacy import event_erasure, personal_data, salts, scrub
from trigger_workflow.services.tasks import records
from trigger_workflow.store.models import Case, Erasure, utcnow

SCHEDULE, REQUEST = "schedule", "request"
RETENTION_ACTOR = Actor("retention-schedule", "system", display_name="Retention schedule")
ERASED_EVENT = "personal_data_erased"
MAX_REASON = 2000


class ErasureRefused(TriggerWorkflowError):
    """An erasure the rules do not allow (an open case under the schedule, no reason given…)."""

    status = 422
    title = "The personal data cannot be erased"


class AlreadyAnonymised(ErasureRefused):
    """The case's personal data was already erased under the retention schedule."""

    status = 409


def erase(
    session: Session,
    case: Case,
    subjects: Iterable[str],
    *,
    under: str,
    reason: str,
    actor: Actor,
    instance_path: Path,
    open_case_confirmed: bool = False,
) -> Erasure:
    """Erase these persons' data from the case and commit, or change nothing and raise."""
    try:
        row = _erase(
            session, case, set(subjects), under, reason, actor, instance_path, open_case_confirmed
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return row


def preview(
    session: Session, case: Case, subjects: Iterable[str], *, under: str, instance_path: Path
) -> dict[str, Any]:
    """Return what erasing these persons' data would change, per store; change nothing.

    The erasure is done and rolled back (letters' PDFs are not made again meanwhile), so the
    counts are exactly what `erase` would record.
    """
    try:
        row = _erase(
            session, case, set(subjects), under, "preview", RETENTION_ACTOR, instance_path,
            open_case_confirmed=True, remake_pdfs=False,
        )  # fmt: skip
        return dict(row.counts)
    finally:
        session.rollback()


def case_of(session: Session, actor: Actor, reference: str) -> Case:
    """Return the case to erase from, if it belongs to an authority this officer serves;
    another authority's case is not there (NotFound)."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not access.serves(actor, case):
        raise NotFound(f"There is no case {reference}.")
    return case


def check(case: Case, subjects: set[str], under: str, reason: str, confirmed: bool) -> None:
    """Refuse an erasure the rules do not allow, saying why."""
    if under not in (SCHEDULE, REQUEST):
        raise ErasureRefused(f"An erasure is under the schedule or on request, not {under!r}.")
    unknown = subjects - set(personal_data.SUBJECTS)
    if unknown or not subjects:
        raise ErasureRefused(
            "Choose whose data to erase: " + ", ".join(personal_data.SUBJECTS) + "."
        )
    if not reason.strip():
        raise ErasureRefused("Give the reason for the erasure: it is kept with the case.")
    if len(reason) > MAX_REASON:
        raise ErasureRefused(f"Keep the reason to {MAX_REASON} characters.")
    if case.anonymised_at is not None:
        raise AlreadyAnonymised(
            f"Case {case.reference}'s personal data was already erased under the retention "
            "schedule."
        )
    still_open = case.status != "closed"
    if under == SCHEDULE and still_open:
        raise ErasureRefused(f"Case {case.reference} is still open: the schedule never erases it.")
    if under == REQUEST and still_open and personal_data.APPLICANT in subjects and not confirmed:
        raise ErasureRefused(
            f"Case {case.reference} is still open: confirm that the applicant's data is to be "
            "erased although the council can then no longer write to them about it."
        )


def _erase(
    session: Session,
    case: Case,
    subjects: set[str],
    under: str,
    reason: str,
    actor: Actor,
    instance_path: Path,
    open_case_confirmed: bool,
    remake_pdfs: bool = True,
) -> Erasure:
    locked = session.scalar(
        select(Case)
        .where(Case.id == case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise ErasureRefused(f"There is no case {case.reference}.")
    check(locked, subjects, under, reason, open_case_confirmed)
    erased = event_erasure.erase_from_events(session, locked, subjects)
    # Numbers per store, and the seqs of events recorded before sealing (audit verify reads them).
    counts: dict[str, Any] = {"events": erased.events, "legacy_events": erased.legacy_events}
    counts |= scrub.scrub_case(
        session, locked, set(erased.values), subjects, instance_path, remake_pdfs=remake_pdfs
    )
    salts.destroy(session, locked, subjects)
    row = Erasure(
        case_id=locked.id,
        subjects=sorted(subjects),
        under=under,
        reason=reason.strip(),
        erased_by=actor.username,
        erased_at=utcnow(),
        counts=counts,
    )
    session.add(row)
    session.flush()
    detail = {"erasure": row.id, "subjects": sorted(subjects), "under": under}
    records.append_event(session, locked, actor, ERASED_EVENT, detail=detail)
    if under == SCHEDULE and subjects >= set(personal_data.SUBJECTS):
        locked.anonymised_at = row.erased_at
    return row


def subjects_of(session: Session, case: Case) -> dict[str, bool]:
    """Return the persons the case holds data about, and whether each one's is erased already."""
    found = event_erasure.subjects_on(session, case)
    erased = {s for row in of_case(session, case.id) for s in row.subjects}
    return {s: s in erased for s in personal_data.SUBJECTS if s in found}


def of_case(session: Session, case_id: int) -> list[Erasure]:
    """Return a case's erasures, oldest first."""
    query = select(Erasure).where(Erasure.case_id == case_id).order_by(Erasure.id)
    return list(session.scalars(query))
