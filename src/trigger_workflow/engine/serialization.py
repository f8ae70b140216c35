"""Turn workflows into JSON and back, keeping the spec apart from each case's state."""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
SERIALIZER_VERSION: str = SERIALIZER.VERSION


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


def load_specs(spec_json: str) -> tuple[Any, dict[str, Any]]:
    """Restore a process spec and the specs it calls from their stored JSON."""
    registry = SERIALIZER.registry
    dct = json.loads(spec_json)
    subprocess_specs = {name: registry.restore(s) for name, s in dct["subprocess_specs"].items()}
    return registry.restore(dct["spec"]), subprocess_specs


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize a case's workflow state without the spec it runs on."""
    dct = SERIALIZER.to_dict(workflow)
    del dct["spec"], dct["subprocess_specs"]
    return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))


def load_state(state: str, spec_json: str, serializer_version: str) -> BpmnWorkflow:
    """Restore a case's workflow from its state and the spec of its process version."""
    dct = json.loads(state)
    dct.update(json.loads(spec_json))
    dct[SERIALIZER.VERSION_KEY] = serializer_version
    SERIALIZER.migrate(dct)
    return SERIALIZER.from_dict(dct)
