"""What the bench runs: the main path's steps and answers, the officers, and the eight-forms diagram."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from trigger_workflow.samples import ANSWERS, APPLICATION
from trigger_workflow.schema_forms import encode_form

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
EIGHT_FORMS = ROOT.parent / "shared" / "bench" / "eight-forms"
EIGHT_FORMS_PROCESS = "Process_eight_forms"
MAIN_PROCESS = "community_trigger"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# No task of its own; the [default] is for versions of the project that want every task covered.
TIMESCALES = '[tasks]\n\n[default]\ndays = 5\nfrom = "ready"\n'

PUBLIC = "public"


@dataclass(frozen=True)
class Step:
    """One user task to complete: which (by BPMN id and agency), with what, by whom."""

    task: str
    data: dict[str, Any]
    officer: str
    agency: str | None = None

    @property
    def label(self) -> str:
        """Return a short name for tables."""
        return f"{self.task} ({self.agency})" if self.agency else self.task


MAIN_PATH = [
    Step("submit_application", APPLICATION, PUBLIC),
    Step("acknowledge_application", ANSWERS["acknowledge_application"], "carol"),
    Step("record_complaints", ANSWERS["record_complaints"], "carol"),
    Step("decide_threshold", ANSWERS["decide_threshold"], "carol"),
    Step("choose_agencies", ANSWERS["choose_agencies"], "carol"),
    Step("answer_information_request", ANSWERS["answer_information_request"], "pete", "police"),
    Step("answer_information_request", ANSWERS["answer_information_request"], "hana", "housing"),
    Step("hold_review_meeting", ANSWERS["hold_review_meeting"], "ingrid"),
    Step("send_outcome_notice", ANSWERS["send_outcome_notice"], "carol"),
    Step("record_appeal", ANSWERS["record_appeal"], "carol"),
]

EIGHT_STEPS = [
    Step(f"Task_{n}", {f"name_{n}": "x", f"amount_{n}": n, f"dept_{n}": "IT"}, "carol")
    for n in range(1, 9)
]


def form_schema(forms_dir: Path, name: str) -> dict[str, Any]:
    """Return a form (JSON Schema) by file name."""
    result: dict[str, Any] = json.loads((forms_dir / name).read_text(encoding="utf-8"))
    return result


encode = encode_form


def prepare_eight_forms(target: Path) -> tuple[Path, Path]:
    """Write a deployable copy of eight-forms (one Coordinator lane); return its dirs."""
    processes_dir, forms_dir = target / "processes", target / "forms"
    processes_dir.mkdir(parents=True)
    forms_dir.mkdir()
    for form in sorted(EIGHT_FORMS.glob("form_*.json")):
        shutil.copy(form, forms_dir / form.name)
    tree = etree.parse(str(EIGHT_FORMS / "eight_forms.bpmn"))
    _add_lane(tree.getroot().find(f"{{{BPMN}}}process"), "Coordinator")
    tree.write(str(processes_dir / "eight_forms.bpmn"), xml_declaration=True, encoding="UTF-8")
    (processes_dir / "lanes.toml").write_text('[lanes]\n"Coordinator" = "coordinator"\n')
    (processes_dir / "timescales.toml").write_text(TIMESCALES)
    return processes_dir, forms_dir


def _add_lane(process: Any, name: str) -> None:
    """Put every flow node of a process into one lane of a new lane set."""
    flow_nodes = [
        child.get("id")
        for child in process
        if isinstance(child.tag, str)
        and etree.QName(child).localname not in ("sequenceFlow", "laneSet", "extensionElements")
    ]
    lane_set = etree.Element(f"{{{BPMN}}}laneSet", id="LaneSet_bench")
    lane = etree.SubElement(lane_set, f"{{{BPMN}}}lane", id="Lane_bench", name=name)
    for node in flow_nodes:
        etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = node
    process.insert(0, lane_set)
