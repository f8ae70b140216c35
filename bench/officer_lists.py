"""Parts 3 to 5 of the bench: officers' task lists and pages at many cases, in one council and
spread over a county's councils (issue 12)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import database
import inbox_http
import layers
import tasklist
from sqlalchemy import update
from timing import Report, ms, progress

from trigger_workflow.services.accounts import actors
from trigger_workflow.store.models import Officer


@dataclass
class ListTimings:
    """The task list and pages at the largest size, for one spread of cases over councils."""

    query_coordinator: tasklist.Timing
    query_police: tasklist.Timing
    inbox: tasklist.Timing
    pages: dict[str, tasklist.Timing]


def task_list(report: Report, url: str, tmp: Path, sizes: list[int], runs: int) -> ListTimings:
    """Part 3: the task list query and inbox page with many cases in the database."""
    progress("task list: fresh database")
    db = database.fresh(url)
    app = layers.make_app(db, tmp / "instance-tasks")
    coordinator, police = db.officers["carol"], db.officers["pete"]
    report.line()
    report.line(
        f"3. Task list — queries.open_tasks_for (limit 200, fresh session per call) and GET /tasks "
        f"(signed in as the coordinator); {runs} timed runs each after 5 warm-up runs; "
        f"{tasklist.OPEN_SHARE:.0%} of cases open with 1–2 open tasks; one council"
    )
    rows = []
    for size in sizes:
        progress(f"task list: inserting up to {size:,} cases")
        filled = tasklist.fill(db, size)
        progress(f"task list: timing at {size:,} cases")
        query_c = tasklist.time_query(db, coordinator, runs)
        query_p = tasklist.time_query(db, police, runs)
        page = tasklist.time_inbox(app, "carol", runs)
        rows.append(
            [
                f"{size:,}",
                f"+{filled.cases:,} cases, +{filled.open_tasks:,} tasks in {filled.seconds:.1f} s",
                *_timing_cells(query_c),
                *_timing_cells(query_p),
                *_timing_cells(page),
            ]
        )
    progress(f"officers' pages over HTTP at {sizes[-1]:,} cases")
    inbox_http.give_tasks(db, "carol", "coordinator")
    pages = inbox_http.time_pages(app, "carol", runs)
    app.extensions["trigger_workflow.engine"].dispose()
    db.dispose()
    report.table(
        [
            "cases",
            "bulk insert (Core executemany)",
            "coordinator query median",
            "p95",
            "rows",
            "police query median",
            "p95",
            "rows",
            "GET /tasks median",
            "p95",
            "rows",
        ],
        rows,
    )
    report.line("  project aim: the task list under 20 ms at 100,000 cases")
    report.line()
    report.line(
        f"4. Officers' pages over real HTTP (threaded server on loopback, one keep-alive "
        f"connection, signed in as the coordinator) at {sizes[-1]:,} cases; "
        f"{inbox_http.CLAIMED_BY_OFFICER} tasks assigned to her; {runs} timed runs each"
    )
    report.table(
        ["page", "what it shows", "median", "p95", "rows"],
        [[path, what, *_timing_cells(pages[path])] for path, what in inbox_http.PAGES],
    )
    return ListTimings(query_c, query_p, page, pages)


def county(
    report: Report, url: str, tmp: Path, size: int, runs: int, councils: int, one: ListTimings
) -> None:
    """Part 5 (issue 12): the same lists with the cases spread over several councils: a council's
    coordinator sees only hers, the county-wide police every council's shared with them."""
    progress(f"county: fresh database, {councils} councils")
    db = database.fresh(url)
    ids = database.add_councils(db, councils)
    # The police officer serves the county (every council), as the county's police would.
    with db.sessions() as session:
        session.execute(update(Officer).where(Officer.username == "pete").values(county_wide=True))
        session.execute(update(Officer).where(Officer.username == "pete").values(authority_id=None))
        session.commit()
        police = actors.find_officer(session, "pete")
    app = layers.make_app(db, tmp / "instance-county")
    progress(f"county: inserting {size:,} cases over {councils} councils")
    tasklist.fill(db, size, authorities=ids)
    progress("county: timing")
    query_c = tasklist.time_query(db, db.officers["carol"], runs)
    query_p = tasklist.time_query(db, police, runs)
    page = tasklist.time_inbox(app, "carol", runs)
    inbox_http.give_tasks(db, "carol", "coordinator")
    pages = inbox_http.time_pages(app, "carol", runs)
    app.extensions["trigger_workflow.engine"].dispose()
    db.dispose()
    report.line()
    report.line(
        f"5. A county (issue 12): {size:,} cases spread over {councils} councils, against the "
        f"same {size:,} in one council (parts 3 and 4); the coordinator sees her council's "
        "cases only, the police (county-wide) every council's shared with them; ratio = county "
        "median / one council's median"
    )
    pairs = [
        ("coordinator query", one.query_coordinator, query_c),
        ("police query (county-wide)", one.query_police, query_p),
        ("GET /tasks (test client)", one.inbox, page),
        *[(f"GET {path} (HTTP)", one.pages[path], pages[path]) for path, _ in inbox_http.PAGES],
    ]
    report.table(
        ["what", "one council median", "p95", "rows", "county median", "p95", "rows", "ratio"],
        [
            [
                name,
                *_timing_cells(single),
                *_timing_cells(spread),
                f"{spread.median / single.median:.2f}×" if single.median else "",
            ]
            for name, single, spread in pairs
        ],
    )


def _timing_cells(timing: tasklist.Timing) -> list[str]:
    return [ms(timing.median), ms(timing.p95), str(timing.rows)]
