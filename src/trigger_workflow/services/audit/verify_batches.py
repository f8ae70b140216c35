"""`audit verify`'s loop over many cases: a batch of cases at a time, read with their events,
salts and erasures, then checked, so memory stays flat however many cases there are.

The JSON columns are read as their text and decoded here with orjson (json_text.read_json). Checking
batches in worker processes was tried: on two quiet cores it was no faster (9.3 and 8.9 s against
9.6 and 9.0 s over 220,000 events), reading the batches being the bottleneck, so it was removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from trigger_workflow.json_text import read_json
from trigger_workflow.services.audit import verify
from trigger_workflow.store.models import Event

JSON_NAMES = frozenset({"data", "detail", "personal"})
RAW_COLUMNS = [
    cast(getattr(Event, name), Text) if name in JSON_NAMES else getattr(Event, name)
    for name in verify.EVENT_NAMES
]


@dataclass(frozen=True)
class Batch:
    """Cases (id, reference, events recorded, head hash) with their raw events and keys."""

    cases: list[tuple[int, str, int, str]]
    events: dict[int, list[tuple[Any, ...]]]
    salts: dict[int, dict[str, bytes]]
    erasures: dict[int, list[verify.ErasureNote]]


def read_batches(
    session: Session, cases: list[tuple[int, str, int, str]], size: int
) -> Iterator[Batch]:
    """Read the cases `size` at a time, each with its events in order."""
    for start in range(0, len(cases), size):
        chunk = cases[start : start + size]
        ids = [c[0] for c in chunk]
        rows = session.execute(
            select(*RAW_COLUMNS).where(Event.case_id.in_(ids)).order_by(Event.case_id, Event.seq)
        ).all()
        events = {k: [tuple(r) for r in v] for k, v in groupby(rows, key=lambda r: r[0])}
        yield Batch(
            chunk, events, verify.case_salts(session, ids), verify.case_erasures(session, ids)
        )


def check_batch(batch: Batch) -> list[verify.CaseVerdict]:
    """Check every case of a batch."""
    verdicts = []
    for case_id, reference, recorded, head in batch.cases:
        events = [_event(row) for row in batch.events.get(case_id, [])]
        verdicts.append(
            verify.check_chain(
                reference,
                events,
                recorded,
                head,
                batch.salts.get(case_id, {}),
                batch.erasures.get(case_id, []),
            )
        )
    return verdicts


def _event(row: tuple[Any, ...]) -> dict[str, Any]:
    event = dict(zip(verify.EVENT_NAMES, row, strict=True))
    for name in JSON_NAMES:
        text = event[name]
        event[name] = None if text is None else read_json(text)
    return event


def check_all(
    session: Session,
    cases: list[tuple[int, str, int, str]],
    size: int,
    take: Callable[[list[verify.CaseVerdict]], None],
) -> None:
    """Check every case, giving each batch's verdicts to `take` in order."""
    for batch in read_batches(session, cases, size):
        take(check_batch(batch))
