"""Measure calls in milliseconds, summarise samples, and write the report to screen and file."""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """Run a call and return its result and how long it took in ms."""
    start = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - start) * 1000


def median(samples: list[float]) -> float:
    """Return the median of the samples (NaN when there are none)."""
    return statistics.median(samples) if samples else math.nan


def p95(samples: list[float]) -> float:
    """Return the 95th percentile of the samples by nearest rank (NaN when there are none)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ms(value: float) -> str:
    """Format a duration in ms with precision suited to its size."""
    if math.isnan(value):
        return "-"
    if value < 1:
        return f"{value:.3f} ms"
    if value < 10:
        return f"{value:.2f} ms"
    return f"{value:.1f} ms"


def ratio(top: float, bottom: float) -> str:
    """Format top/bottom as a ratio."""
    if bottom == 0 or math.isnan(top) or math.isnan(bottom):
        return "-"
    return f"{top / bottom:.1f}×" if top / bottom >= 10 else f"{top / bottom:.2f}×"


def progress(message: str) -> None:
    """Tell the person waiting what is running (stderr, not part of the results)."""
    print(f"  … {message}", file=sys.stderr, flush=True)


class Report:
    """Lines printed to stdout and written, as they come, to a results file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8")

    def line(self, text: str = "") -> None:
        """Print one line and append it to the results file."""
        print(text, flush=True)
        self._file.write(text + "\n")
        self._file.flush()

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """Print rows as columns: the first left-aligned, the others right-aligned."""
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            self.line("  " + "  ".join(cells).rstrip())

    def close(self) -> None:
        """Close the results file."""
        self._file.close()
