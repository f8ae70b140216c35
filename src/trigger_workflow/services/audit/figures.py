"""The statutory figures (R20) for a 12-month period and each of its quarters, the cases behind
each, and step timeliness."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar
from trigger_workflow.errors import FieldProblem, FormInvalid, NotPermitted
from trigger_workflow.services.accounts.actors import COORDINATOR, Actor
from trigger_workflow.services.audit import definitions as d
from trigger_workflow.services.casework import local_rules
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, Event, ProcessVersion


@dataclass(frozen=True)
class Period:
    """Twelve months from a first day (the financial year by default)."""

    start: date
    end: date  # the last day, included

    @classmethod
    def starting(cls, start: date) -> Period:
        """Return the 12 months beginning on `start`."""
        try:
            following = start.replace(year=start.year + 1)
        except ValueError:  # from 29 February: to the last day of the next February
            following = date(start.year + 1, 3, 1)
        return cls(start, following - timedelta(days=1))

    @classmethod
    def financial_year(cls, day: date) -> Period:
        """Return the financial year (1 April to 31 March) that holds `day`."""
        year = day.year if day >= date(day.year, 4, 1) else day.year - 1
        return cls.starting(date(year, 4, 1))

    @classmethod
    def parse(cls, start: str | None) -> Period:
        """Read a period's first day (YYYY-MM-DD), or give this financial year; say what is wrong."""
        if not start:
            return cls.financial_year(calendar.today())
        try:
            return cls.starting(date.fromisoformat(start))
        except ValueError:
            raise FormInvalid(
                [FieldProblem(("start",), "Enter the first day of the period as YYYY-MM-DD")]
            ) from None

    def label(self) -> str:
        """Say the period in words."""
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"

    def months(self) -> str:
        """Say the period in months when it runs from a month's first day to a month's last
        ("April to June 2026"), else in days."""
        if self.start.day != 1 or (self.end + timedelta(days=1)).day != 1:
            return self.label()
        first = f"{self.start:%B}" if self.start.year == self.end.year else f"{self.start:%B %Y}"
        return f"{first} to {self.end:%B %Y}"

    def quarters(self) -> list[Period]:
        """Return the period's four quarters of three months each (of a financial year: April to
        June, July to September, October to December, January to March), together the period."""
        starts = [_months_after(self.start, 3 * n) for n in range(4)]
        ends = [following - timedelta(days=1) for following in starts[1:]] + [self.end]
        return [Period(start, end) for start, end in zip(starts, ends, strict=True)]


def _months_after(day: date, months: int) -> date:
    """Return the same day so many months later (the month's last day if it has no such day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


@dataclass
class StepTimeliness:
    """How one step fared against its timescale over the period's cases."""

    task: str
    name: str
    timescale_days: int
    done: int = 0
    within: int = 0
    working_days: list[int] = field(default_factory=list)

    @property
    def share_within(self) -> float | None:
        """Return the share done within the timescale (0 to 1), or None if nothing was done."""
        return self.within / self.done if self.done else None

    @property
    def median_days(self) -> float | None:
        """Return the median working days the step took."""
        return statistics.median(self.working_days) if self.working_days else None


@dataclass
class Figures:
    """The figures of one period and the cases behind each; of a year, also of each quarter."""

    period: Period
    cases: dict[str, list[str]]
    steps: list[StepTimeliness]
    quarters: list[Figures] = field(default_factory=list)

    def count(self, figure: str) -> int:
        """Return one figure."""
        return len(self.cases[figure])

    def step(self, task: str) -> StepTimeliness | None:
        """Return how one step fared (None if no case did it in the period)."""
        return next((step for step in self.steps if step.task == task), None)

    def inconsistencies(self) -> list[str]:
        """Say every way the figures fail to add up (empty when they are consistent)."""
        n = {key: set(refs) for key, refs in self.cases.items()}
        checks = [
            (
                n["threshold_decided"] <= n["applications"],
                "threshold decisions exceed applications",
            ),
            (n["threshold_not_met"] <= n["threshold_decided"], "not met is not among decisions"),
            (n["rejected"] <= n["threshold_decided"], "rejections are not among decisions"),
            (not (n["threshold_not_met"] & n["rejected"]), "a case is both not met and rejected"),
            (n["reviews"] <= n["applications"], "reviews exceed applications"),
            (not (n["reviews"] & n["rejected"]), "a rejected application was reviewed"),
            (n["with_recommendations"] <= n["reviews"], "recommendations without a review"),
        ]
        if self.quarters:
            checks += [
                (
                    sum(q.count(key) for q in self.quarters) == self.count(key),
                    f"the quarters' {key.replace('_', ' ')} do not add up to the year's",
                )
                for key in self.cases
            ]
        return [message for ok, message in checks if not ok]


def figures(session: Session, period: Period, scope: ColumnElement[bool] | None = None) -> Figures:
    """Count what the applications received in the period went through, from their events.

    `scope` limits the cases counted (a condition on Case: one authority's, or an officer's
    authorities'); without it, the county's every case. Each case belongs to one authority, so
    the authorities' figures add up to the county's.
    """
    in_period = (Case.received_on >= period.start) & (Case.received_on <= period.end)
    if scope is not None:
        in_period = in_period & scope
    rows = list(
        session.execute(
            select(
                Case.id, Case.reference, Case.received_on, Case.process_version_id, Case.local_rules
            )
            .where(in_period)
            .order_by(Case.reference)
        )
    )
    by_id = {row.id: row for row in rows}
    events: dict[int, list[Event]] = defaultdict(list)
    query = (
        select(Event)
        .where(Event.case_id.in_(select(Case.id).where(in_period)))
        .order_by(Event.case_id, Event.seq)
    )
    for event in session.scalars(query):
        events[event.case_id].append(event)
    versions: dict[int, processes.DeployedProcess] = {}
    whole = _tally(session, period, list(by_id.values()), events, versions)
    for quarter in period.quarters():
        within = [row for row in by_id.values() if quarter.start <= row.received_on <= quarter.end]
        whole.quarters.append(_tally(session, quarter, within, events, versions))
    return whole


def _tally(
    session: Session,
    period: Period,
    rows: list[Any],
    events: dict[int, list[Event]],
    versions: dict[int, processes.DeployedProcess],
) -> Figures:
    """Count the figures and timeliness of these cases (those received in the period)."""
    cases: dict[str, list[str]] = {key: [] for key in d.FIGURES}
    for row in rows:
        for figure in _figures_of(events[row.id]):
            cases[figure].append(row.reference)
    steps = _timeliness(session, rows, events, versions)
    return Figures(period, {k: sorted(v) for k, v in cases.items()}, steps)


def _figures_of(events: list[Event]) -> set[str]:
    completed = [e for e in events if e.kind == "task_completed"]
    found = set()
    if any(e.task_spec == d.APPLICATION_TASK for e in completed):
        found.add("applications")
    decisions = [e for e in completed if e.task_spec == d.THRESHOLD_TASK]
    if decisions:
        found.add("threshold_decided")
        outcome = decisions[-1].data.get(d.THRESHOLD_FIELD)
        if outcome == d.THRESHOLD_NOT_MET:
            found.add("threshold_not_met")
        elif outcome == d.THRESHOLD_REJECTED:
            found.add("rejected")
    meetings = [e for e in completed if e.task_spec == d.REVIEW_TASK]
    if meetings:
        found.add("reviews")
        if any(e.data.get(d.RECOMMENDATIONS_FIELD) for e in meetings):
            found.add("with_recommendations")
    return found


def _timeliness(
    session: Session,
    rows: list[Any],
    events: dict[int, list[Event]],
    versions: dict[int, processes.DeployedProcess],
) -> list[StepTimeliness]:
    steps: dict[str, StepTimeliness] = {}
    for row in rows:
        if row.process_version_id not in versions:
            version = session.get(ProcessVersion, row.process_version_id)
            assert version is not None
            versions[row.process_version_id] = processes.deployed(version)
        # Each step is judged by the timescale the case ran under: its council's, when set.
        deployed = versions[row.process_version_id].with_local(
            local_rules.from_json(row.local_rules)
        )
        opened: dict[str, date] = {}
        for event in events[row.id]:
            day = event.occurred_at.astimezone(calendar.UK_TIME).date()
            if event.kind == "task_completed" and event.task_spec and event.task_id:
                _count(steps, deployed, event, row.received_on, opened.get(event.task_id, day), day)
            for ready in event.detail.get("ready", []):
                opened.setdefault(str(ready.get("id")), day)
    return list(steps.values())  # in the order the steps first happened


def _count(
    steps: dict[str, StepTimeliness],
    deployed: processes.DeployedProcess,
    event: Event,
    received: date,
    ready: date,
    done: date,
) -> None:
    timescale = deployed.timescale(str(event.task_spec))
    if timescale is None or event.task_spec == d.APPLICATION_TASK:
        return
    step = steps.setdefault(
        str(event.task_spec),
        StepTimeliness(str(event.task_spec), str(event.task_name), timescale.days),
    )
    start = received if timescale.counted_from == "received" else ready
    days = calendar.working_days_between(start, done)
    step.done += 1
    step.within += days <= timescale.days
    step.working_days.append(days)


# Who reads the figures (R20): auditors, each council's coordinator (its own council's), and the
# OPCC (the county's roll-up: it decides every council's appeals). The cases behind each figure
# (their references) only for those who may see every case of the councils counted.
FIGURES_ROLES = frozenset({"auditor", COORDINATOR, "opcc"})
FIGURE_CASES_ROLES = frozenset({"auditor", COORDINATOR})


def ensure_may_read(actor: Actor, cases: bool = False) -> None:
    """Refuse an officer who may not read the figures (or, `cases`, the cases behind them)."""
    if actor.role not in (FIGURE_CASES_ROLES if cases else FIGURES_ROLES):
        raise NotPermitted(
            "The cases behind each figure are for auditors and coordinators."
            if cases and actor.role in FIGURES_ROLES
            else "The statutory figures are for auditors, coordinators and the OPCC."
        )


def may_read_cases(actor: Actor) -> bool:
    """Return whether this officer may see which cases each figure counts."""
    return actor.role in FIGURE_CASES_ROLES


def figures_csv(result: Figures, with_cases: bool = True) -> str:
    """Write the figures, their cases (`with_cases`) and the steps' timeliness as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period", result.period.start.isoformat(), result.period.end.isoformat()])
    writer.writerow(["figure", "count", "statutory", "cases"])
    for key, title in d.FIGURES.items():
        refs = result.cases[key]
        listed = " ".join(refs) if with_cases else ""
        writer.writerow([title, len(refs), "yes" if key in d.STATUTORY else "no", listed])
    writer.writerow([])
    writer.writerow(
        [
            "step",
            "timescale (working days)",
            "done",
            "within timescale",
            "share within",
            "median working days",
        ]
    )
    for step in result.steps:
        share = "" if step.share_within is None else f"{step.share_within:.2f}"
        median = "" if step.median_days is None else f"{step.median_days:g}"
        writer.writerow([step.name, step.timescale_days, step.done, step.within, share, median])
    if result.quarters:
        _quarters_csv(writer, result)
    return out.getvalue()


def _quarters_csv(writer: Any, result: Figures) -> None:
    """Write each figure by quarter, then each step's timeliness by quarter."""
    writer.writerow([])
    writer.writerow(["quarter", "first day", "last day", *d.FIGURES.values()])
    for n, quarter in enumerate(result.quarters, start=1):
        counts = [quarter.count(key) for key in d.FIGURES]
        period = quarter.period
        writer.writerow([f"Q{n}", period.start.isoformat(), period.end.isoformat(), *counts])
    writer.writerow([])
    writer.writerow(["step by quarter", "quarter", "done", "within timescale", "share within"])
    for step in result.steps:
        for n, quarter in enumerate(result.quarters, start=1):
            done = quarter.step(step.task)
            if done is not None:
                share = "" if done.share_within is None else f"{done.share_within:.2f}"
                writer.writerow([step.name, f"Q{n}", done.done, done.within, share])
