"""The engine's clock: a moment pinned for one run is what the engine reads, in that thread only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions import timer

from tests.test_timers import TIMER_DIAGRAM
from trigger_workflow.engine import clock
from trigger_workflow.engine import workflow as engine
from trigger_workflow.engine.loader import ProcessFiles, load_specs


def test_pinned_moment_is_read_by_the_engine_in_this_thread_only() -> None:
    """Inside `pinned` the timer module's now() is the moment; another thread sees the real time."""
    moment = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    seen: list[datetime] = []
    with clock.pinned(moment):
        assert timer.datetime.now(UTC) == moment
        other = threading.Thread(target=lambda: seen.append(timer.datetime.now(UTC)))
        other.start()
        other.join()
    assert abs(seen[0] - datetime.now(UTC)) < timedelta(minutes=5)
    assert abs(timer.datetime.now(UTC) - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_run_records_the_moment_it_used() -> None:
    """Starting a workflow at a given moment sets its timer from that moment and reports it."""
    spec, subs = load_specs(ProcessFiles({"timer.bpmn": TIMER_DIAGRAM}), "timer_process")
    moment = datetime(2030, 1, 1, 12, tzinfo=UTC)
    workflow, report = engine.start(spec, subs, now=moment)
    assert report.now == moment.isoformat()
    assert engine.next_timer_due(workflow) == moment + timedelta(days=5)
    fired = engine.fire_timers(workflow, now=moment + timedelta(days=5, seconds=1))
    assert (
        workflow.is_completed() and fired.now == (moment + timedelta(days=5, seconds=1)).isoformat()
    )
