"""The charts of the statutory figures (R20) by quarter, for the figures page and the year's report:
one chart for each published figure, and one of each step's share done within its timescale.

Each chart is drawn from a year's `Figures` and its quarters, the numbers the tables beside it
show, so a chart never says anything the tables do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from trigger_workflow.charts import Axes, Bar, Group, bar_chart
from trigger_workflow.services.audit import definitions as d
from trigger_workflow.services.audit.figures import Figures, StepTimeliness

# The published figures (s.104(9)), what their charts' values are called.
COUNTED = {
    "applications": "Number of applications",
    "threshold_not_met": "Number of times the threshold was not met",
    "reviews": "Number of case reviews",
    "with_recommendations": "Number of case reviews with recommendations",
}


@dataclass(frozen=True)
class Chart:
    """A chart's id, its title (shown above it) and its SVG."""

    ident: str
    title: str
    svg: Markup


def quarter_name(result: Figures, n: int) -> str:
    """Return the n-th quarter's label (from 1): "Q1: April to June 2026"."""
    return f"Q{n}: {result.quarters[n - 1].period.months()}"


def _short_name(quarter: Figures, n: int) -> str:
    """Return a quarter's short label: "Q1 Apr–Jun 2026" (or "Q1" when not whole months)."""
    period = quarter.period
    if period.months() == period.label():
        return f"Q{n}"
    return f"Q{n} {period.start:%b}–{period.end:%b %Y}"


def charts(result: Figures, prefix: str = "chart") -> list[Chart]:
    """Return the charts of a year's figures by quarter (none when there are no quarters)."""
    if not result.quarters:
        return []
    found = [_counted(result, key, prefix) for key in COUNTED]
    found.append(_timeliness(result, prefix))
    return found


def _counted(result: Figures, key: str, prefix: str) -> Chart:
    ident = f"{prefix}-{key}"
    title = f"{d.FIGURES[key]}, by quarter"
    bars = [
        Bar(_short_name(quarter, n), quarter.count(key), str(quarter.count(key)))
        for n, quarter in enumerate(result.quarters, start=1)
    ]
    described = "; ".join(f"{bar.label}: {bar.text}" for bar in bars)
    description = f"{title}, {result.period.label()}. {described}. Year: {result.count(key)}."
    axes = Axes(f"Quarter of {_year(result)}", COUNTED[key])
    return Chart(ident, title, bar_chart(ident, title, description, axes, [Group("", bars)]))


def _timeliness(result: Figures, prefix: str) -> Chart:
    ident = f"{prefix}-timeliness"
    title = "Steps done within their timescale, by quarter"
    groups = []
    for step in result.steps:
        bars = [
            _share(f"Q{n}", quarter.step(step.task))
            for n, quarter in enumerate(result.quarters, start=1)
        ]
        groups.append(Group(f"{step.name} ({step.timescale_days} working days)", bars))
    said = " ".join(
        f"{group.heading}: " + ", ".join(f"{bar.label} {bar.text}" for bar in group.bars) + "."
        for group in groups
    )
    description = f"{title}, {result.period.label()}. {said or 'No step was done.'}"
    axes = Axes("Step and quarter", "Share done within the timescale", percent=True)
    return Chart(ident, title, bar_chart(ident, title, description, axes, groups))


def _share(label: str, step: StepTimeliness | None) -> Bar:
    if step is None or step.share_within is None:
        return Bar(label, None, "none done")
    return Bar(label, step.share_within, share_text(step))


def share_text(step: StepTimeliness | None) -> str:
    """Say a step's timeliness: "80% (4 of 5)", or "none done"."""
    if step is None or step.share_within is None:
        return "none done"
    return f"{step.share_within:.0%} ({step.within} of {step.done})"


def _year(result: Figures) -> str:
    start, end = result.period.start, result.period.end
    return f"{start.year} to {end.year}" if start.year != end.year else str(start.year)
