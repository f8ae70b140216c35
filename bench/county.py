"""Part 5 interleaved (issue 12): one council against ten, each call timed on both databases in turn.

`run.py` times one council, then the county, a minute apart: on a shared machine the load
changes between the halves and their ratio with it. Here both databases are filled first, then
every round times each call on one, then on the other, so a change of load hits both alike.

    .venv/bin/python bench/county.py [--cases 100000] [--councils 10] [--rounds 30]
    .venv/bin/python bench/county.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

On PostgreSQL the two layouts are two schemas (county_1, county_N) of the database given, dropped
and created afresh.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import database
import tasklist
from sqlalchemy.orm import Session
from timing import median, ms, progress, timed

from trigger_workflow.services.accounts import access, actors
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.casework import case_list, queries
from trigger_workflow.services.tasks import inbox

WARMUP = 3
CALLS: dict[str, Callable[[Session, Actor], int]] = {
    "task-list query (queries.open_tasks_for)": lambda s, a: len(queries.open_tasks_for(s, a)),
    "inbox, all my team's tasks (inbox.inbox)": lambda s, a: len(
        inbox.inbox(s, a, inbox.InboxQuery()).rows
    ),
    "inbox, overdue, latest due first": lambda s, a: len(
        inbox.inbox(s, a, inbox.InboxQuery(due=inbox.OVERDUE, sort="-due")).rows
    ),
    "case list, page 1 with the count": lambda s, a: len(
        case_list.search_cases(s, case_list.CaseSearch(), visible=[access.visible_cases(a)]).rows
    ),
    "case list, open with an overdue task": lambda s, a: len(
        case_list.search_cases(
            s,
            case_list.CaseSearch(status="open", overdue=True),
            visible=[access.visible_cases(a)],
        ).rows
    ),
}


def layout_url(base: str, tmp: Path, councils: int) -> str:
    """Return an empty database for one layout: a SQLite file, or a fresh PostgreSQL schema."""
    return database.empty_url(base, tmp, f"county_{councils}")


def build(url: str, cases: int, councils: int) -> tuple[database.BenchDatabase, Actor]:
    """Fill a database with the cases spread over the councils; return it and the coordinator."""
    db = database.fresh(url)
    ids = database.add_councils(db, councils)
    tasklist.fill(db, cases, authorities=ids)
    with db.sessions() as session:
        return db, actors.find_officer(session, "carol")


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    """Fill both layouts, time the calls in turn, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--councils", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default="", help="PostgreSQL (two schemas in it)")
    args = parser.parse_args()
    if args.database_url:
        database.check_url(args.database_url)
    with tempfile.TemporaryDirectory(prefix="trigger-county-") as directory:
        tmp = Path(directory)
        layouts = {}
        for councils in (1, args.councils):
            progress(f"filling {args.cases:,} cases over {councils} council(s)")
            url = layout_url(args.database_url, tmp, councils)
            layouts[councils] = build(url, args.cases, councils)
        samples: dict[tuple[str, int], list[float]] = {}
        rows: dict[tuple[str, int], int] = {}
        print(f"load average at the start (1, 5, 15 min): {load_average()}")
        for round_number in range(WARMUP + args.rounds):
            for name, call in CALLS.items():
                for councils, (db, coordinator) in layouts.items():
                    with db.sessions() as session:
                        count, took = timed(partial(call, session, coordinator))
                    rows[(name, councils)] = count
                    if round_number >= WARMUP:
                        samples.setdefault((name, councils), []).append(took)
        print(f"load average at the end (1, 5, 15 min): {load_average()}")
        for db, _ in layouts.values():
            db.dispose()
    one, many = 1, args.councils
    where = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{args.cases:,} cases on {where}, the coordinator of council 1; median of "
        f"{args.rounds} rounds, fresh session per call; ratio = {many} councils / 1 council"
    )
    for name in CALLS:
        single, spread = median(samples[(name, one)]), median(samples[(name, many)])
        print(
            f"  {name:44} {ms(single):>9} {ms(spread):>9}  {spread / single:.2f}×  "
            f"rows {rows[(name, one)]}/{rows[(name, many)]}"
        )


if __name__ == "__main__":
    main()
