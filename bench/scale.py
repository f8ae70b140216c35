"""Scale mode: how a case's stored state and the cost of a completion grow with appeal loops.

    .venv/bin/python bench/scale.py [--loops 0,1,2,3] [--cases 6] [--database-url URL]

Each case runs the main path with the threshold met, then `loops` times a review whose appeal
the OPCC upholds (a fresh review follows), then a last review and no appeal. Every completion
goes through the services (`cases.complete_task`, a session per operation, as the web does) and
is timed; the case's stored `workflow_state` is measured after each. Cases of every loop count
run interleaved, round after round, so that changes in machine load hit them alike. With
`--keep-history` it also runs each case as the project did before issue 15 (finished stages kept
in the state), interleaved, for a before/after ratio from one run.

A measurement, not a test: it asserts only that every case reaches its end.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import database
from layers import open_task_id
from run import _git_state, load_average
from sqlalchemy import select
from timing import Report, median, ms, progress, ratio, timed
from workload import MAIN_PATH, Step

from trigger_workflow.engine import history, serialization
from trigger_workflow.samples import APPEAL
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case

RESULTS = Path(__file__).resolve().parent / "results" / "scale.txt"
UPHELD = {
    "appeal_decision": "upheld",
    "appeal_findings": "The review did not hear the victim.",
    "enforcement_tool_only": False,
}
FRONT = MAIN_PATH[1:4]  # acknowledge, record complaints, decide threshold (met)
ROUND = MAIN_PATH[4:9]  # choose agencies, two answers, review meeting, outcome notice
UPHELD_APPEAL = [Step("record_appeal", APPEAL, "carol"), Step("decide_appeal", UPHELD, "olu")]
CLOSE = MAIN_PATH[9:]  # no appeal: the case closes
LAST_ROUND = len(ROUND) + len(CLOSE)  # the same work in every case: its last round


def path(loops: int) -> list[tuple[int, Step]]:
    """Return a case's completions after the application, each with its round (0 = first)."""
    steps = [(0, step) for step in FRONT]
    for number in range(loops):
        steps += [(number, step) for step in [*ROUND, *UPHELD_APPEAL]]
    return steps + [(loops, step) for step in [*ROUND, *CLOSE]]


@dataclass
class Completion:
    """One timed completion and the state it left."""

    step: Step
    round: int
    took: float
    state_bytes: int


@dataclass
class Variant:
    """The cases of one loop count, with or without the finished stages kept in the state."""

    loops: int
    keep_history: bool
    cases: list[list[Completion]] = field(default_factory=list)
    serializer_ms: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Return a short name for tables."""
        return f"{self.loops} loop{'s' if self.loops != 1 else ''}" + (
            " (history kept)" if self.keep_history else ""
        )

    def all_times(self) -> list[float]:
        """Return every completion's time."""
        return [c.took for case in self.cases for c in case]

    def last_round_times(self) -> list[float]:
        """Return the times of the last round's completions (the same steps in every case)."""
        return [c.took for case in self.cases for c in case[-LAST_ROUND:]]

    def open_state_bytes(self) -> int:
        """Return the largest state stored while the case was open (before it closed)."""
        return max(c.state_bytes for case in self.cases for c in case[:-1])


@contextmanager
def history_kept(keep: bool) -> Iterator[None]:
    """Store finished stages as before issue 15 (for the before/after comparison), or not."""
    if not keep:
        yield
        return
    stages, rounds = history.finished_stages, history.cut_finished_rounds
    history.finished_stages = lambda workflow: set()  # type: ignore[assignment]
    history.cut_finished_rounds = lambda workflow, tasks, dropped: None  # type: ignore[assignment]
    try:
        yield
    finally:
        history.finished_stages, history.cut_finished_rounds = stages, rounds


def run_case(db: database.BenchDatabase, variant: Variant) -> tuple[list[Completion], float]:
    """Drive one case to its end; return its completions and the serializer's cost at its
    largest open state (restore + save, in memory, median of 5)."""
    with history_kept(variant.keep_history):
        with db.sessions() as session:
            command = cases.SubmitApplication(copy.deepcopy(MAIN_PATH[0].data), actors.PUBLIC)
            reference = cases.submit_application(session, command).reference
        done = []
        serializer = 0.0
        for number, (round_number, step) in enumerate(path(variant.loops)):
            if number == len(path(variant.loops)) - 1:
                serializer = serializer_cost(db, reference)
            task_id = open_task_id(db, reference, step)
            command_ = cases.CompleteTask(
                reference, task_id, copy.deepcopy(step.data), db.officers[step.officer]
            )
            took = timed(lambda c=command_: _complete(db, c))[1]
            done.append(Completion(step, round_number, took, state_size(db, reference)))
    return done, serializer


def _complete(db: database.BenchDatabase, command: cases.CompleteTask) -> None:
    with db.sessions() as session:
        result = cases.complete_task(session, command)
    if result.incident is not None:
        raise RuntimeError(f"{command.reference} is held: {result.incident}")


def state_size(db: database.BenchDatabase, reference: str) -> int:
    """Return the stored workflow state's size in bytes (UTF-8)."""
    with db.sessions() as session:
        state = session.scalar(select(Case.workflow_state).where(Case.reference == reference))
    return len((state or "").encode("utf-8"))


def serializer_cost(db: database.BenchDatabase, reference: str) -> float:
    """Time restoring a case's stored state and saving it again, in memory (median of 5)."""
    with db.sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        specs = processes.for_case(case).specs
        state, version = case.workflow_state, case.serializer_version
    samples = []
    for _ in range(5):
        samples.append(
            timed(
                lambda: serialization.dump_state(serialization.load_state(state, specs, version))
            )[1]
        )
    return median(samples)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", default="0,1,2,3", help="appeal loops per case (0,1,2,3)")
    parser.add_argument("--cases", type=int, default=6, help="cases per loop count (6)")
    parser.add_argument(
        "--keep-history",
        action="store_true",
        help="also run every case keeping finished stages in the state (before issue 15)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="use this database (its tables are dropped) instead of a temporary SQLite file",
    )
    args = parser.parse_args(argv)
    args.loops = sorted({int(n) for n in args.loops.split(",") if n.strip()})
    if args.database_url:
        database.check_url(args.database_url)
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the cases interleaved and print the report."""
    args = parse_args(argv)
    variants = [
        Variant(loops, keep)
        for keep in ([False, True] if args.keep_history else [False])
        for loops in args.loops
    ]
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or database.sqlite_url(Path(directory), "scale")
        db = database.fresh(url)
        report = Report(RESULTS)
        report.line(f"# Appeal loops: state and cost ({database.server_version(db.engine)})")
        report.line(f"  project: {_git_state()}")
        report.line(f"  options: --loops {','.join(map(str, args.loops))} --cases {args.cases}")
        report.line(f"  load average at the start (1, 5, 15 min): {load_average()}")
        try:
            for number in range(args.cases + 1):
                progress(f"round {number} of {args.cases}" + (" (warm-up)" if not number else ""))
                for variant in variants:
                    done, serializer = run_case(db, variant)
                    if number:
                        variant.cases.append(done)
                        variant.serializer_ms.append(serializer)
            summary(report, variants)
            growth(report, variants)
            report.line("")
            report.line(f"load average at the end (1, 5, 15 min): {load_average()}")
        finally:
            db.dispose()
            report.close()


def summary(report: Report, variants: list[Variant]) -> None:
    """Per loop count: completion cost (all, last round) and state size, against 0 loops."""
    report.line("")
    report.line("## Per loop count (services layer, a session per completion)")
    report.line(
        "  last round: its review, outcome notice and closing appeal step, the same work in "
        "every case; ratios against the fewest loops run the same way"
    )
    rows = []
    for variant in variants:
        # Ratios are against the fewest loops run the same way (0 loops by default).
        base = min(
            (v for v in variants if v.keep_history == variant.keep_history), key=lambda v: v.loops
        )
        rows.append(
            [
                variant.label,
                str(len(variant.cases[0])),
                ms(median(variant.all_times())),
                ms(median(variant.last_round_times())),
                ratio(median(variant.last_round_times()), median(base.last_round_times())),
                f"{variant.open_state_bytes() / 1000:.1f} KB",
                ratio(variant.open_state_bytes(), base.open_state_bytes()),
                ms(median(variant.serializer_ms)),
            ]
        )
    report.table(
        [
            "case",
            "completions",
            "median, all",
            "median, last round",
            "ratio",
            "largest open state",
            "ratio",
            "restore + save",
        ],
        rows,
    )


def growth(report: Report, variants: list[Variant]) -> None:
    """For the most loops: each completion's median cost and the state it left."""
    most = max(v.loops for v in variants)
    shown = [v for v in variants if v.loops == most]
    report.line("")
    report.line(f"## The N-th completion of a case with {most} loops (median over its cases)")
    header = ["n", "task", "round"]
    for variant in shown:
        suffix = " (kept)" if variant.keep_history else ""
        header += [f"ms{suffix}", f"state{suffix}"]
    rows = []
    for index, completion in enumerate(shown[0].cases[0]):
        row = [str(index + 1), completion.step.label, str(completion.round + 1)]
        for variant in shown:
            took = median([case[index].took for case in variant.cases])
            size = variant.cases[0][index].state_bytes
            row += [ms(took), f"{size / 1000:.1f} KB"]
        rows.append(row)
    report.table(header, rows)


if __name__ == "__main__":
    main()
