"""Diagrams written by others (../shared/bpmn-corpus): each loads, or is refused with a plain message."""

from __future__ import annotations

from pathlib import Path

import pytest

from trigger_workflow.engine.loader import ProcessFiles, build_parser, decode_xml, load_specs
from trigger_workflow.errors import DiagramError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bpmn-corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.name.endswith((".bpmn", ".bpmn20.xml", ".dmn")))

# What happens to each file when a process owner deploys it alone. Everything not listed loads.
REFUSED = {
    # not well-formed XML
    "events.bpmn": "Namespace prefix bpmn on signalEventDefinition is not defined",
    "ibm-process-designer-8.0.1__A.3.0-export.bpmn": "not well-formed",
    # against the BPMN 2.0 XSD
    "activity-markers-combination.bpmn": "targetNamespace",
    "vertical-pools.bpmn": "targetNamespace",
    "complex.bpmn": "isCollection",
    "duplicate-ids.bpmn": "'test' is not a valid value",
    "invalid-child.bpmn": "someElement",
    "missing-namespace.bpmn": "No matching global declaration",
    "missing-di-plane.bpmn": "bpmndi:BPMNDiagram",
    "sample.bpmn": "bpmn:extensionElements",
    "sequenceFlow-missingWaypoints.bpmn": "bpmndi:BPMNEdge",
    "ibo-prometheus-3.9__A.4.0-roundtrip.bpmn": "sourceRef",
    "modelfoundry-1.1.1__A.4.1-roundtrip.bpmn": "laneSet_",
    "signavio-19.9.0__C.9.0-export.bpmn": "targetRef",
    "data_object_invalid.bpmn": "DataObjectReference",
    # the engine cannot run data stores it has no implementation for
    "B.1.0.bpmn": "Data Store",
    "B.2.0.bpmn": "Data Store",
    "C.1.1.bpmn": "Data Store",
    "C.4.0.bpmn": "Data Store",
    "C.5.0.bpmn": "Data Store",
    "signavio-19.9.0__C.4.0-export.2.bpmn": "Data Store",
}


def test_corpus_is_beside_the_project() -> None:
    """The shared corpus is present (CI clones the project with ../shared beside it)."""
    assert len(FILES) > 80


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_loads_or_is_refused_plainly(path: Path) -> None:
    """A file is parsed with the XSD check, or refused naming the file; never a traceback."""
    files = ProcessFiles({path.name: decode_xml(path.read_bytes())})
    try:
        parser = build_parser(files)
    except DiagramError as error:
        assert path.name in REFUSED, f"unexpectedly refused: {error}"
        problem = error.problems[0]
        assert problem.file == path.name
        assert REFUSED[path.name] in problem.message
        assert "{http" not in problem.message
        return
    assert path.name not in REFUSED, "expected this file to be refused"
    for process_id in parser.get_process_ids():
        try:
            load_specs(files, process_id)
        except DiagramError as error:
            # The engine cannot run it (no start event, a call to a process or decision table in
            # another file, a service task with no operator…): said plainly, naming where.
            problem = error.problems[0]
            assert problem.file in (path.name, f"process '{process_id}'")
            assert len(problem.message) > 10
            assert "{http" not in problem.message and "Traceback" not in problem.message
