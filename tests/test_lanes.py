"""Lanes map to roles in processes/lanes.toml; deployment refuses a lane that is not mapped."""

from __future__ import annotations

import pytest

from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import DiagramError
from trigger_workflow.services.process_owners import processes


def test_lane_mapped_to_an_unknown_role_is_refused(process_files: ProcessFiles) -> None:
    """A typo in a role name is a deployment error naming the lane, the role and the choices."""
    files = dict(process_files.files)
    files["lanes.toml"] = files["lanes.toml"].replace('"chair"', '"chiar"')
    with pytest.raises(DiagramError) as raised:
        processes.check(ProcessFiles(files))
    messages = [str(p) for p in raised.value.problems]
    assert any(
        "lanes.toml" in m and "Review chair" in m and "'chiar'" in m and "coordinator" in m
        for m in messages
    ), messages


def test_new_lane_is_refused_until_it_is_mapped(process_files: ProcessFiles) -> None:
    """A process owner renames a lane in a diagram: deployment names the task and the lane until
    lanes.toml maps it; mapped, the same files deploy."""
    files = dict(process_files.files)
    diagram = next(
        name
        for name, text in files.items()
        if name.endswith(".bpmn") and 'name="Review chair"' in text
    )
    files[diagram] = files[diagram].replace('name="Review chair"', 'name="Independent chair"')
    with pytest.raises(DiagramError) as raised:
        processes.check(ProcessFiles(files))
    messages = [str(p) for p in raised.value.problems]
    assert any("Independent chair" in m and "does not map to a role" in m for m in messages)
    files["lanes.toml"] += '"Independent chair" = "chair"\n'
    _, lanes, _ = processes.check(ProcessFiles(files))
    assert lanes["Independent chair"] == "chair"
