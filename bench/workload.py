"""What the bench runs: the main path's steps and answers, the officers, and the eight-forms diagram."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
EIGHT_FORMS = ROOT.parent / "shared" / "bench" / "eight-forms"
EIGHT_FORMS_PROCESS = "Process_eight_forms"
MAIN_PROCESS = "community_trigger"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# No task of its own; the [default] is for versions of the project that want every task covered.
TIMESCALES = '[tasks]\n\n[default]\ndays = 5\nfrom = "ready"\n'

OFFICERS = [
    ("carol", "Carol Coordinator", "coordinator", "council"),
    ("pete", "Pete Police", "partner", "police"),
    ("hana", "Hana Housing", "partner", "housing"),
    ("heath", "Heath Health", "partner", "health"),
    ("ingrid", "Ingrid Independent Chair", "chair", "independent"),
    ("olu", "Olu OPCC", "opcc", "opcc"),
]
PUBLIC = "public"

APPLICATION: dict[str, Any] = {
    "channel": "online",
    "basis": "victim",
    "applicant": {
        "name": "Alex Applicant",
        "address": "1 Example Street, Derby",
        "postcode": "DE1 1AA",
        "email": "alex@example.org",
        "preferred_contact": "email",
    },
    "asb_summary": "Loud music and shouting from the flat above most nights since March.",
    "incidents": [
        {
            "behaviour_date": "2026-09-01",
            "location": "Flat 2, Example Street",
            "what_happened": "Music until 3am",
            "reported_on": "2026-09-02",
            "reported_to": "council",
        },
        {
            "behaviour_date": "2026-09-20",
            "location": "Flat 2, Example Street",
            "what_happened": "Shouting and banging",
            "reported_on": "2026-09-21",
            "reported_to": "police",
            "reference": "DP-1234",
        },
    ],
    "impact": "I cannot sleep and my children are frightened.",
    "desired_outcome": "For the noise to stop.",
    "consent_to_share": True,
    "declaration": True,
}
INFORMATION = {
    "information_response": {
        "known_issues": "Two reports logged.",
        "action_taken": "Warning letter.",
    }
}
MEETING = {
    "chair_name": "Ingrid Independent",
    "chair_agency": "independent",
    "conflict_of_interest": True,
    "meeting_date": "2026-12-10",
    "victim_participation": "invited_attended",
    "issues_considered": "Noise nuisance; response so far.",
    "recommendations": [
        {"agency": "housing", "action": "Install noise monitoring", "target_date": "2027-01-15"}
    ],
}


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
    Step(
        "acknowledge_application",
        {
            "named_contact": "Carol Coordinator",
            "acknowledged_on": "2026-11-24",
            "acknowledgement_method": "email",
        },
        "carol",
    ),
    Step("record_complaints", {"qualifying_complaints": 3}, "carol"),
    Step(
        "decide_threshold",
        {"threshold_outcome": "met", "threshold_reasons": "Three qualifying complaints."},
        "carol",
    ),
    Step("choose_agencies", {"agencies": ["police", "housing"]}, "carol"),
    Step("answer_information_request", INFORMATION, "pete", "police"),
    Step("answer_information_request", INFORMATION, "hana", "housing"),
    Step("hold_review_meeting", MEETING, "ingrid"),
    Step(
        "send_outcome_notice",
        {
            "outcome_summary": "The review recommends noise monitoring.",
            "outcome_sent_on": "2026-12-14",
            "outcome_method": "email",
        },
        "carol",
    ),
    Step("record_appeal", {"appeal_received": False}, "carol"),
]

EIGHT_STEPS = [
    Step(f"Task_{n}", {f"name_{n}": "x", f"amount_{n}": n, f"dept_{n}": "IT"}, "carol")
    for n in range(1, 9)
]


def form_schema(forms_dir: Path, name: str) -> dict[str, Any]:
    """Return a form (JSON Schema) by file name."""
    result: dict[str, Any] = json.loads((forms_dir / name).read_text(encoding="utf-8"))
    return result


def encode(
    schema: dict[str, Any], data: Any, path: tuple[str | int, ...] = ()
) -> list[tuple[str, str]]:
    """Turn task data into the fields a browser would post for this schema."""
    name = ".".join(map(str, path))
    kind = schema.get("type")
    if kind == "object":
        return [f for k, v in data.items() for f in encode(schema["properties"][k], v, (*path, k))]
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") == "object":
            return [f for i, item in enumerate(data) for f in encode(items, item, (*path, i))]
        return [(name, str(v)) for v in data]
    if kind == "boolean":
        return [(name, "true" if data else "false")]
    if schema.get("format") == "date":
        year, month, day = data.split("-")
        return [(f"{name}-day", day), (f"{name}-month", month), (f"{name}-year", year)]
    return [(name, str(data))]


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
