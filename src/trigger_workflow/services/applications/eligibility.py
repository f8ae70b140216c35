"""Who may apply (R1): no anonymous applications, consent for someone else, an adult for under-18s.

The form's JSON Schema asks the questions; these are the rules it cannot state (ages, uploaded
documents, who may record consent). Each refusal names the field it is about, so the public form,
the officer's form and the JSON API all show it beside that field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from trigger_workflow.errors import FieldProblem
from trigger_workflow.services.accounts.actors import PUBLIC, Actor

ON_BEHALF = frozenset({"on_behalf", "group"})
WITH_DOCUMENT = frozenset({"signed_form", "in_writing"})
CONTACT_DETAIL = {"email": "email", "phone": "phone", "post": "address"}
ADULT_AGE = 18


def problems(
    data: dict[str, Any],
    actor: Actor,
    received_on: date,
    document_exists: Callable[[str], bool],
) -> list[FieldProblem]:
    """Return every reason this application cannot be accepted, each on its field."""
    found = _anonymous(data.get("applicant") or {})
    found += _under_18(data, received_on)
    if data.get("basis") in ON_BEHALF:
        found += _consent(data.get("victim") or {}, actor, received_on, document_exists)
    return found


def _anonymous(applicant: dict[str, Any]) -> list[FieldProblem]:
    """An application with no name, or no way to reach the applicant, is anonymous (R1)."""
    found = []
    if not _given(applicant.get("name")):
        found.append(
            FieldProblem(
                ("applicant", "name"),
                "Enter your full name: anonymous applications cannot be accepted",
            )
        )
    detail = CONTACT_DETAIL.get(applicant.get("preferred_contact") or "")
    if detail and not _given(applicant.get(detail)):
        found.append(
            FieldProblem(
                ("applicant", detail),
                f"Enter your {detail.replace('_', ' ')}: we need a way to contact you",
            )
        )
    return found


def _under_18(data: dict[str, Any], received_on: date) -> list[FieldProblem]:
    """An applicant under 18 applies with a responsible adult whom we can contact (R1)."""
    born = _date((data.get("applicant") or {}).get("date_of_birth"))
    if born is None:
        return []
    if born > received_on:
        return [FieldProblem(("applicant", "date_of_birth"), "Date of birth must be in the past")]
    if age_on(born, received_on) >= ADULT_AGE:
        return []
    adult = data.get("responsible_adult") or {}
    found = []
    if not _given(adult.get("name")):
        found.append(
            FieldProblem(
                ("responsible_adult", "name"),
                "Enter the name of a responsible adult: applicants under 18 apply with one",
            )
        )
    if not _given(adult.get("relationship")):
        found.append(
            FieldProblem(
                ("responsible_adult", "relationship"),
                "Enter the responsible adult's relationship to the applicant",
            )
        )
    if not (_given(adult.get("phone")) or _given(adult.get("email"))):
        found.append(
            FieldProblem(
                ("responsible_adult", "phone"),
                "Enter a phone number or email address for the responsible adult",
            )
        )
    return found


def _consent(
    victim: dict[str, Any],
    actor: Actor,
    received_on: date,
    document_exists: Callable[[str], bool],
) -> list[FieldProblem]:
    """Someone applying for the victim carries their consent: a document, or an officer's record."""
    how = victim.get("consent_how")
    if victim.get("consent_given") is not True or how is None:
        return []  # the form's own rules already ask for these
    if how in WITH_DOCUMENT:
        token = victim.get("consent_document")
        if not (isinstance(token, str) and token and document_exists(token)):
            return [
                FieldProblem(
                    ("victim", "consent_document"),
                    "Upload the victim's signed consent form, letter or email: without the "
                    "victim's consent we cannot accept an application made for them",
                )
            ]
        return []
    if actor == PUBLIC:
        return [
            FieldProblem(
                ("victim", "consent_how"),
                "Only a council officer can record consent given to them: upload the victim's "
                "signed consent form, letter or email instead",
            )
        ]
    found = []
    given_on = _date(victim.get("consent_date"))
    if given_on is None:
        found.append(
            FieldProblem(("victim", "consent_date"), "Enter the date the victim gave consent")
        )
    elif given_on > received_on:
        found.append(
            FieldProblem(
                ("victim", "consent_date"),
                "The date consent was given must be on or before the date the application was received",
            )
        )
    if not victim.get("consent_method"):
        found.append(
            FieldProblem(("victim", "consent_method"), "Select how the victim told the officer")
        )
    return found


def age_on(born: date, day: date) -> int:
    """Return a person's age in whole years on a day."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _given(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
