"""R5 and the timescale table: working days skip weekends and England and Wales bank holidays."""

from __future__ import annotations

from datetime import UTC, date

from trigger_workflow.engine.calendar import add_working_days, is_working_day, working_days_between


def test_acknowledgement_deadline_over_christmas() -> None:
    """R5: received on 23 December 2026, five working days end on 4 January 2027."""
    assert add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)


def test_weekend_and_easter_are_not_working_days() -> None:
    """Saturdays, Good Friday and Easter Monday are skipped."""
    assert not is_working_day(date(2026, 11, 28))
    assert not is_working_day(date(2027, 3, 26))
    assert not is_working_day(date(2027, 3, 29))
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)


def test_working_days_between_counts_both_ways() -> None:
    """Counting forwards and backwards agrees."""
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 5
    assert working_days_between(date(2026, 11, 30), date(2026, 11, 23)) == -5


def test_today_is_the_date_in_england_not_on_the_server() -> None:
    """At 23:30 UTC on 30 June it is already 1 July in England (British Summer Time)."""
    from datetime import datetime
    from unittest import mock

    from trigger_workflow.engine import calendar

    moment = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    with mock.patch.object(calendar, "datetime") as clock:
        clock.now.side_effect = moment.astimezone
        assert calendar.today() == date(2026, 7, 1)
