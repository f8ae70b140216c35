"""Cases for the subject access tests (issue 13): one person, Sam, applicant on one case and the
victim on another; the other people on those cases, whose details must never be exported to Sam.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from pypdf import PdfReader
from sqlalchemy.orm import Session

from tests.audit_cases import open_task
from trigger_workflow.samples import ANSWERS, APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.tasks import cases

SAM = {
    "name": "Sam Requester",
    "address": "5 Cedar Lane, Derby",
    "postcode": "DE1 2AB",
    "phone": "01332 123456",
    "email": "sam.requester@example.org",
    "preferred_contact": "email",
    "date_of_birth": "1980-03-27",
}
# Sam again, as someone else wrote Sam's details down: other capitals, spaces and format.
SAM_AS_VICTIM = {
    "name": "  sam   REQUESTER ",
    "address": "5 Cedar Lane, Derby",
    "postcode": "de12ab",
    "email": "Sam.Requester@Example.org",
    "preferred_contact": "post",
    "consent_given": True,
    "consent_how": "to_officer",
    "consent_date": "2026-11-01",
    "consent_method": "phone",
}
OLIVE = {  # the victim on Sam's own application
    "name": "Olive Otherperson",
    "address": "7 Birch Road, Derby",
    "postcode": "DE1 9ZZ",
    "email": "olive.otherperson@example.org",
    "preferred_contact": "email",
    "consent_given": True,
    "consent_how": "to_officer",
    "consent_date": "2026-11-01",
    "consent_method": "phone",
}
PAT = {  # who applied for Sam on the second case
    "name": "Pat Thirdparty",
    "address": "9 Elm Close, Derby",
    "postcode": "DE2 3CD",
    "email": "pat.thirdparty@example.org",
    "phone": "07700 900123",
    "preferred_contact": "email",
}
# What must never reach Sam's export: the other people's details as seeded.
OTHERS = [OLIVE["name"], OLIVE["email"], OLIVE["postcode"], PAT["name"], PAT["email"], PAT["phone"]]


@dataclass(frozen=True)
class SamsCases:
    """Sam's two cases: as the applicant, and as the victim someone else applied for."""

    as_applicant: str
    as_victim: str


def application(applicant: dict[str, Any], victim: dict[str, Any]) -> dict[str, Any]:
    """Return an application made for someone else, taken by phone by the coordinator."""
    return dict(APPLICATION, channel="phone", basis="on_behalf", applicant=applicant, victim=victim)


def sams_cases(session: Session, coordinator: str = "carol") -> SamsCases:
    """Submit Sam's two applications through this coordinator (for their council), and
    acknowledge both (a letter each)."""
    carol = actors.find_officer(session, coordinator)
    references = []
    for data in (application(SAM, OLIVE), application(PAT, SAM_AS_VICTIM)):
        result = cases.submit_application(
            session, cases.SubmitApplication(data, carol, None, date.today())
        )
        task = open_task(session, result.reference, "acknowledge_application", None)
        cases.complete_task(
            session,
            cases.CompleteTask(result.reference, task, ANSWERS["acknowledge_application"], carol),
        )
        references.append(result.reference)
    return SamsCases(*references)


def pdf_text(pdf: bytes) -> str:
    """Return the text of every page of a PDF."""
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
