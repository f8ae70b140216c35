"""Measure the timer worker's memory while it makes letters' PDFs: RSS every so many letters.

Run with `python bench/worker_memory.py --help`; the report is also written to
bench/results/worker_memory.txt.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import database
from sqlalchemy import func, insert, select
from timing import Report, progress

from trigger_workflow import pdf
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.applications import documents
from trigger_workflow.services.mail import letters, outbox, worker_pass
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case, Letter

RESULTS = Path(__file__).resolve().parent / "results" / "worker_memory.txt"
KINDS = ("acknowledgement", "threshold_decision", "outcome", "appeal_decision")
INSERT_BATCH = 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000, help="letters to render (10000)")
    parser.add_argument("--every", type=int, default=500, help="report RSS every N letters (500)")
    parser.add_argument(
        "--database-url",
        default="",
        help="use this database (its tables are dropped) instead of a temporary SQLite file",
    )
    parser.add_argument(
        "--per-render-fonts",
        action="store_true",
        help="render as before issue 11: a new font configuration for every PDF",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Write the letters, run the worker's letters pass until they all have PDFs, report RSS."""
    args = parse_args(argv)
    if args.per_render_fonts:
        pdf.html_to_pdf = _per_render_fonts  # type: ignore[assignment]
    report = Report(RESULTS)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or database.sqlite_url(Path(directory), "worker_memory")
        bench = database.fresh(url)
        try:
            _run(bench, args, Path(directory), report)
        finally:
            bench.dispose()
            report.close()


def _run(
    bench: database.BenchDatabase, args: argparse.Namespace, folder: Path, report: Report
) -> None:
    case_id = _one_case(bench)
    progress(f"writing {args.letters} letters")
    _write_letters(bench, case_id, args.letters)
    work = worker_pass.LettersWork(
        # Nothing is emailed (every letter is for print), so no mail server is reached.
        server=outbox.MailServer("127.0.0.1", 9, "bench@council.example", timeout=1),
        storage=documents.Storage(folder / "documents", 10 * 1024 * 1024),
    )
    gc.collect()
    start_rss = _rss_mb()
    report.line("Worker memory while making letters' PDFs")
    report.line(f"database: {bench.where}; letters: {args.letters}; {_fonts_mode(args)}")
    report.line(f"RSS before the first PDF: {start_rss:.1f} MB")
    report.line("")
    report.line(f"{'letters':>8} {'RSS MB':>8} {'growth MB':>10} {'ms per PDF':>11} {'passes':>7}")
    made, passes, next_mark = 0, 0, args.every
    started = mark_started = time.perf_counter()
    mark_made = 0
    samples: list[tuple[int, float]] = [(0, start_rss)]
    while True:
        # The worker's own path: one letters pass, again at once while a batch was full.
        done = worker_pass.run_pass(bench.sessions, work)
        passes += 1
        made += done.pdfs_made
        if done.failed_steps:
            raise SystemExit(f"a step of the pass failed: {done.failed_steps}")
        if made >= next_mark or not done.more_waiting:
            now = time.perf_counter()
            rss = _rss_mb()
            per_pdf = (now - mark_started) / max(made - mark_made, 1) * 1000
            samples.append((made, rss))
            report.line(
                f"{made:>8} {rss:>8.1f} {rss - start_rss:>10.1f} {per_pdf:>11.1f} {passes:>7}"
            )
            progress(f"{made} PDFs, RSS {rss:.1f} MB")
            mark_started, mark_made = now, made
            next_mark = (made // args.every + 1) * args.every
        if not done.more_waiting:
            break
    elapsed = time.perf_counter() - started
    _summarise(report, samples, made, elapsed, passes)
    with bench.sessions() as session:
        left = session.scalar(
            select(func.count()).select_from(Letter).where(Letter.pdf_sha256.is_(None))
        )
    report.line(f"letters still without a PDF: {left}")


def _summarise(
    report: Report, samples: list[tuple[int, float]], made: int, elapsed: float, passes: int
) -> None:
    report.line("")
    report.line(
        f"{made} PDFs in {elapsed:.0f} s ({made / elapsed:.1f} per second) over {passes} passes; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB"
    )
    # Growth over the second half: the first renders warm caches up, a leak keeps growing.
    half = [s for s in samples if s[0] >= made / 2]
    if len(half) >= 2 and half[-1][0] > half[0][0]:
        slope = (half[-1][1] - half[0][1]) / (half[-1][0] - half[0][0])
        report.line(f"growth over the second half: {slope * 1000:.1f} KB per PDF")


def _one_case(bench: database.BenchDatabase) -> int:
    """Submit one real application: every letter hangs off its case."""
    with bench.sessions() as session:
        command = cases.SubmitApplication(APPLICATION, actors.PUBLIC, None, None, None)
        result = cases.submit_application(session, command)
        case_id = session.scalar(select(Case.id).where(Case.reference == result.reference))
    assert case_id is not None
    return case_id


def _write_letters(bench: database.BenchDatabase, case_id: int, count: int) -> None:
    """Insert `count` letters from the real templates, each of its own (made-up) case reference."""
    council = letters.Council()
    with bench.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        deployed = processes.deployed(case.process_version)
    data = dict(APPLICATION, threshold_outcome="not_met", threshold_reasons="Too few complaints.")
    rows: list[dict[str, Any]] = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        stand_in = Case(reference=f"CT-2026-{n:05d}", received_on=date(2026, 11, 2))
        subject, html = letters.render(kind, data, stand_in, council, deployed)
        rows.append(
            {
                "case_id": case_id,
                "kind": kind,
                "task_id": f"bench-{n}",
                "subject": subject,
                "recipient_name": "Alex Applicant",
                "html": html,
                "html_sha256": f"{n:064d}",
                "created_by": "bench",
            }
        )
        if len(rows) == INSERT_BATCH or n == count - 1:
            with bench.sessions() as session:
                session.execute(insert(Letter), rows)
                session.commit()
            rows = []


def _per_render_fonts(html: str) -> bytes:
    """Render as the worker did before issue 11, for comparison."""
    import weasyprint

    return weasyprint.HTML(string=html, base_url=None).write_pdf()  # type: ignore[no-any-return]


def _fonts_mode(args: argparse.Namespace) -> str:
    if args.per_render_fonts:
        return "a new font configuration per PDF (as before issue 11)"
    return "one shared font configuration"


def _rss_mb() -> float:
    """Return this process's resident memory now, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
