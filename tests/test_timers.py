"""The engine's timers: the next due time is known, and firing a due timer moves the workflow on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

from trigger_workflow.engine import workflow as engine
from trigger_workflow.engine.loader import ProcessFiles, load_specs

TIMER_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="timer_process" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Five days">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" name="Done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_due_timer_fires_and_workflow_finishes() -> None:
    """A five-day timer reports its due time, does not fire early, and fires once due."""
    spec, subs = load_specs(ProcessFiles({"timer.bpmn": TIMER_DIAGRAM}), "timer_process")
    workflow, _ = engine.start(spec, subs)
    due = engine.next_timer_due(workflow)
    assert due is not None
    assert timedelta(days=4, hours=23) < due - datetime.now(UTC) <= timedelta(days=5)
    engine.fire_timers(workflow)
    assert not workflow.is_completed()
    later = datetime.now(UTC) + timedelta(days=6)
    with mock.patch("SpiffWorkflow.bpmn.specs.event_definitions.timer.datetime") as clock:
        clock.now.return_value = later
        clock.fromisoformat = datetime.fromisoformat
        clock.combine = datetime.combine
        report = engine.fire_timers(workflow)
    assert workflow.is_completed()
    assert engine.end_reached(workflow) == "Done"
    assert {"task": "wait", "name": "Five days"} in report.automatic
    assert engine.next_timer_due(workflow) is None
