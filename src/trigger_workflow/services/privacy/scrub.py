"""Remove erased persons' values from everywhere a case's data lives besides its events (issue 13).

The events are sealed by `event_erasure.erase_from_events`, which returns the values it found; this
module takes those values out of every other copy, keeping each store's shape: the workflow state
(it must still restore), the search columns, letters (HTML; the PDF is made again from the
redacted HTML), outbox messages, documents (the file is deleted, the row kept), incidents,
recommendations, the R22 view log, tracking codes and sent application drafts. What each store
does, and the tables left alone, are listed in docs/data-protection.md.

Files are deleted only once the erasure's transaction commits: a failed erasure leaves every
file where it was, with the rows that name it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, or_, select
from sqlalchemy.orm import Session

from trigger_workflow import pdf
from trigger_workflow.engine import serialization
from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.services.privacy.redaction import (
    ERASED,
    Redactor,
    closed_choices,
    redactor,
    scrub_json,
)
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store import chain
from trigger_workflow.store.models import (
    ApplicationDraft,
    Case,
    CaseView,
    Document,
    Incident,
    Letter,
    OutboxMessage,
    Recommendation,
    SecurityEvent,
    TrackingCode,
)

log = logging.getLogger(__name__)
DOCUMENTS_FOLDER = "documents"  # under the instance folder (applications/documents.storage_from)
NOT_SENT = "Not sent: the recipient's personal data was erased."
_FILES_TO_DELETE = "trigger_workflow.files_to_delete"


def scrub_case(
    session: Session,
    case: Case,
    values: set[str],
    subjects: set[str],
    instance_path: Path,
    *,
    remake_pdfs: bool = True,
) -> dict[str, int]:
    """Take these personal values (of these subjects) out of every store of the case but its
    events; return how many rows or leaves changed per store (numbers only, never values).

    `remake_pdfs=False` (a preview, rolled back) counts the letters' PDFs without making them.
    """
    deployed = processes.deployed(case.process_version)
    closed = closed_choices(
        {
            name: json.loads(text)
            for name, text in deployed.files.files.items()
            if name.startswith("forms/") and name.endswith(".json")
        }
    )
    groups = subjects & set(personal_data.PERSON_GROUPS)
    keys = personal_data.closed_keys_of_files(deployed.content_hash, deployed.files.files)
    incidents = list(session.scalars(select(Incident).where(Incident.case_id == case.id)))
    # A held step's answers were never recorded in an event: their values are found here.
    held = {
        value
        for incident in incidents
        for value, subject in _personal_leaves(incident.data, keys)
        if subject in subjects and isinstance(value, str)
    }
    documents, names = _documents(session, case, values | held, subjects, instance_path)
    redact = redactor(values | held | names, closed)
    return {
        "workflow_state": _workflow_state(case, deployed, redact, groups),
        "search_columns": _search_columns(case, redact, subjects),
        **_letters(session, case, redact, remake_pdfs),
        "outbox_messages": _outbox(session, case, redact),
        "documents": documents,
        "incidents": _incidents(incidents, redact, groups),
        "recommendations": _recommendations(session, case, redact),
        "case_views": _case_views(session, case, redact),
        **_applicants_own(session, case, subjects),
        "security_log_holding_values": _security_log(session, redact, values | names),
    }


def _workflow_state(
    case: Case, deployed: processes.DeployedProcess, redact: Redactor, groups: set[str]
) -> int:
    """Erase the values in the serialized workflow; refuse if it would no longer restore."""
    state, changed = scrub_json(json.loads(case.workflow_state), redact, groups)
    if not changed:
        return 0
    text = json.dumps(state, separators=(",", ":"))
    try:
        serialization.load_state(text, deployed.specs, case.serializer_version)
    except Exception as error:  # the erasure rolls back: nothing is half-erased
        # The error's own words may quote the data: only its kind is said.
        raise TriggerWorkflowError(
            f"Case {case.reference}'s workflow would not restore once erased "
            f"({type(error).__name__}); nothing was erased."
        ) from error
    case.workflow_state = text
    return changed


def _search_columns(case: Case, redact: Redactor, subjects: set[str]) -> int:
    changed = 0
    for column in ("applicant_name", "applicant_postcode"):
        value = getattr(case, column)
        if value is None or value == ERASED:
            continue
        new = ERASED if personal_data.APPLICANT in subjects else redact.leaf(value)
        if new != value:
            setattr(case, column, new)
            changed += 1
    return changed


def _letters(session: Session, case: Case, redact: Redactor, remake: bool) -> dict[str, int]:
    """Redact letters' HTML, subject and addressee, and make their PDF again from the redacted
    HTML; html_sha256 and pdf_sha256 stay the record of what was sent."""
    letters = pdfs = 0
    for letter in session.scalars(select(Letter).where(Letter.case_id == case.id)):
        html = redact.text(letter.html)
        subject = redact.text(letter.subject)
        recipient = redact.leaf(letter.recipient_name)
        if (html, subject, recipient) == (letter.html, letter.subject, letter.recipient_name):
            continue
        letter.html, letter.subject, letter.recipient_name = html, subject, recipient
        letters += 1
        if letter.pdf_sha256 is not None:  # not made yet: the worker makes it from this HTML
            if remake:
                letter.pdf = pdf.html_to_pdf(html)
            pdfs += 1
    return {"letters": letters, "letter_pdfs_remade": pdfs}


def _outbox(session: Session, case: Case, redact: Redactor) -> int:
    """Redact messages about the case; one still queued to an erased recipient is not sent."""
    letter_ids = select(Letter.id).where(Letter.case_id == case.id)
    query = select(OutboxMessage).where(
        or_(OutboxMessage.case_id == case.id, OutboxMessage.letter_id.in_(letter_ids))
    )
    changed = 0
    for message in session.scalars(query):
        recipient = False
        for column in ("recipient_email", "recipient_phone", "postal_address"):
            value = getattr(message, column)
            if value is not None and redact.leaf(value) != value:
                setattr(message, column, ERASED)
                recipient = True
        texts = False
        for column in ("subject", "body", "last_error"):
            value = getattr(message, column)
            if value is not None and redact.text(value) != value:
                setattr(message, column, redact.text(value))
                texts = True
        if recipient and message.status == "queued":
            message.status, message.last_error, message.next_attempt_at = "failed", NOT_SENT, None
        changed += recipient or texts
    return changed


def _documents(
    session: Session, case: Case, values: set[str], subjects: set[str], instance_path: Path
) -> tuple[int, set[str]]:
    """Erase the documents an erased person's answers name (by their token), and, with the
    case's free text, every document of the case: the file is deleted (after the commit), the
    row keeps its type, size and hash. Return how many, and the names they were sent under."""
    every = personal_data.CASE in subjects
    names: set[str] = set()
    count = 0
    for document in session.scalars(select(Document).where(Document.case_id == case.id)):
        if document.original_name == ERASED or not (every or document.token in values):
            continue
        names.add(document.original_name)
        names.add(document.original_name.rsplit(".", 1)[0])
        document.original_name = ERASED
        document.client_address = None
        delete_after_commit(session, instance_path / DOCUMENTS_FOLDER / document.stored_name)
        count += 1
    return count, {n for n in names if n and n != "document"}


def _personal_leaves(data: Any, keys: frozenset[str]) -> list[tuple[Any, str]]:
    """Return (value, subject) of each personal leaf of task data (as an event would classify it)."""
    return [
        (chain.locate(data, path)[2], subject)
        for path, subject in personal_data.classify_data(data or {}, keys).items()
    ]


def _incidents(incidents: list[Incident], redact: Redactor, groups: set[str]) -> int:
    changed = 0
    for incident in incidents:
        data, leaves = scrub_json(incident.data or {}, redact, groups)
        message = redact.text(incident.message)
        if leaves or message != incident.message:
            incident.data, incident.message = data, message
            changed += 1
    return changed


def _recommendations(session: Session, case: Case, redact: Redactor) -> int:
    changed = 0
    query = select(Recommendation).where(Recommendation.case_id == case.id)
    for recommendation in session.scalars(query):
        action = redact.text(recommendation.action)
        progress = None if recommendation.progress is None else redact.text(recommendation.progress)
        if (action, progress) != (recommendation.action, recommendation.progress):
            recommendation.action, recommendation.progress = action, progress
            changed += 1
    return changed


def _case_views(session: Session, case: Case, redact: Redactor) -> int:
    """The R22 view log names what was seen ("document <its name>"): keep the view, not the name."""
    changed = 0
    for view in session.scalars(select(CaseView).where(CaseView.case_id == case.id)):
        what = redact.text(view.what)
        if what != view.what:
            view.what = what
            changed += 1
    return changed


def _applicants_own(session: Session, case: Case, subjects: set[str]) -> dict[str, int]:
    """The applicant's tracking codes and sent drafts go with the applicant's data."""
    if personal_data.APPLICANT not in subjects:
        return {"tracking_codes": 0, "application_drafts": 0}
    codes = session.execute(delete(TrackingCode).where(TrackingCode.case_id == case.id))
    drafts = session.execute(
        delete(ApplicationDraft).where(ApplicationDraft.reference == case.reference)
    )
    return {
        "tracking_codes": codes.rowcount,  # type: ignore[attr-defined]
        "application_drafts": drafts.rowcount,  # type: ignore[attr-defined]
    }


def _security_log(session: Session, redact: Redactor, values: Iterable[str]) -> int:
    """Count security log entries holding a value: the log is append-only and about officers'
    accounts, so none should; any found is reported in the erasure's counts, not changed."""
    searched = [v.strip() for v in values if len(v.strip()) >= 6 and redact.holds(v)]
    if not searched:
        return 0
    columns = (SecurityEvent.detail, SecurityEvent.subject, SecurityEvent.actor)
    found = or_(*(c.contains(v, autoescape=True) for v in searched for c in columns))
    return int(session.scalar(select(func.count()).select_from(SecurityEvent).where(found)) or 0)


def delete_after_commit(session: Session, path: Path) -> None:
    """Delete a file once the session's transaction commits (never if it rolls back)."""
    session.info.setdefault(_FILES_TO_DELETE, []).append(path)


@event.listens_for(Session, "after_commit")
def _delete_files(session: Session) -> None:
    for path in session.info.pop(_FILES_TO_DELETE, []):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("Could not delete an erased document's file %s", path.name)


@event.listens_for(Session, "after_soft_rollback")
def _keep_files(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_FILES_TO_DELETE, None)
