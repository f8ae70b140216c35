"""Erase a person's values from a case's events, leaving a chain that still verifies (issue 13).

Each personal leaf of the person's (subject's) in every event is replaced by the very object its
event's hash committed to ({"$sealed": HMAC(salt, path + value)}, store/chain.py): the hash does
not change. The salt is destroyed afterwards (services/privacy/salts.py, by the caller), so the
digest can never be tested against a guess.

This is the only code that writes to a recorded event, and only this way: through an UPDATE of
the table (the ORM refuses to change an event, store/models.py), never a value that is not
the sealed form of what was there.

Events recorded before personal values were sealed (Event.personal is None) are hashed over
their values as they were: their personal values are erased all the same (a case's personal
data must go whatever its age), and they are listed as `legacy_events`, whose content
`audit verify` can then no longer check (it says so; their links in the chain are still checked).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from trigger_workflow.services.privacy import personal_data, redaction
from trigger_workflow.services.privacy import salts as case_salts
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store import chain
from trigger_workflow.store.models import Case, Event

# The table itself, not the ORM entity (which refuses any change to an event).
EVENT_TABLE: Table = Event.__table__  # type: ignore[assignment]
SHORTEST_VALUE = 2  # shorter values (an initial) are erased in place but not searched for elsewhere


@dataclass
class ErasedValues:
    """What erasing some subjects from a case's events did."""

    values: set[str] = field(default_factory=set)  # to remove wherever else they were copied
    events: int = 0  # events in which values were sealed
    leaves: int = 0
    legacy_events: list[int] = field(default_factory=list)  # seqs: content no longer checkable


def erase_from_events(session: Session, case: Case, subjects: Collection[str]) -> ErasedValues:
    """Seal every personal value of these subjects in the case's events; return what was there.

    A value of the case's free text that names one of them (an officer's note "Vic's health is
    suffering" when the victim is erased) is sealed too, whole: the free text's own key is kept
    until the case's free text is erased, and a whole sentence cannot be guessed from its digest.
    The caller holds the case row locked, and destroys the subjects' salts afterwards.
    """
    wanted = set(subjects)
    salts = case_salts.salts_for(session, case, ())
    closed = _closed_keys(case)
    rows = [
        (event_id, seq, data or {}, detail or {}, personal, personal is None)
        for event_id, seq, data, detail, personal in session.execute(
            select(Event.id, Event.seq, Event.data, Event.detail, Event.personal)
            .where(Event.case_id == case.id)
            .order_by(Event.seq)
        )
    ]
    classified = [
        (row, row[4] if not row[5] else _classified(row[2], row[3], closed)) for row in rows
    ]
    names = {
        value
        for (_, _, data, detail, _, _), personal in classified
        for value in _values_of(data, detail, personal, wanted, closed)
    }
    mentions = redaction.redactor(names, closed) if personal_data.CASE not in wanted else None
    result = ErasedValues()
    for (event_id, seq, data, detail, _, legacy), personal in classified:
        new_data, erased_data = _erase(data, personal.get("data") or {}, wanted, mentions, salts)
        new_detail, erased_detail = _erase(
            detail, personal.get("detail") or {}, wanted, mentions, salts
        )
        erased = erased_data + erased_detail
        if not erased:
            continue
        session.execute(
            update(EVENT_TABLE)
            .where(EVENT_TABLE.c.id == event_id)
            .values(data=new_data, detail=new_detail)
        )
        result.events += 1
        result.leaves += len(erased)
        if legacy:
            result.legacy_events.append(seq)
    result.values = names
    # Events already in the session (this transaction's) must not keep the values in memory.
    session.expire_all()
    return result


def _classified(
    data: dict[str, Any], detail: dict[str, Any], closed: frozenset[str]
) -> dict[str, dict[str, str]]:
    """Classify an event recorded before sealing, as it would have been."""
    return {
        "data": personal_data.classify_data(data, closed),
        "detail": personal_data.classify_detail(detail),
    }


def _values_of(
    data: dict[str, Any],
    detail: dict[str, Any],
    personal: Mapping[str, Mapping[str, str]],
    wanted: set[str],
    closed: frozenset[str],
) -> list[str]:
    """Return the searchable values of the wanted subjects in one event."""
    found = []
    for part, value in (("data", data), ("detail", detail)):
        for path, subject in (personal.get(part) or {}).items():
            if subject in wanted:
                leaf = chain.locate(value, path)[2]
                if not chain.is_sealed(leaf):
                    searchable = _searchable(path, leaf, closed)
                    if searchable is not None:
                        found.append(searchable)
    return found


def _erase(
    value: dict[str, Any],
    paths: Mapping[str, str],
    wanted: set[str],
    mentions: redaction.Redactor | None,
    salts: Mapping[str, bytes],
) -> tuple[dict[str, Any], list[str]]:
    """Return the value with the wanted subjects' leaves (and free text naming them) sealed,
    and the paths sealed."""
    copy = chain.as_stored(value)
    erased: list[str] = []
    for path, subject in paths.items():
        parent, key, leaf = chain.locate(copy, path)
        if parent is None or chain.is_sealed(leaf):
            continue
        names_them = (
            subject == personal_data.CASE
            and mentions is not None
            and isinstance(leaf, str)
            and mentions.holds(leaf)
        )
        if subject not in wanted and not names_them:
            continue
        # A salt missing here means an event recorded before sealing (its hash is over the
        # values themselves): a random one-off key keeps the erased digest meaningless.
        salt = salts.get(subject) or secrets.token_bytes(case_salts.SALT_BYTES)
        parent[key] = chain.seal(salt, path, leaf)
        erased.append(path)
    return copy, erased


def _searchable(path: str, leaf: Any, closed: frozenset[str]) -> str | None:
    """Return a value to look for wherever else the case's data was copied, if it identifies:
    not a closed choice (the applicant's preferred contact "email"), a yes/no or a number."""
    if not isinstance(leaf, str) or len(leaf.strip()) < SHORTEST_VALUE:
        return None
    key = personal_data.parse_pointer(path)[-1] if path else ""
    if key in closed:
        return None
    return leaf


def _closed_keys(case: Case) -> frozenset[str]:
    deployed = processes.deployed(case.process_version)
    return personal_data.closed_keys_of_files(deployed.content_hash, deployed.files.files)


def subjects_on(session: Session, case: Case) -> set[str]:
    """Return the subjects whose personal values a case's events hold (erased or not)."""
    found: set[str] = set()
    closed = _closed_keys(case)
    rows = session.execute(
        select(Event.data, Event.detail, Event.personal).where(Event.case_id == case.id)
    )
    for data, detail, personal in rows:
        if personal is None:
            personal = {
                "data": personal_data.classify_data(data, closed),
                "detail": personal_data.classify_detail(detail),
            }
        for part in ("data", "detail"):
            found.update((personal.get(part) or {}).values())
    return found
