"""The year's report of the statutory figures (R20), ready to publish: one council's, or the
roll-up of several with each council's figures beside it.

Every number comes from `figures.figures`, the function behind the figures page, its CSV and
the API; a roll-up's councils are counted with the same function, one council at a time, and
the report says if their figures fail to add up to the whole. The report names no case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from trigger_workflow.services.audit import definitions as d
from trigger_workflow.services.audit.figure_charts import Chart, charts
from trigger_workflow.services.audit.figures import Figures, Period, figures
from trigger_workflow.store.models import Case


@dataclass
class Report:
    """What the year's report shows."""

    area: str  # the council, or the councils rolled up
    figures: Figures
    councils: list[tuple[str, Figures]]  # each council's, in a roll-up of several
    charts: list[Chart]

    def title(self) -> str:
        """Return the report's title."""
        period = self.figures.period
        if (period.start.month, period.start.day) == (4, 1):
            span = f"financial year {period.start.year} to {period.end.year}"
        else:
            span = period.label()
        return f"Community Trigger figures, {span}"

    def problems(self) -> list[str]:
        """Say every way the report fails to add up: within its figures, or the councils' to
        the whole (empty when it is consistent)."""
        found = self.figures.inconsistencies()
        if self.councils:
            for key, title in d.FIGURES.items():
                total = sum(council.count(key) for _, council in self.councils)
                if total != self.figures.count(key):
                    found.append(f"the councils' {title.lower()} do not add up to the total")
        return found


def year_report(
    session: Session,
    period: Period,
    scope: ColumnElement[bool],
    authorities: list[tuple[str, str, int]],
) -> Report:
    """Return the report of the cases in `scope` over these authorities (code, name, id): with
    one, that council's; with several, their roll-up and each council's figures."""
    whole = figures(session, period, scope)
    councils = []
    if len(authorities) > 1:
        councils = [
            (name, figures(session, period, scope & (Case.authority_id == id_)))
            for _, name, id_ in authorities
        ]
    if len(authorities) == 1:
        area = authorities[0][1]
    else:
        area = f"{len(authorities)} councils: " + ", ".join(name for _, name, _ in authorities)
    return Report(area, whole, councils, charts(whole, "report"))
