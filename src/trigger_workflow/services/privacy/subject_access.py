"""Subject access requests (UK GDPR article 15, issue 13): find a person across cases, export
what is held about them with other people's data redacted, and log both.

An officer searches by any of name, email, phone, postcode and date of birth; the values are
compared, normalised, with those under each person group (applicant, victim, responsible adult)
of the cases' applications and later corrections. The officer confirms the matches (which
case, as whom, what matched) and exports them: `subject_access_report` builds the document.

Only auditors and administrators make these exports, each over the cases of the authorities
they serve (county-wide officers: every case). Each search and export is written to the
security log (references and counts, never the values searched for), and each export is logged
as a view of every case in it (R22).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from trigger_workflow.errors import FieldProblem, FormInvalid, NotPermitted
from trigger_workflow.services.accounts import access, security_log
from trigger_workflow.services.accounts.actors import ADMINISTRATOR, Actor
from trigger_workflow.services.audit import access_log
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.services.privacy.subject_access_report import build_report
from trigger_workflow.store.chain import is_sealed
from trigger_workflow.store.models import Authority, Case, Event

SUBJECT_ACCESS_ROLES = frozenset({"auditor", ADMINISTRATOR})
FIELDS = {
    "name": "Name",
    "email": "Email address",
    "phone": "Phone number",
    "postcode": "Postcode",
    "date_of_birth": "Date of birth",
}
SUBJECT = "subject access request"  # the security log's "account" column for these entries
MAX_MATCHES = 200  # a search this wide is not one person: ask for more details
_DATE = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")


def require_subject_access(actor: Actor | None) -> Actor:
    """Return the actor if they may handle subject access requests, else refuse (403)."""
    if actor is None or actor.role not in SUBJECT_ACCESS_ROLES:
        raise NotPermitted("Subject access requests are handled by auditors and administrators.")
    return actor


@dataclass(frozen=True)
class PersonQuery:
    """What the requester gave to be found by; empty fields are not compared."""

    name: str = ""
    email: str = ""
    phone: str = ""
    postcode: str = ""
    date_of_birth: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> PersonQuery:
        """Read a query from a posted form (or the command line's options)."""
        return cls(**{key: str(form.get(key) or "").strip()[:200] for key in FIELDS})

    def criteria(self) -> dict[str, str]:
        """Return the given fields, normalised, by field name; refuse a query with none."""
        given = {key: normalise(key, getattr(self, key)) for key in FIELDS}
        given = {key: value for key, value in given.items() if value}
        if not given:
            problem = (
                "Enter at least one of the person's name, email, phone, postcode or date of birth"
            )
            raise FormInvalid([FieldProblem(("name",), problem)])
        return given


def normalise(field: str, value: Any) -> str:
    """Return a value as it is compared: case, spaces and formatting do not count."""
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    if field == "phone":
        digits = re.sub(r"\D", "", text)
        return "0" + digits[2:] if digits.startswith("44") and len(digits) > 10 else digits
    if field == "postcode":
        return text.replace(" ", "").upper()
    if field == "date_of_birth":
        found = _DATE.match(text)
        if found:
            day, month, year = (int(part) for part in found.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return text
        return text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", text) else text
    return text.casefold()


@dataclass(frozen=True)
class Match:
    """A case where someone matches: as which person (subject), and on which fields."""

    reference: str
    subject: str
    matched: tuple[str, ...]
    authority: str
    received_on: date
    status: str

    @property
    def key(self) -> str:
        """Return the value a confirmation form posts for this match."""
        return f"{self.reference}:{self.subject}"

    @property
    def subject_text(self) -> str:
        """Return who the person is on this case, in words."""
        return personal_data.SUBJECT_NAMES[self.subject]

    @property
    def matched_text(self) -> str:
        """Return the fields that matched, in words."""
        return ", ".join(FIELDS[f].lower() for f in self.matched)


def search(session: Session, actor: Actor, query: PersonQuery, address: str = "") -> list[Match]:
    """Return where the person may be, best matches first; log the search (no values)."""
    require_subject_access(actor)
    criteria = query.criteria()
    matches = find_matches(session, actor, criteria)
    references = sorted({m.reference for m in matches})
    security_log.record(
        session,
        security_log.SUBJECT_ACCESS_SEARCHED,
        actor=actor.username,
        subject=SUBJECT,
        address=address,
        detail=f"searched by {', '.join(sorted(criteria))}: {len(matches)} matches"
        + (f" on {', '.join(references)}" if references else ""),
    )
    session.commit()
    return matches


def find_matches(session: Session, actor: Actor, criteria: Mapping[str, str]) -> list[Match]:
    """Return the person groups of the actor's cases holding any of these (normalised) values.

    Every value a group ever held counts (the application's, and each correction's), so a
    person is found by an old address as by a new one. Erased values match nothing.
    """
    held = _values_by_case(session, actor)
    matches = []
    for case_id, groups in held.items():
        for subject, fields in groups.items():
            matched = tuple(f for f in FIELDS if f in criteria and criteria[f] in fields.get(f, ()))
            if matched:
                matches.append((case_id, subject, matched))
    if len(matches) > MAX_MATCHES:
        raise FormInvalid(
            [FieldProblem(("name",), "Too many people match: enter more of their details")]
        )
    cases = _cases(session, {case_id for case_id, _, _ in matches})
    found = [
        Match(
            reference=cases[case_id][0].reference,
            subject=subject,
            matched=matched,
            authority=cases[case_id][1],
            received_on=cases[case_id][0].received_on,
            status=cases[case_id][0].status,
        )
        for case_id, subject, matched in matches
    ]
    return sorted(found, key=lambda m: (-len(m.matched), m.reference, m.subject))


def _values_by_case(session: Session, actor: Actor) -> dict[int, dict[str, dict[str, set[str]]]]:
    """Return {case id: {person group: {field: normalised values}}} over the actor's cases."""
    text = cast(Event.data, String)
    query = (
        select(Event.case_id, Event.data)
        .join(Case, Case.id == Event.case_id)
        .where(access.in_authorities(actor))
        # Only events whose data names a person group can hold one (a cheap first filter).
        .where(or_(*(text.like(f'%"{group}"%') for group in personal_data.PERSON_GROUPS)))
        .execution_options(yield_per=500)
    )
    held: dict[int, dict[str, dict[str, set[str]]]] = {}
    for case_id, data in session.execute(query):
        for subject in personal_data.PERSON_GROUPS:
            group = data.get(subject) if isinstance(data, dict) else None
            if not isinstance(group, dict):
                continue
            fields = held.setdefault(case_id, {}).setdefault(subject, {})
            for field in FIELDS:
                value = group.get(field)
                if value is not None and not is_sealed(value):
                    normal = normalise(field, value)
                    if normal:
                        fields.setdefault(field, set()).add(normal)
    return held


def _cases(session: Session, ids: Iterable[int]) -> dict[int, tuple[Case, str]]:
    wanted = sorted(ids)
    if not wanted:
        return {}
    query = (
        select(Case, Authority.name)
        .outerjoin(Authority, Authority.id == Case.authority_id)
        .where(Case.id.in_(wanted))
    )
    return {case.id: (case, name or "") for case, name in session.execute(query)}


@dataclass(frozen=True)
class Export:
    """What an export holds (the documented JSON shape), and the cases it covers."""

    document: dict[str, Any]
    references: list[str]


def export(
    session: Session,
    actor: Actor,
    query: PersonQuery,
    chosen: Sequence[str],
    what: str,
    address: str = "",
) -> Export:
    """Return everything held about the person on the chosen matches; log the export.

    `chosen` are match keys (REFERENCE:subject) the officer confirmed; each is checked again
    against the search, so only a match of this query on a case the officer serves is exported.
    `what` names the format ("JSON", "PDF") in the logs.
    """
    require_subject_access(actor)
    criteria = query.criteria()
    wanted = set(chosen)
    matches = [m for m in find_matches(session, actor, criteria) if m.key in wanted]
    if not matches:
        raise FormInvalid([FieldProblem(("chosen",), "Choose at least one case to export")])
    references = sorted({m.reference for m in matches})
    cases = {
        c.reference: c for c in session.scalars(select(Case).where(Case.reference.in_(references)))
    }
    chosen_cases = [(cases[m.reference], m) for m in sorted(matches, key=lambda m: m.key)]
    document = build_report(session, actor, chosen_cases)
    for case, match in chosen_cases:
        access_log.record_export(
            session, case.id, actor, f"subject access export ({what}) of the {match.subject}"
        )
    security_log.record(
        session,
        security_log.SUBJECT_ACCESS_EXPORTED,
        actor=actor.username,
        subject=SUBJECT,
        address=address,
        detail=f"{what} export of {len(references)} cases: {', '.join(references)}",
    )
    session.commit()
    return Export(document, references)
