"""Plain, pure functions that diagrams' scripts and decision tables may call, by name."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any


def add_months(day: date, months: int) -> date:
    """Return the same day `months` calendar months later (the month's last day if shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _same_incident_key(incident: dict[str, Any]) -> tuple[str, str]:
    """One incident, however many agencies it was reported to: its day and its place (R7).

    ``reported_to`` is not part of the key: it may be one agency (older applications) or a list
    (an incident reported to the police and the landlord is still one incident).
    """
    where = " ".join(str(incident.get("location") or "").lower().split())
    return str(incident.get("behaviour_date") or "")[:10], where


def is_qualifying_complaint(
    incident: dict[str, Any],
    received_on: Any,
    complaint_within_months: int,
    application_within_months: int,
) -> bool:
    """Return whether an incident's report is a qualifying complaint (s.104(11), R6)."""
    behaviour = _as_date(incident.get("behaviour_date"))
    reported = _as_date(incident.get("reported_on"))
    received = _as_date(received_on)
    if behaviour is None or reported is None or received is None:
        return False
    return behaviour <= reported <= add_months(
        behaviour, complaint_within_months
    ) and reported <= received <= add_months(reported, application_within_months)


def count_qualifying_complaints(
    incidents: Iterable[dict[str, Any]] | None,
    received_on: Any,
    complaint_within_months: int,
    application_within_months: int,
) -> int:
    """Count the qualifying complaints; one incident reported to several agencies counts once."""
    qualifying = {
        _same_incident_key(incident)
        for incident in incidents or []
        if isinstance(incident, dict)
        and is_qualifying_complaint(
            incident, received_on, complaint_within_months, application_within_months
        )
    }
    return len(qualifying)


def all_incidents(*lists: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Return the incidents of several lists (the application's, the agencies' records) as one."""
    return [incident for items in lists for incident in items or []]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "count_qualifying_complaints": count_qualifying_complaints,
    "all_incidents": all_incidents,
}
