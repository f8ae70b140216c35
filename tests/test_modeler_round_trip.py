"""Diagrams saved by the browser modeler (bpmn-js, through bpmn-moddle) still deploy unchanged."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from trigger_workflow.engine.loader import ProcessFiles, decode_xml
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.process_owners.process_diff import diff


def test_every_diagram_saved_by_the_modeler_deploys_with_no_element_changed(
    process_files: ProcessFiles, tmp_path: Path
) -> None:
    """The modeler keeps forms, lanes, scripts and loop references: check passes, diff is empty."""
    node = shutil.which("node")
    assert node is not None, "node is needed (script/setup installs the npm packages with it)"
    diagrams = sorted((ROOT / "processes").glob("*.bpmn"))
    subprocess.run(
        [node, str(ROOT / "tests" / "modeler_round_trip.mjs"), str(tmp_path), *map(str, diagrams)],
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    saved = dict(process_files.files)
    for diagram in diagrams:
        text = decode_xml((tmp_path / diagram.name).read_bytes())
        assert text != process_files.files[diagram.name]  # really rewritten by the modeler
        saved[diagram.name] = text
    files = ProcessFiles(saved)
    processes.check(files)
    assert diff(process_files, files) == []
