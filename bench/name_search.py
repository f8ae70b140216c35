"""The case list's text search before and after migration 0020's indexes (issue 15, item 4),
each search timed on both databases in turn so that a change of load hits both alike.

    .venv/bin/python bench/name_search.py [--cases 100000] [--rounds 30]
    .venv/bin/python bench/name_search.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Two databases are filled alike (`tasklist.fill`, one council), then the applicants are given
varied names and postcodes (the fill names every applicant "Applicant N" and gives one
postcode). "Before" is migrated back to 0019 and searched with main's query (copied below);
"after" keeps 0020 and searches with `name_search`. Each call is `case_list.search_cases` as the
council's coordinator (her access condition included), in a fresh session. On PostgreSQL the
two databases are two schemas (search_before, search_after) of the database given.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import database
import tasklist
from alembic import command
from county import load_average
from sqlalchemy import ColumnElement, bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session
from timing import median, ms, p95, progress, timed

from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.casework import case_list, name_search
from trigger_workflow.store import db as store
from trigger_workflow.store.models import Case

WARMUP = 3
FIRST = ["Ann", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Harry", "Isla", "Jack"]
FIRST += ["Kate", "Liam", "Mia", "Noah", "Olivia", "Paul", "Rosa", "Sam", "Tom", "Zofia"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies"]
LAST += ["Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green"]
LAST += ["Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "O'Brien", "Śmiałek", "Nowak"]
LAST += ["Kowalski", "Murphy", "Kelly", "Hughes", "Edwards"]
SEARCHES = {
    "a full name, non-ASCII (ann śmiałek)": "ann śmiałek",
    "part of a surname (brien)": "brien",
    "the bench page's search (Applicant 9999)": "Applicant 9999",
    "reference prefix (BX-2026-00042)": "BX-2026-00042",
    "postcode prefix (de7 3)": "de7 3",
    "two letters (jo): no trigram": "jo",
}


def main_matches_text(text: str, dialect: str) -> ColumnElement[bool]:
    """Main's search before 0020 (case_list._matches_text at 189d621), for the "before" side."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    def like(column: Any, pattern: str) -> ColumnElement[bool]:
        if dialect == "sqlite":
            return column.like(pattern, escape="\\")  # type: ignore[no-any-return]
        return func.lower(column).like(pattern.lower(), escape="\\")

    return or_(
        Case.reference.startswith(text.upper(), autoescape=True),
        like(Case.applicant_postcode, f"{escaped}%"),
        like(Case.applicant_name, f"%{escaped}%"),
    )


def vary_applicants(db: database.BenchDatabase, cases: int) -> None:
    """Give the applicants varied names and postcodes; keep case 9999's "Applicant 9999"."""
    rows = [
        {
            "key": case_id,
            "name": f"{FIRST[case_id % len(FIRST)]} {LAST[case_id // len(FIRST) % len(LAST)]}",
            "postcode": f"DE{case_id % 30 + 1} {case_id // 30 % 9 + 1}AB",
        }
        for case_id in range(1, cases + 1)
        if case_id != 9999
    ]
    change = (
        update(Case)
        .where(Case.id == bindparam("key"))
        .values(applicant_name=bindparam("name"), applicant_postcode=bindparam("postcode"))
    )
    with db.engine.begin() as connection:
        connection.execute(change, rows)
    # Every name changed at once leaves what a real database, whose names rarely change, would
    # not: dead rows and a GIN backlog on PostgreSQL (autovacuum would soon clear them), and on
    # SQLite a deletion marker per name in the full-text index (merged here as after erasures).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if db.dialect == "postgresql":
            connection.execute(text('VACUUM ANALYZE "case"'))
        else:  # both databases are at 0020 here ("before" goes back to 0019 afterwards)
            with Session(connection) as session:
                name_search.merge_index(session)


def build(url: str, cases: int, before: bool) -> tuple[database.BenchDatabase, Actor]:
    """Fill one database; migrate "before" back to 0019 (no search indexes)."""
    db = database.fresh(url)
    tasklist.fill(db, cases)
    vary_applicants(db, cases)
    if before:
        command.downgrade(store.alembic_config(url), "0019")
    return db, db.officers["carol"]


def search(matcher: Callable[[str, str], ColumnElement[bool]], words: str) -> Callable[..., int]:
    """Return a call of the case list's search with this matcher in place of name_search's."""

    def call(db: database.BenchDatabase, actor: Actor) -> int:
        real = name_search.matches_text
        name_search.matches_text = matcher  # type: ignore[assignment]
        try:
            with db.sessions() as session:
                found = case_list.search_cases(
                    session, case_list.CaseSearch(text=words), visible=[access.visible_cases(actor)]
                )
        finally:
            name_search.matches_text = real  # type: ignore[assignment]
        return found.total

    return call


def query(matcher: Callable[[str, str], ColumnElement[bool]], words: str) -> Callable[..., int]:
    """Return a call of the search's own statement (search_cases's first): the page's ids of the
    matching cases the officer may see, newest change first, with their total."""

    def call(db: database.BenchDatabase, actor: Actor) -> int:
        where = [access.visible_cases(actor), matcher(words, db.dialect)]
        matches = select(Case.id, Case.updated_at, func.count().over().label("total"))
        matches = matches.where(*where).subquery()
        page = select(matches.c.id, matches.c.total).order_by(
            matches.c.updated_at.desc(), matches.c.id.desc()
        )
        with db.sessions() as session:
            found = session.execute(page.limit(case_list.PER_PAGE)).all()
        return int(found[0][1]) if found else 0

    return call


CALLS = {"statement": query, "case list service": search}


def main() -> None:
    """Fill both databases, time each search on one then the other, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default="", help="PostgreSQL (two schemas in it)")
    args = parser.parse_args()
    if args.database_url:
        database.check_url(args.database_url)
    matchers = {"before": main_matches_text, "after": name_search.matches_text}
    with tempfile.TemporaryDirectory(prefix="trigger-search-") as directory:
        layouts = {}
        for side in matchers:
            progress(f"filling {args.cases:,} cases ({side})")
            url = _url(args.database_url, Path(directory), side)
            layouts[side] = build(url, args.cases, before=side == "before")
        samples: dict[tuple[str, str], list[float]] = {}
        rows: dict[tuple[str, str], int] = {}
        start_load = load_average()
        for round_number in range(WARMUP + args.rounds):
            for (name, words), (kind, make) in product(SEARCHES.items(), CALLS.items()):
                for side, matcher in matchers.items():
                    db, coordinator = layouts[side]
                    count, took = timed(partial(make(matcher, words), db, coordinator))
                    rows[(name, side)] = count
                    if round_number >= WARMUP:
                        samples.setdefault((name, kind, side), []).append(took)
        end_load = load_average()
        for db, _ in layouts.values():
            db.dispose()
    where = "PostgreSQL" if args.database_url else "SQLite"
    print(f"load average (1, 5, 15 min) at the start {start_load}, at the end {end_load}")
    print(
        f"{args.cases:,} cases on {where}, the coordinator of the council; {args.rounds} rounds, "
        "fresh session per call; median (p95), before -> after, ratio = after / before"
    )
    for kind in CALLS:
        print(f" {kind}:")
        for name in SEARCHES:
            before, after = samples[(name, kind, "before")], samples[(name, kind, "after")]
            print(
                f"  {name:42} {ms(median(before)):>9} ({ms(p95(before))}) -> "
                f"{ms(median(after)):>9} ({ms(p95(after))})  "
                f"{median(after) / median(before):.2f}×  "
                f"found {rows[(name, 'before')]}/{rows[(name, 'after')]}"
            )


def _url(base: str, tmp: Path, side: str) -> str:
    """Return an empty database for one side: a SQLite file, or a fresh PostgreSQL schema."""
    return database.empty_url(base, tmp, f"search_{side}")


if __name__ == "__main__":
    main()
