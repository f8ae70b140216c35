"""A case full of distinctive personal values, driven to its close through the services, and a
search of every table, column and file for those values (the erasure tests, issue 13)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import PATHS, ROLE_OFFICER, open_task
from trigger_workflow.samples import AGENCY_OFFICER, ANSWERS
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.applications import documents
from trigger_workflow.services.audit import access_log
from trigger_workflow.services.mail import letters
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import (
    ApplicationDraft,
    Base,
    Case,
    Document,
    Incident,
    OutboxMessage,
    TrackingCode,
)

APPLICANT = {
    "name": "Morwenna Quillfeather",
    "address": "14 Larkspur Close\nAllestree",
    "postcode": "DE22 2QX",
    "phone": "07700 900123",
    "email": "morwenna.q@example.org",
    "preferred_contact": "post",
    "date_of_birth": "1961-07-23",
}
VICTIM = {
    "name": "Tobias Wrenfield",
    "address": "9 Quinceberry Row",
    "postcode": "DE22 5ZZ",
    "phone": "07700 900456",
    "email": "tobias.w@example.net",
    "preferred_contact": "phone",
    "consent_given": True,
    "consent_how": "signed_form",
}
CASE_TEXT = {
    "asb_summary": "Drumming from the Brackenhurst garage every night.",
    "impact": "Morwenna cannot rest; Tobias is frightened of Brackenhurst.",
    "desired_outcome": "Quiet evenings on Larkspur Close.",
    "vulnerabilities": "Tobias has a heart condition (Zephyrine clinic).",
}
UPLOAD_NAME = "Wrenfield-consent-form.pdf"
UPLOAD_CONTENT = b"%PDF-1.4\n% consent signed by Tobias Wrenfield, 9 Quinceberry Row\n%%EOF\n"

APPLICANT_VALUES = [
    "Morwenna Quillfeather", "14 Larkspur Close", "Allestree", "DE22 2QX", "07700 900123",
    "morwenna.q@example.org", "1961-07-23",
]  # fmt: skip
VICTIM_VALUES = [
    "Tobias Wrenfield", "9 Quinceberry Row", "DE22 5ZZ", "07700 900456", "tobias.w@example.net",
    "Wrenfield-consent-form",
]  # fmt: skip
CASE_VALUES = ["Brackenhurst", "Zephyrine", "Quiet evenings on Larkspur Close"]
CLIENT_ADDRESS = "198.51.100.77"  # the applicant's address on the internet, kept with the upload
SEEDED = [*APPLICANT_VALUES, *VICTIM_VALUES, *CASE_VALUES, CLIENT_ADDRESS]

# The officers' answers mention the people too: free text about the case.
THRESHOLD = dict(
    ANSWERS["decide_threshold"],
    threshold_reasons="Persistent drumming; Morwenna Quillfeather's health is suffering.",
)
MEETING = dict(
    ANSWERS["hold_review_meeting"],
    recommendations=[
        {
            "agency": "housing",
            "action": "Fit a noise monitor at 14 Larkspur Close",
            "target_date": "2027-01-15",
        }
    ],
)


def application(storage: documents.Storage, session: Session) -> dict[str, Any]:
    """Return the application, its victim's consent form uploaded (as the public form does)."""
    upload = documents.Upload(UPLOAD_NAME, UPLOAD_CONTENT)
    document = documents.receive(
        session, storage, upload, ("victim", "consent_document"), actors.PUBLIC, CLIENT_ADDRESS
    )
    return {
        "channel": "online",
        "basis": "on_behalf",
        "applicant": dict(APPLICANT),
        "victim": dict(VICTIM, consent_document=document.token),
        **CASE_TEXT,
        "incidents": [
            {
                "behaviour_date": "2026-10-01",
                "location": "The Brackenhurst garage",
                "what_happened": "Drumming until 2am",
                "reported_on": "2026-10-02",
                "reported_to": ["council"],
            },
            {
                "behaviour_date": "2026-10-20",
                "what_happened": "Drumming and shouting at the neighbours",
                "reported_on": "2026-10-21",
                "reported_to": ["police"],
            },
        ],
        "consent_to_share": True,
        "declaration": True,
    }


def seeded_case(
    sessions: sessionmaker[Session], instance: Path, received_on: date, close: bool = True
) -> str:
    """Run the seeded application to its close (threshold met, review, outcome, no appeal), or
    to its review when `close` is false; fill every other store that holds a case's data:
    PDFs, a document view, a notification, an incident, a tracking code, a sent draft."""
    storage = documents.Storage(instance / "documents", 10 * 1024 * 1024)
    answers = {"decide_threshold": THRESHOLD, "hold_review_meeting": MEETING}
    steps = PATHS["closed, no appeal"] if close else PATHS["in review"]
    with sessions() as session:
        data = application(storage, session)
        reference = cases.submit_application(
            session, cases.SubmitApplication(data, actors.PUBLIC, received_on=received_on)
        ).reference
        for spec_name, given, agency in steps:
            username = AGENCY_OFFICER[agency] if agency else ROLE_OFFICER.get(spec_name, "carol")
            actor = actors.find_officer(session, username)
            task = open_task(session, reference, spec_name, agency)
            command = cases.CompleteTask(reference, task, answers.get(spec_name, given), actor)
            cases.complete_task(session, command)
        _other_stores(session, reference)
    letters.make_pending_pdfs(sessions)
    return reference


def _other_stores(session: Session, reference: str) -> None:
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    document = session.scalar(select(Document).where(Document.case_id == case.id))
    assert document is not None, "the consent form was claimed by the case"
    auditor = actors.find_officer(session, "ada")
    access_log.record_view(session, case.id, auditor, f"document {document.original_name}")
    now = datetime.now().astimezone()
    session.add_all(
        [
            OutboxMessage(
                channel="sms", recipient_phone=APPLICANT["phone"], status="sent", attempts=1,
                case_id=case.id, purpose="stage", subject="Your case review",
                body=f"{APPLICANT['name']}: your case {reference} has moved on.",
            ),
            Incident(
                case_id=case.id, kind="task", opened_by="carol", status="resolved",
                message=f"The script failed on '{VICTIM['name']}'",
                data={"victim": {"name": VICTIM["name"]}, "note": CASE_VALUES[0]},
            ),
            TrackingCode(case_id=case.id, code_hash="0" * 64, expires_at=now),
            ApplicationDraft(
                id="draft-" + reference, data={}, pending={}, submission_key="k" * 16,
                reference=reference, expires_at=now + timedelta(hours=1),
            ),
        ]
    )  # fmt: skip
    session.commit()


def as_text(value: Any) -> str:
    """Return a stored value as searchable text: JSON written out, PDFs' text extracted."""
    if value is None:
        return ""
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        text = value.decode("latin-1")
        if value.startswith(b"%PDF-") and b"/Page" in value:
            pages = pypdf.PdfReader(io.BytesIO(value)).pages
            text += "\n".join(page.extract_text() for page in pages)
        return text
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def found_in_database(
    sessions: sessionmaker[Session], values: Iterable[str]
) -> dict[str, list[str]]:
    """Return, for each value found, the table.column of every row holding it (any case)."""
    wanted = [v for v in values]
    found: dict[str, list[str]] = {}
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for column, value in row._mapping.items():
                    text = as_text(value).casefold()
                    for item in wanted:
                        if item.casefold() in text:
                            found.setdefault(item, []).append(f"{table.name}.{column}")
    return found


def found_in_files(folder: Path, values: Iterable[str]) -> dict[str, list[str]]:
    """Return, for each value found, the files (names or contents) under the folder holding it."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = (path.name + "\n" + as_text(path.read_bytes())).casefold()
        for item in values:
            if item.casefold() in text:
                found.setdefault(item, []).append(str(path.relative_to(folder)))
    return found
