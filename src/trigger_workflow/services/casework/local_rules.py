"""A council's own rules for a case: its threshold number, window and timescales (issue 12).

They are taken from the council's settings when the case is received and kept with the case
(`case.local_rules`), as its process version is: a council changing its settings changes its
new cases, never one already running, and the figures judge each case by the rules it ran under.
The engine is given the number and the window beside each step's answers (`engine_names`); the
shipped threshold table reads them (`>= local_threshold_number`), a table with its own literal
number does not. A setting left blank follows the county: the Act's maxima, and the process
version's timescales.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trigger_workflow.store.models import Authority, Case

# The Act's maxima (s.104(11), R6): at most three qualifying complaints, an application within six
# months of them. An authority may ask for fewer, never more.
STATUTORY_MAX_COMPLAINTS = 3
STATUTORY_MAX_WINDOW_MONTHS = 6
# The names the engine reads them by (the threshold table's rule and input).
THRESHOLD_NUMBER, WINDOW_MONTHS = "local_threshold_number", "local_window_months"
ENGINE_NAMES = (THRESHOLD_NUMBER, WINDOW_MONTHS)


@dataclass(frozen=True)
class LocalRules:
    """The rules one case runs under; the defaults are the county's (the Act's maxima)."""

    threshold_number: int = STATUTORY_MAX_COMPLAINTS
    window_months: int = STATUTORY_MAX_WINDOW_MONTHS
    timescales: tuple[tuple[str, int], ...] = ()  # (task id, working days), sorted

    def days(self, task: str) -> int | None:
        """Return the council's own working days for a task, or None to follow the process."""
        return dict(self.timescales).get(task)

    def engine_names(self) -> dict[str, int]:
        """Return what the engine gets beside an officer's answers (the threshold table reads)."""
        return {THRESHOLD_NUMBER: self.threshold_number, WINDOW_MONTHS: self.window_months}

    def as_json(self) -> dict[str, Any]:
        return {
            "threshold_number": self.threshold_number,
            "window_months": self.window_months,
            "timescales": dict(self.timescales),
        }


COUNTY = LocalRules()


def from_json(value: dict[str, Any] | None) -> LocalRules:
    """Read the rules kept with a case; a case from before them ran under the county's."""
    if not value:
        return COUNTY
    return LocalRules(
        int(value.get("threshold_number") or STATUTORY_MAX_COMPLAINTS),
        int(value.get("window_months") or STATUTORY_MAX_WINDOW_MONTHS),
        tuple(sorted((str(k), int(v)) for k, v in (value.get("timescales") or {}).items())),
    )


def of_authority(authority: Authority | None) -> LocalRules:
    """Return the rules a council's new cases take from its settings (blank: the county's)."""
    if authority is None:
        return COUNTY
    return LocalRules(
        min(authority.threshold_number or STATUTORY_MAX_COMPLAINTS, STATUTORY_MAX_COMPLAINTS),
        min(
            authority.threshold_window_months or STATUTORY_MAX_WINDOW_MONTHS,
            STATUTORY_MAX_WINDOW_MONTHS,
        ),
        tuple(sorted((str(k), int(v)) for k, v in (authority.timescales or {}).items())),
    )


def of_case(case: Case) -> LocalRules:
    """Return the rules a case runs under."""
    return from_json(case.local_rules)
