"""Turn workflows into JSON and back, keeping the spec apart from each case's state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from trigger_workflow.engine import history, sandbox
from trigger_workflow.errors import EngineError
from trigger_workflow.json_text import read_json

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
SERIALIZER_VERSION: str = SERIALIZER.VERSION
# Scripts are given `date` (and `datetime`, `timedelta`, which the library registers itself):
# what a script may make, a case may keep. Written as engine/wire.py writes it.
SERIALIZER.registry.register(
    date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"])
)


def dump_spec(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """Serialize a process spec and the specs it calls, stored once per process version."""
    registry = SERIALIZER.registry
    return json.dumps(
        {
            "spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class Specs:
    """A process version's specs, restored once and shared by every case on that version."""

    json: str
    spec: Any
    subprocess_specs: dict[str, Any]


def load_specs(spec_json: str) -> Specs:
    """Restore a process spec and the specs it calls from their stored JSON."""
    registry = SERIALIZER.registry
    dct = json.loads(spec_json)
    subprocess_specs = {name: registry.restore(s) for name, s in dct["subprocess_specs"].items()}
    return Specs(spec_json, registry.restore(dct["spec"]), subprocess_specs)


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize a case's workflow state without the spec it runs on, or raise EngineError.

    Data the case cannot keep (nested too deep, a number too long to write, a value of a type
    the serializer does not know) is an engine failure like a failing script: the case is held.
    """
    try:
        return json.dumps(state_dict(workflow), cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    except (RecursionError, ValueError, TypeError, OverflowError, MemoryError) as error:
        kind = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        reason = f"The case's data could not be saved ({type(error).__name__}: {kind})"
        raise EngineError(
            f"{reason}. The case was left as it was before this step.",
            task=None,
            element_id=None,
            line=None,
            reason=reason,
        ) from error


def state_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Return what the library's `to_dict` gives for a workflow, minus its specs and the past
    it no longer needs (finished stages, finished earlier rounds).

    As BpmnWorkflowConverter.to_dict, without converting the spec and the specs it calls (about
    3 ms for a case of the main process) only to throw them away: they are stored once per
    version. The keys come in the library's order, so the JSON is the same text. Finished
    stages and rounds are left out (engine/history.py): the state grows with the open work, not
    with every round of a case; the library's to_dict of the workflow restored from it is this
    same text.
    """
    converter = _workflow_converter()
    dct: dict[str, Any] = super(BpmnWorkflowConverter, converter).to_dict(workflow)
    dropped = history.finished_stages(workflow)
    history.cut_finished_rounds(workflow, dct["tasks"], dropped)
    kept = {k: v for k, v in workflow.subprocesses.items() if k not in dropped}
    dct["subprocesses"] = converter.mapping_to_dict(kept)
    dct["bpmn_events"] = converter.registry.convert(workflow.bpmn_events)
    dct["typename"] = converter.registry.typenames[type(workflow)]  # as the registry adds it
    return dct


def load_state(state: str, specs: Specs, serializer_version: str) -> BpmnWorkflow:
    """Restore a case's workflow from its state, on the already restored specs of its version."""
    dct = read_json(state)
    if serializer_version != SERIALIZER_VERSION:
        # An older serialization may need its specs migrated too: the library's own slow path.
        dct.update(json.loads(specs.json))
        dct[SERIALIZER.VERSION_KEY] = serializer_version
        return _sandboxed(_migrated(dct))
    # As BpmnWorkflowConverter.from_dict, minus restoring the specs: that was most of the cost
    # (about 6 ms of 7 for a case of the main process), and they never change within a version.
    converter = _workflow_converter()
    workflow = BpmnWorkflow(
        specs.spec,
        specs.subprocess_specs,
        script_engine=sandbox.default_engine(),
        deserializing=True,
    )
    workflow.tasks = converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    converter.set_default_attributes(workflow, dct)
    converter.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = SERIALIZER.registry.restore(dct.pop("bpmn_events", []))
    return workflow


def load_state_slowly(state: str, spec_json: str, serializer_version: str) -> BpmnWorkflow:
    """Restore a workflow the library's own way, specs and all (to check load_state against)."""
    dct = json.loads(state)
    dct.update(json.loads(spec_json))
    dct[SERIALIZER.VERSION_KEY] = serializer_version
    return _sandboxed(_migrated(dct))


def _migrated(dct: dict[str, Any]) -> BpmnWorkflow:
    SERIALIZER.migrate(dct)
    return SERIALIZER.from_dict(dct)


def _sandboxed(workflow: BpmnWorkflow) -> BpmnWorkflow:
    """Run a restored workflow's scripts in the sandbox, never the library's default engine."""
    workflow.script_engine = sandbox.default_engine()
    return workflow


def _workflow_converter() -> Any:
    restore = SERIALIZER.registry.convert_from_dict["BpmnWorkflow"]
    return restore.args[0].__self__
