"""What a subject access export holds about one person on each case: the documented JSON shape.

Each value of a case's events is shown by whose it is (services/privacy/personal_data.py):

- the requester's own (their person group): as held, or "[erased]";
- another person's group on the same case: REDACTED;
- free text about the case: as held, flagged "review before release: may name other people";
- an agency's answer to an information request: only if the exporting officer may read it (R22,
  access.readable_answers), flagged for review with the agency; otherwise withheld and named;
- anything else (closed choices, dates, outcomes): as held.

Officers' names are not redacted: they act in their role, not as private persons.
Version 1 of the shape is described in docs/subject-access.md; a change that removes or renames a
key raises FORMAT_VERSION.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.audit import access_log
from trigger_workflow.services.casework.queries import EVENT_TITLES
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store import chain
from trigger_workflow.store.models import Document, Erasure, Event, Letter, Officer

if TYPE_CHECKING:
    from trigger_workflow.services.privacy.subject_access import Match
    from trigger_workflow.store.models import Case

FORMAT = "trigger-workflow/subject-access"
FORMAT_VERSION = 1
REDACTED = "[redacted: another person's data]"
ERASED = personal_data.ERASED  # "[erased]", as the audit pages show it
REVIEW = "review before release: may name other people"
AGENCY_REVIEW = "an agency's answer: review with the agency before release"
# Who a value is about, as the export says it.
YOURS, OTHER, CASE, AGENCY, NOT_PERSONAL = "requester", "another person", "case", "agency", "none"
NOTES = [
    "Values about the requester are shown as held; values erased under the retention schedule "
    "or on request are shown as '[erased]'.",
    "Other people's details on the same case (applicant, victim, responsible adult) are "
    f"replaced by '{REDACTED}'.",
    f"Free text about a case is shown as held and flagged '{REVIEW}': read it and redact any "
    "third party before release.",
    "Agencies' answers to information requests are shown only to an officer who may read them, "
    f"flagged '{AGENCY_REVIEW}' (an exemption, such as crime prevention, may apply); otherwise "
    "the export says which agency answered and that the answer is withheld.",
    "Officers' names are not redacted: they act in their role for the council and its partners.",
]
_ANSWER_KEYS = (access.ANSWER, access.ANSWERS)


def build_report(
    session: Session, actor: Actor, chosen: Sequence[tuple[Case, Match]]
) -> dict[str, Any]:
    """Return the export document for the chosen (case, match) pairs."""
    rows = session.execute(select(Officer.username, Officer.display_name))
    names: dict[str, str] = {username: name for username, name in rows}
    return {
        "export": {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generated_at": chain.canonical_time(datetime.now().astimezone()),
            "generated_by": {
                "username": actor.username,
                "name": actor.display_name or names.get(actor.username, ""),
                "role": actor.role,
            },
        },
        "notes": NOTES,
        "cases": [_case_report(session, actor, case, match, names) for case, match in chosen],
    }


def _case_report(
    session: Session, actor: Actor, case: Case, match: Match, names: Mapping[str, str]
) -> dict[str, Any]:
    subject = match.subject
    version = case.process_version
    deployed = processes.deployed(version)
    closed = personal_data.closed_keys_of_files(deployed.content_hash, deployed.files.files)
    events = list(
        session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    )
    details: dict[str, Any] = {}
    tokens: dict[str, set[str]] = {}
    history = []
    for event in events:
        personal = event.personal or {
            "data": personal_data.classify_data(event.data, closed),
            "detail": personal_data.classify_detail(event.detail),
        }
        for path, value, about in _data_leaves(event.data or {}, personal.get("data") or {}):
            if about in personal_data.PERSON_GROUPS and isinstance(value, str):
                tokens.setdefault(about, set()).add(value)
            if about == subject:
                details[path] = _shown(value)
        history.append(_event_entry(actor, event, personal, subject, names))
    return {
        "reference": case.reference,
        "council": match.authority,
        "as": subject,
        "as_text": personal_data.SUBJECT_NAMES[subject],
        "found_by": list(match.matched),
        "received_on": case.received_on.isoformat(),
        "status": case.status,
        "stage": case.stage,
        "outcome": case.outcome,
        "closed_at": _time(case.closed_at),
        "anonymised_at": _time(case.anonymised_at),
        "details": [{"field": label(p), "path": p, "value": v} for p, v in details.items()],
        "history": history,
        "letters": _letters(session, case, subject),
        "documents": _documents(session, case, subject, tokens),
        "erasures": _erasures(session, case),
        "views": [
            {
                "at": chain.canonical_time(view.viewed_at),
                "by": view.username,
                "role": view.role,
                "agency": view.agency,
                "what": view.what,
            }
            for view in access_log.views_of(session, case.id)
        ],
    }


def _event_entry(
    actor: Actor,
    event: Event,
    personal: Mapping[str, Any],
    subject: str,
    names: Mapping[str, str],
) -> dict[str, Any]:
    detail = event.detail or {}
    readable = access.readable_answers(actor, event.data or {}, detail.get("agency"))
    items = [
        _item(path, value, about, subject)
        for path, value, about in _data_leaves(readable.data, personal.get("data") or {})
    ]
    items += [
        _item(path, value, about, subject)
        for path, value, about in _leaves_of(detail, personal.get("detail") or {})
    ]
    return {
        "seq": event.seq,
        "at": chain.canonical_time(event.occurred_at),
        "what": event.task_name or EVENT_TITLES.get(event.kind, event.kind.replace("_", " ")),
        "by": event.actor,
        "by_name": names.get(event.actor, ""),
        "stage": detail.get("stage"),
        "outcome": detail.get("outcome"),
        "items": items,
        "answers_withheld": sorted(set(readable.withheld)),
    }


def _data_leaves(data: Any, personal: Mapping[str, str]) -> list[tuple[str, Any, str]]:
    """Return (path, value, about) for every leaf of an event's data."""
    found = []
    for parts, value in personal_data.leaves(data):
        if not parts:
            continue
        path = personal_data.pointer(parts)
        about = _about(parts, personal.get(path))
        found.append((path, value, about))
    return found


def _leaves_of(detail: Any, personal: Mapping[str, str]) -> list[tuple[str, Any, str]]:
    """Return (path, value, about) for the personal leaves of an event's detail (the values a
    correction replaced, an incident's message): the service's own detail is not listed."""
    found = []
    for parts, value in personal_data.leaves(detail):
        path = personal_data.pointer(parts)
        if path in personal:
            found.append((path, value, _about(parts, personal[path])))
    return found


def _about(parts: tuple[str | int, ...], subject: str | None) -> str:
    """Return whose a leaf is: a person group wherever it stands in the path wins (a correction's
    replaced values keep the group's name under their own key), then the classification."""
    for part in parts:
        if part in personal_data.PERSON_GROUPS:
            return str(part)
    if parts and parts[0] in _ANSWER_KEYS:
        return AGENCY
    return subject or NOT_PERSONAL


def _item(path: str, value: Any, about: str, subject: str) -> dict[str, Any]:
    item: dict[str, Any] = {"field": label(path), "path": path, "value": None, "about": None}
    item["review"] = None
    if about == subject:
        item.update(value=_shown(value), about=YOURS)
    elif about in personal_data.PERSON_GROUPS:
        item.update(value=REDACTED, about=OTHER)
    elif about == personal_data.CASE:
        item.update(value=_shown(value), about=CASE, review=REVIEW)
    elif about == AGENCY:
        item.update(value=_shown(value), about=AGENCY, review=AGENCY_REVIEW)
    else:
        item.update(value=_shown(value), about=NOT_PERSONAL)
    return item


def _shown(value: Any) -> Any:
    return ERASED if chain.is_sealed(value) else value


def label(path: str) -> str:
    """Return a JSON Pointer as words: /incidents/0/what_happened is 'Incidents 1 › What happened'."""
    words = []
    for token in personal_data.parse_pointer(path):
        words.append(
            str(int(token) + 1) if token.isdigit() else token.replace("_", " ").capitalize()
        )
    return " › ".join(words)


def _letters(session: Session, case: Case, subject: str) -> list[dict[str, Any]]:
    """Letters go to the applicant: their text for the applicant, the fact of them otherwise."""
    letters = session.scalars(
        select(Letter).where(Letter.case_id == case.id).order_by(Letter.created_at, Letter.id)
    )
    found = []
    for letter in letters:
        entry: dict[str, Any] = {
            "kind": letter.kind,
            "sent_at": chain.canonical_time(letter.created_at),
            "subject": None,
            "recipient": None,
            "html": None,
            "withheld": None,
            "review": None,
        }
        if subject == personal_data.APPLICANT:
            entry.update(
                subject=letter.subject, recipient=letter.recipient_name, html=letter.html,
                review=REVIEW,
            )  # fmt: skip
        else:
            entry["withheld"] = "sent to another person (the applicant)"
        found.append(entry)
    return found


def _documents(
    session: Session, case: Case, subject: str, tokens: Mapping[str, set[str]]
) -> list[dict[str, Any]]:
    """The files uploaded with the application: named for the person they are about (a victim's
    consent form is the victim's), or for the applicant who uploaded the rest."""
    documents = session.scalars(
        select(Document).where(Document.case_id == case.id).order_by(Document.uploaded_at)
    )
    found = []
    for document in documents:
        owner = next(
            (group for group, held in tokens.items() if document.token in held),
            personal_data.APPLICANT,
        )
        entry: dict[str, Any] = {
            "purpose": document.purpose,
            "uploaded_at": chain.canonical_time(document.uploaded_at),
            "content_type": document.content_type,
            "size": document.size,
            "name": REDACTED,
            "review": None,
        }
        if owner == subject:
            entry.update(name=document.original_name, review=REVIEW)
        found.append(entry)
    return found


def _erasures(session: Session, case: Case) -> list[dict[str, Any]]:
    rows = session.scalars(select(Erasure).where(Erasure.case_id == case.id).order_by(Erasure.id))
    return [
        {"at": chain.canonical_time(e.erased_at), "under": e.under, "subjects": list(e.subjects)}
        for e in rows
    ]


def _time(moment: datetime | None) -> str | None:
    return chain.canonical_time(moment) if moment is not None else None
