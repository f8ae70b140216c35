"""Benchmark the auditors' tools: replay of a typical case, and `audit verify` over many cases.

Run with `python bench/audit.py --help`; the output is also written to bench/results/audit.txt.
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import database
from sqlalchemy import func, insert, select, text
from timing import Report, median, ms, p95, progress, timed
from workload import MAIN_PATH

from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import replay, verify
from trigger_workflow.services.tasks import cases
from trigger_workflow.store import chain
from trigger_workflow.store.models import Case, Event

RESULTS = Path(__file__).resolve().parent / "results" / "audit.txt"
BATCH = 2000  # synthetic cases per insert


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replays", type=int, default=20, help="typical cases replayed (20)")
    parser.add_argument(
        "--cases", type=int, default=100_000, help="cases `audit verify` checks (100000)"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="use this database (its tables are dropped) instead of a temporary SQLite file",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run both parts and print the report."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or database.sqlite_url(Path(directory), "audit")
        bench = database.fresh(url)
        report = Report(RESULTS)
        report.line(f"# Audit bench on {bench.where} ({database.server_version(bench.engine)})")
        try:
            references = typical_cases(bench, args.replays + 1)
            replay_part(bench, references, report)
            verify_part(bench, references[0], args.cases, report)
        finally:
            bench.dispose()
            report.close()


def typical_cases(bench: database.BenchDatabase, count: int) -> list[str]:
    """Drive `count` cases along the main path (10 tasks, 11 events) through the services."""
    progress(f"driving {count} typical cases along the main path")
    references = []
    for _ in range(count):
        with bench.sessions() as session:
            first, *rest = MAIN_PATH
            command = cases.SubmitApplication(copy.deepcopy(first.data), actors.PUBLIC)
            reference = cases.submit_application(session, command).reference
            for step in rest:
                case = session.scalar(select(Case).where(Case.reference == reference))
                assert case is not None
                session.refresh(case)
                task = next(
                    t.id
                    for t in case.open_tasks
                    if t.task_spec == step.task and (step.agency is None or t.agency == step.agency)
                )
                officer = bench.officers[step.officer]
                data = copy.deepcopy(step.data)
                cases.complete_task(session, cases.CompleteTask(reference, task, data, officer))
        references.append(reference)
    return references


def replay_part(bench: database.BenchDatabase, references: list[str], report: Report) -> None:
    """Time `replay_case` of each typical case (the first is a warm-up)."""
    progress("replaying")
    samples = []
    for index, reference in enumerate(references):
        with bench.sessions() as session:
            result, took = timed(lambda r=reference, s=session: replay.replay_case(s, r))
        assert result.matches, result.divergence
        if index:
            samples.append(took)
    report.line("")
    report.line("## Replay of a typical case (main path: 11 events, 10 task completions)")
    report.line(f"- cases replayed: {len(samples)}")
    report.line(f"- per case, median: {ms(median(samples))}; p95: {ms(p95(samples))}")


def verify_part(bench: database.BenchDatabase, model: str, count: int, report: Report) -> None:
    """Fill the database to `count` cases with chained copies of a real history, then verify all."""
    with bench.sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == model))
        assert case is not None
        events = list(
            session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
        )
        have = session.scalar(select(func.count()).select_from(Case)) or 0
        template = {c.name: getattr(case, c.name) for c in Case.__table__.columns if c.name != "id"}
        rows = [{name: getattr(e, name) for name in chain.CONTENT_FIELDS} for e in events]
    progress(f"adding {count - have} synthetic cases of {len(rows)} events each")
    start = time.perf_counter()
    next_id = _max_case_id(bench) + 1
    for first in range(have, count, BATCH):
        size = min(BATCH, count - first)
        _insert_batch(bench, template, rows, next_id, first, size)
        next_id += size
    if bench.dialect == "postgresql":
        with bench.engine.begin() as connection:
            connection.execute(text("SELECT setval('case_id_seq', (SELECT max(id) FROM \"case\"))"))
            connection.execute(text("ANALYZE"))
    inserted = time.perf_counter() - start
    progress("verifying every case")
    resident = [_resident_mb()]
    with bench.sessions() as session:
        result, took = timed(
            lambda: verify.verify_cases(
                session, progress=lambda *_: resident.append(_resident_mb())
            )
        )
    assert result.broken == [] and result.checked == count, (result.checked, result.broken[:3])
    report.line("")
    report.line(f"## `audit verify` over {count:,} cases")
    report.line(f"- events: {result.events:,} (added in {inserted:.0f} s, hashes included)")
    report.line(
        f"- verify all: {took / 1000:.1f} s ({took * 1000 / result.events:.1f} µs per event, "
        f"{result.events / (took / 1000):,.0f} events/s)"
    )
    report.line(
        f"- resident memory: {resident[0]:.0f} MB before, at most {max(resident):.0f} MB while "
        f"verifying ({len(resident) - 1} batches of 200 cases)"
    )


def _resident_mb() -> float:
    """Return this process's resident memory, in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _max_case_id(bench: database.BenchDatabase) -> int:
    with bench.engine.connect() as connection:
        return int(connection.execute(select(func.max(Case.id))).scalar() or 0)


def _insert_batch(
    bench: database.BenchDatabase,
    template: dict[str, Any],
    rows: list[dict[str, Any]],
    next_id: int,
    first: int,
    size: int,
) -> None:
    new_cases, new_events = [], []
    for offset in range(size):
        case_id = next_id + offset
        previous = chain.GENESIS
        for row in rows:
            content = dict(row, case_id=case_id)
            digest = chain.event_hash(content, previous)
            new_events.append(dict(content, prev_hash=previous, hash=digest))
            previous = digest
        new_cases.append(
            dict(
                template,
                id=case_id,
                reference=f"BV-{first + offset:07d}",
                submission_key=None,
                last_event_hash=previous,
            )
        )
    with bench.engine.begin() as connection:
        connection.execute(insert(Case), new_cases)
        connection.execute(insert(Event), new_events)


if __name__ == "__main__":
    main()
