"""The diagrams of a case, drawn from their BPMNDI with the case's current position marked."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from trigger_workflow import diagrams
from trigger_workflow.engine import positions
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks.records import load_workflow
from trigger_workflow.store.models import Case

BPMN = diagrams.BPMN
BPMNDI = diagrams.BPMNDI
DC = diagrams.DC


@dataclass(frozen=True)
class CaseDiagram:
    """One process diagram of a case as SVG, with what is completed and what waits."""

    process_id: str
    name: str
    svg: str
    waiting: bool


@dataclass(frozen=True)
class StageProgress:
    """One stage of the main diagram and how far the case has gone with it."""

    name: str
    status: str  # "Completed", "In progress", "Not started" or "Not reached"


@dataclass(frozen=True)
class CasePosition:
    """A case's stages in diagram order and its diagrams with the current position marked."""

    stages: list[StageProgress]
    diagrams: list[CaseDiagram]


def case_position(case: Case) -> CasePosition:
    """Return the stages a case has reached and its diagrams, main diagram first."""
    deployed = processes.deployed(case.process_version)
    files = _process_files(deployed)
    found = positions.positions(load_workflow(case))
    return CasePosition(_stages(case, files, found[0]), _diagrams(files, found))


def _stages(
    case: Case, files: dict[str, tuple[str, bytes]], main: positions.Position
) -> list[StageProgress]:
    """List the main diagram's stages in drawn order, with how far the case has gone."""
    stages = []
    for ident, name in _call_activities(files, main.process_id):
        if ident in main.waiting:
            status = "In progress"
        elif ident in main.completed:
            status = "Completed"
        else:
            status = "Not reached" if case.status == "closed" else "Not started"
        stages.append(StageProgress(name, status))
    return stages


def stage_names(deployed: processes.DeployedProcess) -> list[str]:
    """Return the names of a version's stages (the main diagram's call activities), in order."""
    files = _process_files(deployed)
    return [name for _, name in _call_activities(files, deployed.specs.spec.name)]


def _call_activities(files: dict[str, tuple[str, bytes]], process_id: str) -> list[tuple[str, str]]:
    """Return (id, name) of a process's call activities, left to right as drawn."""
    if process_id not in files:
        return []
    root = etree.fromstring(files[process_id][1])
    process = next(p for p in root.iter(f"{{{BPMN}}}process") if p.get("id") == process_id)
    # Stages in the order they are drawn, left to right (document order is the modeler's whim).
    left = {
        shape.get("bpmnElement"): float(bounds.get("x", 0))
        for shape in root.iter(f"{{{BPMNDI}}}BPMNShape")
        for bounds in shape.iter(f"{{{DC}}}Bounds")
    }
    activities = list(process.iter(f"{{{BPMN}}}callActivity"))
    activities.sort(key=lambda a: left.get(a.get("id"), 0.0))
    return [(a.get("id", ""), a.get("name") or a.get("id", "")) for a in activities]


def _diagrams(
    files: dict[str, tuple[str, bytes]], found: list[positions.Position]
) -> list[CaseDiagram]:
    """Draw the main diagram and the diagram of each stage the case is waiting in."""
    shown: list[CaseDiagram] = []
    for position in found:
        main = not shown
        if not (main or position.waiting) or position.process_id not in files:
            continue
        name, xml = files[position.process_id]
        svg = diagrams.render_svg(xml, position.process_id, position.completed, position.waiting)
        shown.append(CaseDiagram(position.process_id, name, svg, bool(position.waiting)))
    return shown


_files_by_version: dict[str, dict[str, tuple[str, bytes]]] = {}


def _process_files(deployed: processes.DeployedProcess) -> dict[str, tuple[str, bytes]]:
    """Map each process id of a version to its name and the BPMN file that holds it (cached)."""
    cached = _files_by_version.get(deployed.content_hash)
    if cached is not None:
        return cached
    found = {}
    for text in deployed.files.named((".bpmn",)).values():
        xml = text.encode("utf-8")
        root = etree.fromstring(xml)
        for process in root.iter(f"{{{BPMN}}}process"):
            found[process.get("id", "")] = (process.get("name") or process.get("id", ""), xml)
    _files_by_version[deployed.content_hash] = found
    return found
