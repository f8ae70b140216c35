"""The engine's clock: pinned for one run, so that replay sees the moments the case saw.

SpiffWorkflow reads `datetime.now(timezone.utc)` itself when a timer is reached, refreshed or
fired. Its timer module is given a `datetime` whose `now` returns the moment pinned by the running
thread (and the real time otherwise), so each run of the engine uses one recorded moment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer

_pinned = threading.local()
_simulated = threading.local()


class _EngineDatetime(datetime):
    """`datetime`, except that `now` answers the moment pinned by this thread, if any."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _EngineDatetime:
        moment: datetime | None = getattr(_pinned, "moment", None)
        if moment is None:
            return super().now(tz)
        local = moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)
        return cls.fromisoformat(local.isoformat())


timer.datetime = _EngineDatetime


def now() -> datetime:
    """Return the current moment in UTC: the real one, or the one a diagram test has set."""
    moment = simulated_moment()
    return moment if moment is not None else datetime.now(UTC)


def simulated_moment() -> datetime | None:
    """Return the moment `simulated` set in this thread (UTC), or None when time is real."""
    moment: datetime | None = getattr(_simulated, "moment", None)
    return moment


@contextmanager
def simulated(moment: datetime) -> Iterator[None]:
    """Make `now` (and so `calendar.today`) answer `moment` in this thread until the block ends.

    For diagram tests, which walk a case through its days: deadlines, due dates and the engine's
    timers all read the same moment. The application itself never sets it.
    """
    previous = getattr(_simulated, "moment", None)
    _simulated.moment = moment.astimezone(UTC)
    try:
        yield
    finally:
        _simulated.moment = previous


@contextmanager
def pinned(moment: datetime) -> Iterator[datetime]:
    """Make the engine, in this thread, read `moment` as the time until the block ends."""
    previous = getattr(_pinned, "moment", None)
    _pinned.moment = moment
    try:
        yield moment
    finally:
        _pinned.moment = previous
