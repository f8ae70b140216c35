"""Benchmark the project against bare SpiffWorkflow: main path, eight-forms, and the task list.

Run with `python bench/run.py --help`; the output is also written to bench/results/latest.txt.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

import database
import layers
import officer_lists
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from timing import Report, median, ms, p95, progress, ratio
from workload import (
    EIGHT_FORMS,
    EIGHT_FORMS_PROCESS,
    EIGHT_STEPS,
    MAIN_PATH,
    MAIN_PROCESS,
    PROCESSES,
    ROOT,
    Step,
    prepare_eight_forms,
)

from trigger_workflow.engine.sandbox import (
    RestrictedEnvironment,
    SandboxedScriptEngine,
    default_engine,
    script_functions,
)

RESULTS = Path(__file__).resolve().parent / "results" / "latest.txt"
PEERS_README = EIGHT_FORMS.parent / "README.md"
BARE_FACTOR = 10  # bare runs are cheap: run this many times more instances for steadier figures


@dataclass
class Samples:
    """What one layer measured over many cases, in ms."""

    name: str
    start: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    cases: int = 0
    total_ms: float = 0.0

    @property
    def tasks(self) -> list[float]:
        """Return every task completion measured (the application included, if any)."""
        return [sample for samples in self.by_step.values() for sample in samples]

    def per_second(self) -> float:
        """Return instances per second over the time spent in the timed operations."""
        return self.cases / (self.total_ms / 1000) if self.total_ms else 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20, help="cases per layer (default 20)")
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="case counts for the task list (default 10000,100000)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="run (c), (d) and the task list on this database (its tables are dropped) "
        "instead of a temporary SQLite file",
    )
    parser.add_argument("--skip-tasklist", action="store_true", help="leave out the task list part")
    parser.add_argument(
        "--councils",
        type=int,
        default=10,
        help="part 5: spread the largest size over this many councils (1 leaves it out)",
    )
    parser.add_argument(
        "--only-tasklist", action="store_true", help="run only the task list and pages parts"
    )
    parser.add_argument(
        "--runs", type=int, default=50, help="timed runs per task-list measurement (default 50)"
    )
    args = parser.parse_args(argv)
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    if args.database_url:
        database.check_url(args.database_url)
    return args


def run_case(
    layer: layers.Layer, steps: list[Step], application: bool
) -> tuple[float, list[float]]:
    """Run one case through a layer; return its start time and each task's time."""
    first, rest = (steps[0], steps[1:]) if application else (None, steps)
    case, took = layer.begin(first)
    return took, [layer.complete(case, step) for step in rest]


def record(samples: Samples, steps: list[Step], took: float, times: list[float]) -> None:
    """Add one case's times to a layer's samples."""
    samples.cases += 1
    samples.start.append(took)
    labels = [step.label for step in steps]
    if len(times) < len(steps):  # the first step was the application, timed as the start
        samples.by_step.setdefault(labels.pop(0), []).append(took)
    for label, step_took in zip(labels, times, strict=True):
        samples.by_step.setdefault(label, []).append(step_took)
    samples.total_ms += took + sum(times)


def run_interleaved(
    plan: list[tuple[layers.Layer, int]], steps: list[Step], rounds: int, application: bool
) -> list[Samples]:
    """Run rounds of cases, each layer its share per round, so load changes hit all alike.

    Round 0 is a warm-up (caches, compiled templates, first connections) and is not counted.
    """
    results = [Samples(layer.name) for layer, _ in plan]
    for number in range(rounds + 1):
        if number in (0, 1, rounds // 2):
            progress(f"round {number} of {rounds}" + (" (warm-up)" if number == 0 else ""))
        for (layer, per_round), samples in zip(plan, results, strict=True):
            for _ in range(per_round):
                took, times = run_case(layer, steps, application)
                if number:
                    record(samples, steps, took, times)
    return results


def header(report: Report, args: argparse.Namespace, db: database.BenchDatabase) -> None:
    """Print what ran, where, and on what."""
    report.line(f"trigger_workflow benchmark — {datetime.now().isoformat(timespec='seconds')}")
    report.line(f"  Python {platform.python_version()} ({platform.python_implementation()})")
    report.line(f"  {platform.platform()}")
    report.line(
        f"  CPUs: {os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})"
    )
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("SpiffWorkflow", "SQLAlchemy", "Flask")
    )
    report.line(f"  {versions}")
    report.line(f"  database for (c), (d) and the task list: {database.server_version(db.engine)}")
    report.line(f"    {db.engine.url.render_as_string(hide_password=True)}")
    report.line(f"  project: {_git_state()}")
    report.line(f"  options: --cases {args.cases} --sizes {','.join(map(str, args.sizes))}")
    report.line(f"  load average at the start (1, 5, 15 min): {load_average()}")


def load_average() -> str:
    """Return the machine's 1, 5 and 15 minute load averages: read the figures beside them."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _git_state() -> str:
    """Return the commit the project is at, and whether src/ has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "processes", "forms"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {commit}" + (
        " with uncommitted changes in src/processes/forms" if dirty else ""
    )


def main_path(report: Report, db: database.BenchDatabase, tmp: Path, count: int) -> None:
    """Part 1: the Community Trigger main path through the four layers."""
    spec = layers.parse_specs(
        sorted(PROCESSES.glob("*.bpmn")), sorted(PROCESSES.glob("*.dmn")), MAIN_PROCESS
    )
    app = layers.make_app(db, tmp / "instance-main")
    http = layers.Http(db, app, MAIN_PROCESS)
    http.name = f"(d) HTTP, Flask test client ({db.where})"
    runners: list[layers.Layer] = [
        layers.BareMemory(*spec),
        layers.BareSerialized(*spec),
        layers.Services(db, MAIN_PROCESS, name=f"(c) project services ({db.where})"),
        http,
        layers.BareCodec(*spec),
        layers.BareMemory(
            *spec,
            name="(a') bare, sandboxed scripts in this process, in memory",
            script_engine=SandboxedScriptEngine(script_functions()),
        ),
        layers.BareMemory(
            *spec,
            name="(a'') bare, sandboxed scripts in worker processes (the application's engine)",
            script_engine=default_engine(),
        ),
    ]
    progress(f"main path: {count} cases per layer, interleaved")
    results = run_interleaved([(layer, 1) for layer in runners], MAIN_PATH, count, True)
    app.extensions["trigger_workflow.engine"].dispose()

    report.line()
    report.line(
        f"1. Main path — threshold met → review (police, housing) → outcome → no appeal: {count} "
        f"cases × {len(MAIN_PATH)} task completions each (application included); layers "
        "interleaved case by case after a warm-up case each"
    )
    bare = median(results[1].tasks)
    rows = [
        [
            r.name,
            ms(median(r.tasks)),
            ms(p95(r.tasks)),
            ms(median(r.start)),
            ratio(median(r.tasks), bare),
        ]
        for r in results
    ]
    report.table(["layer", "per task median", "p95", "application median", "÷ (b)"], rows)
    report.line(
        f"  ratios of per-task medians: (c)/(b) = {ratio(median(results[2].tasks), bare)}, "
        f"(d)/(b) = {ratio(median(results[3].tasks), bare)}  (project aim: (d)/(b) ≤ 2)"
    )
    codec = median(results[4].tasks)
    aim = "≤ 2 on SQLite" if db.where.startswith("SQLite") else "≤ 2.5 on PostgreSQL"
    report.line(
        f"  against the application's engine and state codec (b'): "
        f"(c)/(b') = {ratio(median(results[2].tasks), codec)}, "
        f"(d)/(b') = {ratio(median(results[3].tasks), codec)}  (issue 15's aim: (d)/(b') {aim})"
    )
    results = results[:4] + results[5:] + results[4:5]  # (a') and (a'') where they were
    report.line(
        f"  sandbox cost: (a')/(a) = {ratio(median(results[4].tasks), median(results[0].tasks))} "
        "(the same bare engine with the restricted, time-limited script engine)"
    )
    report.line(
        f"  worker processes: (a'')/(a) = "
        f"{ratio(median(results[5].tasks), median(results[0].tasks))}, "
        f"(a'') − (a') = {ms(median(results[5].tasks) - median(results[4].tasks))} per task "
        "(scripts sent to reused worker processes under OS limits, as the application runs them)"
    )
    sandbox_micro(report)
    report.line(
        f"  (d) after each task post the browser loads the case page it is sent to: "
        f"median {ms(median(http.after))}, p95 {ms(p95(http.after))} (not counted above)"
    )
    report.line("  median per task:")
    labels = list(results[0].by_step)
    report.table(
        ["task", "(a)", "(b)", "(c)", "(d)", "(a')", "(a'')", "(b')"],
        [[label, *(ms(median(r.by_step[label])) for r in results)] for label in labels],
    )


SANDBOX_SAMPLES = {
    "condition": ("eval", 'threshold_outcome == "met"'),
    "script": ("exec", "total = 0\nfor n in numbers:\n    total += n\nlabel = 'x' * 3"),
}


def sandbox_micro(report: Report, repeat: int = 20000) -> None:
    """Time one condition and one small script: unrestricted, in the sandbox, in a worker."""
    rows = []
    for label, (mode, code) in SANDBOX_SAMPLES.items():
        figures = []
        for environment in (
            TaskDataEnvironment(),
            RestrictedEnvironment(),
            default_engine().environment,
        ):
            run = environment.evaluate if mode == "eval" else environment.execute
            data = {"threshold_outcome": "met", "numbers": list(range(20))}
            start = time.perf_counter()
            for _ in range(repeat):
                run(code, dict(data))
            figures.append((time.perf_counter() - start) / repeat * 1e6)
        rows.append(
            [
                label,
                f"{figures[0]:.1f} µs",
                f"{figures[1]:.1f} µs",
                ratio(figures[1], figures[0]),
                f"{figures[2]:.1f} µs",
            ]
        )
    report.table(["code", "unrestricted", "sandbox", "÷", "sandbox in a worker"], rows)


def eight_forms(report: Report, db: database.BenchDatabase, tmp: Path, count: int) -> None:
    """Part 2: the peers' eight-forms diagram, in the columns of their table."""
    spec = layers.parse_specs([EIGHT_FORMS / "eight_forms.bpmn"], [], EIGHT_FORMS_PROCESS)
    app = layers.make_app(db, tmp / "instance-eight")
    plan: list[tuple[layers.Layer, int]] = [
        (layers.BareMemory(*spec), BARE_FACTOR),
        (layers.BareSerialized(*spec), BARE_FACTOR),
        (layers.Services(db, EIGHT_FORMS_PROCESS, f"(c) project services ({db.where})"), 1),
        (layers.Http(db, app, EIGHT_FORMS_PROCESS, f"(d) project HTTP ({db.where})"), 1),
    ]
    progress(f"eight-forms: {count} rounds, interleaved")
    results = run_interleaved(plan, EIGHT_STEPS, count, application=False)
    app.extensions["trigger_workflow.engine"].dispose()

    report.line()
    report.line(
        f"2. eight-forms ({EIGHT_FORMS_PROCESS}: 8 sequential user tasks, 3-field forms) — "
        f"{count * BARE_FACTOR} instances for (a)/(b), {count} for (c)/(d), interleaved, after a "
        "warm-up round; (d) starts instances through the services (there is no HTTP start for them); "
        "instances/s = instances ÷ time spent in the timed operations"
    )
    rows = [
        [
            r.name,
            ms(median(r.tasks)),
            ms(median(r.start)),
            f"{r.per_second():,.1f}" if r.per_second() < 100 else f"{r.per_second():,.0f}",
        ]
        for r in results
    ]
    header = [
        "system, on eight-forms",
        "per task completion, median",
        "instance start, median",
        "instances/s, one process",
    ]
    bare = median(results[1].tasks)
    peers = [["peers, same machine kind (../shared/bench/README.md):", "", "", ""]]
    report.table(header, rows + peers + [["  " + r[0], *r[1:]] for r in peer_rows()])
    report.line(
        f"  ratios of per-task medians: (c)/(b) = {ratio(median(results[2].tasks), bare)}, "
        f"(d)/(b) = {ratio(median(results[3].tasks), bare)}"
    )


def peer_rows() -> list[list[str]]:
    """Return the peers' rows of the shared README's eight-forms table."""
    if not PEERS_README.exists():
        return [["(peers' README not found)", "", "", ""]]
    rows = []
    for line in PEERS_README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and not re.match(r"^-+$|^system", cells[0]):
            rows.append(cells)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run every part and write the report."""
    args = parse_args(argv)
    began = time.perf_counter()
    report = Report(RESULTS)
    with tempfile.TemporaryDirectory(prefix="trigger-bench-") as name:
        tmp = Path(name)
        eight_dirs = prepare_eight_forms(tmp / "eight-forms")
        url = args.database_url or database.sqlite_url(tmp, "paths")
        progress("migrating and deploying")
        db = database.fresh(url, eight_dirs)
        header(report, args, db)
        if not args.only_tasklist:
            main_path(report, db, tmp, args.cases)
            eight_forms(report, db, tmp, args.cases)
        db.dispose()
        if not args.skip_tasklist:
            url = args.database_url or database.sqlite_url(tmp, "tasklist")
            one = officer_lists.task_list(report, url, tmp, args.sizes, args.runs)
            if args.councils > 1:
                url = args.database_url or database.sqlite_url(tmp, "county")
                officer_lists.county(
                    report, url, tmp, args.sizes[-1], args.runs, args.councils, one
                )
    report.line()
    report.line(f"load average at the end (1, 5, 15 min): {load_average()}")
    report.line(f"total run time {time.perf_counter() - began:.0f} s; written to {RESULTS}")
    report.close()


if __name__ == "__main__":
    main()
