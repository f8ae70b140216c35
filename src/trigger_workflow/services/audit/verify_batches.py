"""`audit verify`'s loop over many cases: a batch of cases at a time, read with their events,
salts and erasures, checked in this process or, for a large history, in worker processes.

A batch is plain data (the JSON columns as their text): the workers need no database, and
reading the next batch goes on while they check. At most two batches per worker wait, so memory
stays flat however many cases there are.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from trigger_workflow.services.audit import verify
from trigger_workflow.store.db import read_json
from trigger_workflow.store.models import Event

JSON_NAMES = frozenset({"data", "detail", "personal"})
RAW_COLUMNS = [
    cast(getattr(Event, name), Text) if name in JSON_NAMES else getattr(Event, name)
    for name in verify.EVENT_NAMES
]
WORKERS_FROM = 2000  # cases: fewer are checked in this process (a worker takes a second to start)


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
    """Check every case of a batch (in a worker process or this one)."""
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
    workers: int,
    take: Callable[[list[verify.CaseVerdict]], None],
) -> None:
    """Check every case, giving each batch's verdicts to `take` in order."""
    if workers <= 1 or len(cases) < WORKERS_FROM:
        for batch in read_batches(session, cases, size):
            take(check_batch(batch))
        return
    # spawn: a fresh interpreter, whatever threads or connections this process holds
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        waiting: list[Future[list[verify.CaseVerdict]]] = []
        for batch in read_batches(session, cases, size):
            waiting.append(pool.submit(check_batch, batch))
            while len(waiting) > 2 * workers:
                take(waiting.pop(0).result())
        for future in waiting:
            take(future.result())
