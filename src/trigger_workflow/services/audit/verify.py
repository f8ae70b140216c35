"""Check each case's event chain: find altered, deleted, inserted and reordered events.

Personal values are checked through their salted digests (store/chain.py): a value erased under
the retention schedule or on request verifies, and the verdict says when, by whom and under
what; a value changed, or put back after its key was destroyed, is an alteration like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.store import chain
from trigger_workflow.store.models import Case, CaseSecret, Erasure, Event

EVENT_NAMES = (*chain.CONTENT_FIELDS, "personal", "prev_hash", "hash")
UNDER = {"schedule": "under the retention schedule", "request": "on request"}
EVENT_COLUMNS = [getattr(Event, name) for name in EVENT_NAMES]


@dataclass(frozen=True)
class ChainProblem:
    """Where a case's chain is broken and how."""

    seq: int | None
    kind: str  # altered, deleted, inserted, reordered
    message: str
    shift: int | None = None  # recorded number minus present number, for a renumbered event


@dataclass(frozen=True)
class ErasureNote:
    """A lawful erasure of personal data from a case, as `audit verify` reports it."""

    erased_at: Any
    erased_by: str
    under: str
    subjects: tuple[str, ...]
    legacy_events: tuple[int, ...] = ()

    @property
    def message(self) -> str:
        """Say whose data was erased, when, by whom and under what."""
        whose = ", ".join(personal_data.SUBJECT_NAMES.get(s, s) for s in self.subjects)
        when = self.erased_at.strftime("%-d %B %Y")
        text = f"personal data of {whose} erased {UNDER.get(self.under, self.under)} on {when} by {self.erased_by}"
        if self.legacy_events:
            seqs = ", ".join(str(s) for s in self.legacy_events)
            text += (
                f"; event(s) {seqs} were recorded before values were sealed: their content can "
                "no longer be checked, their place in the chain still is"
            )
        return text


@dataclass
class CaseVerdict:
    """The result of checking one case."""

    reference: str
    events: int
    problems: list[ChainProblem] = field(default_factory=list)
    erasures: list[ErasureNote] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Return whether the case's chain is unbroken."""
        return not self.problems


@dataclass
class VerifyReport:
    """The result of checking many cases: the broken ones, and how many were checked."""

    checked: int = 0
    events: int = 0
    broken: list[CaseVerdict] = field(default_factory=list)
    erased: list[tuple[str, ErasureNote]] = field(default_factory=list)  # (reference, note)


def verify_cases(
    session: Session,
    references: Iterable[str] = (),
    batch: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Check the chains of the named cases, or of every case; report each broken one.

    Cases are read `batch` at a time with their events, so memory stays flat however many
    there are (verify_batches.py); `progress(checked, total)` is called after each batch.
    """
    from trigger_workflow.services.audit import verify_batches  # noqa: PLC0415 (import cycle)

    cases = _cases(session, list(references))
    report = VerifyReport()

    def take(verdicts: list[CaseVerdict]) -> None:
        for verdict in verdicts:
            report.checked += 1
            report.events += verdict.events
            report.erased.extend((verdict.reference, note) for note in verdict.erasures)
            if not verdict.intact:
                report.broken.append(verdict)
        if progress is not None:
            progress(report.checked, len(cases))

    verify_batches.check_all(session, cases, batch, take)
    return report


def _cases(session: Session, references: list[str]) -> list[tuple[int, str, int, str]]:
    query = select(Case.id, Case.reference, Case.events_recorded, Case.last_event_hash)
    if references:
        query = query.where(Case.reference.in_(references))
    found = [tuple(row) for row in session.execute(query.order_by(Case.id))]
    missing = set(references) - {row[1] for row in found}
    if missing:
        raise NotFound(f"There is no case {', '.join(sorted(missing))}.")
    return found


def case_salts(session: Session, case_ids: list[int]) -> dict[int, dict[str, bytes]]:
    """Return the salts still kept for each case, by subject."""
    found: dict[int, dict[str, bytes]] = {}
    rows = session.execute(
        select(CaseSecret.case_id, CaseSecret.subject, CaseSecret.salt).where(
            CaseSecret.case_id.in_(case_ids), CaseSecret.salt.is_not(None)
        )
    )
    for case_id, subject, salt in rows:
        found.setdefault(case_id, {})[subject] = salt
    return found


def case_erasures(session: Session, case_ids: list[int]) -> dict[int, list[ErasureNote]]:
    """Return the erasures recorded for each case, oldest first."""
    found: dict[int, list[ErasureNote]] = {}
    rows = session.scalars(
        select(Erasure).where(Erasure.case_id.in_(case_ids)).order_by(Erasure.id)
    )
    for row in rows:
        legacy = tuple(int(s) for s in (row.counts or {}).get("legacy_events", []))
        note = ErasureNote(row.erased_at, row.erased_by, row.under, tuple(row.subjects), legacy)
        found.setdefault(row.case_id, []).append(note)
    return found


def check_case(session: Session, case: Case, events: list[Any]) -> CaseVerdict:
    """Check one case's chain (its events as mappings of EVENT_NAMES, in seq order)."""
    return check_chain(
        case.reference,
        events,
        case.events_recorded,
        case.last_event_hash,
        case_salts(session, [case.id]).get(case.id, {}),
        case_erasures(session, [case.id]).get(case.id, []),
    )


def check_chain(
    reference: str,
    events: list[Any],
    recorded: int,
    head: str,
    salts: dict[str, bytes] | None = None,
    erasures: list[ErasureNote] | None = None,
) -> CaseVerdict:
    """Check one case's events (in seq order) against their hashes, links and the case's head.

    `salts` are the case's kept salts by subject; `erasures` the case's recorded erasures.
    """
    verdict = CaseVerdict(reference, len(events), erasures=list(erasures or []))
    unverifiable = {seq for note in verdict.erasures for seq in note.legacy_events}
    hashes = {e["hash"]: e["seq"] for e in events}
    previous_hash, previous_seq = chain.GENESIS, 0
    for event in events:
        problem = _check_event(
            event, previous_hash, previous_seq, hashes, len(events), salts or {}, unverifiable
        )
        if problem:
            verdict.problems.append(problem)
        previous_hash, previous_seq = event["hash"], event["seq"]
    if recorded > previous_seq:
        verdict.problems.append(
            ChainProblem(
                previous_seq + 1,
                "deleted",
                f"event {previous_seq + 1} to {recorded} missing: the case recorded {recorded} "
                f"events, the history ends at {previous_seq}",
            )
        )
    elif previous_hash != (head or chain.GENESIS):
        kind = "inserted" if previous_seq > recorded else "altered"
        verdict.problems.append(
            ChainProblem(
                previous_seq or None,
                kind,
                f"the history ends at event {previous_seq}, which is not the last event the "
                f"case recorded ({recorded}): an event was {kind} at the end",
            )
        )
    verdict.problems = _explain_renumbering(verdict.problems)
    return verdict


def _explain_renumbering(problems: list[ChainProblem]) -> list[ChainProblem]:
    """Say "inserted" or "deleted" when every later event was renumbered by one to hide it."""
    shifted = [p for p in problems if p.shift is not None]
    if not shifted or len({p.shift for p in shifted}) != 1:
        return problems
    shift = shifted[0].shift
    seqs = [p.seq for p in shifted if p.seq is not None]
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        return problems
    rest = [p for p in problems if p.shift is None and p.seq not in (seqs[0] - 1, seqs[0])]
    first = seqs[0]
    if shift == -1:
        where = ChainProblem(
            first - 1,
            "inserted",
            f"event {first - 1} was inserted: the {len(seqs)} events after it were each "
            "renumbered one up",
        )
    else:
        where = ChainProblem(
            first,
            "deleted",
            f"an event before event {first} was deleted: the {len(seqs)} events from there "
            "were each renumbered one down",
        )
    return sorted([*rest, where], key=lambda p: p.seq or 0)


def _check_event(
    event: Any,
    previous_hash: str,
    previous_seq: int,
    hashes: dict[str, int],
    count: int,
    salts: dict[str, bytes],
    unverifiable: set[int],
) -> ChainProblem | None:
    seq = event["seq"]
    try:
        content_matches = chain.event_hash_matches(event, event["prev_hash"], event["hash"], salts)
    except chain.SaltMissing as missing:
        whose = personal_data.SUBJECT_NAMES.get(missing.subject, missing.subject)
        return ChainProblem(
            seq,
            "altered",
            f"event {seq} was altered: it holds a value at {missing.path} of {whose}, whose "
            "personal data was erased (the value was put back or changed)",
        )
    if not content_matches and event["personal"] is None and seq in unverifiable:
        content_matches = True  # erased before sealing existed: said in the erasure's note
    if not content_matches:
        moved = _hashed_as(event, count, salts)
        if moved is not None:
            return ChainProblem(
                seq,
                "reordered",
                f"event {seq} was recorded as event {moved}: events reordered",
                shift=moved - seq,
            )
        return ChainProblem(
            seq, "altered", f"event {seq} was altered: its content does not match its hash"
        )
    if event["prev_hash"] == previous_hash:
        if seq != previous_seq + 1:
            return ChainProblem(
                seq,
                "reordered",
                f"event {seq} follows event {previous_seq}, but was numbered out of turn",
            )
        return None
    if event["prev_hash"] in hashes:
        after = hashes[event["prev_hash"]]
        return ChainProblem(
            seq,
            "reordered",
            f"event {seq} was recorded after event {after}, not {previous_seq}: events reordered",
        )
    if seq > previous_seq + 1:
        return ChainProblem(
            previous_seq + 1,
            "deleted",
            f"event {previous_seq + 1}{'' if seq == previous_seq + 2 else f' to {seq - 1}'} missing: "
            f"event {seq} follows an event that is not there",
        )
    return ChainProblem(
        seq,
        "inserted",
        f"event {seq} does not follow event {previous_seq}: an event was inserted or replaced before it",
    )


def _hashed_as(event: Any, count: int, salts: dict[str, bytes]) -> int | None:
    """Return the number the event had when recorded, if only its number was changed."""
    content = dict(event)
    for seq in range(1, count + 2):
        if seq != event["seq"]:
            content["seq"] = seq
            if chain.event_hash(content, event["prev_hash"], salts) == event["hash"]:
                return seq
    return None
